"""CPU time spent by the stack's servers, read from /proc.

On a shared two-core machine, requests per second move with whatever else runs; the CPU time a
server spends per request moves far less. Each run records both: throughput for the targets, CPU
per operation to tell which part of the stack a difference comes from.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; everything after its closing parenthesis is
    # space-separated, starting with field 3 (state).
    return text[text.rindex(")") + 2 :].split()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None and int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def process_tree_seconds(pid: int | None) -> float:
    """User + system CPU seconds of `pid` and its children, including children that have exited
    (a parent's reaped children are in its cutime/cstime: PostgreSQL's ended backends).

    A child reaped while the tree is being read would be counted in neither place, so the read
    is repeated until the set of children is the same before and after it.
    """
    if pid is None:
        return 0.0
    for _attempt in range(100):
        children = _children(pid)
        total = _tree_ticks(pid, children)
        if total is None:
            return 0.0
        if _children(pid) == children:
            return total / _TICKS_PER_SECOND
        time.sleep(0.02)
    raise RuntimeError(f"the children of process {pid} kept changing while being measured")


def _tree_ticks(pid: int, children: list[int]) -> int | None:
    fields = _stat_fields(pid)
    if fields is None:
        return None
    # Fields 14-17 of /proc/<pid>/stat (utime, stime, cutime, cstime) are at 11-14 here.
    ticks = sum(int(value) for value in fields[11:15])
    for child in children:
        child_fields = _stat_fields(child)
        if child_fields is not None:
            ticks += sum(int(value) for value in child_fields[11:15])
    return ticks
