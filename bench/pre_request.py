"""The pre-request check's cost per request, on the component's path (target: <= 20 µs) and on a
host's path, one that is not the component's (target: <= 5 µs: a host's requests pay for the
check too, and it must return at once there).

PostgREST calls the check as a statement of its own in every request's transaction, so the cost is
the transaction with the call minus the same transaction without it. CPU read from /proc of a
whole server moves by tens of microseconds on a shared machine, so the transactions are fed to one
backend alone: `postgres --single` on a stopped copy of a throwaway stack (its migrations are the
ones measured, nothing is copied from them), no network, no other process in the measure. There
they are counted under callgrind, which gives the same instructions on every run of the same
build, and timed natively (`os.wait4` of the backend, median of rounds). Each at two transaction
counts, so that the backend's start-up cancels out.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import statistics
import subprocess
from collections.abc import Callable
from pathlib import Path

from bench.measure import Bench, MeasurementError, Row
from movement_profiles_cli.stack import processes
from tests.support.stack import throwaway_stack
from tests.support.users import create_user

TITLE = "the pre-request check's cost"
TARGET_US = 20.0
HOST_TARGET_US = 5.0
HOST_PATH = "select set_config('request.path', '/workout_programs', true)"


# PostgREST 12.0.2 sends the hook's call as a prepared statement (`execute <n>` in PostgreSQL's
# statement log), planned once per connection: so is it here, and so is the floor's `select 1`.
HOOK = "execute pre_request_hook"
FLOOR = "execute pre_request_floor"


def prepared(check: str) -> str:
    """The statements a backend prepares once, before its transactions."""
    return f"prepare pre_request_hook as {check};\n\nprepare pre_request_floor as select 1;\n\n"


def variants() -> dict[str, tuple[str, ...]]:
    """What runs after the request's settings, per variant; `select 1` is the floor any
    pre-request function pays (one more statement in the transaction)."""
    return {
        "none": (),
        "select 1": (FLOOR,),
        "check": (HOOK,),
        "host path": (HOST_PATH,),
        "check on a host path": (HOST_PATH, HOOK),
    }


def transactions(count: int, statements: tuple[str, ...], token: str) -> str:
    """`count` transactions as PostgREST 12.0.2 runs a signed-in GET's, for single-user mode
    (`-j`: a statement ends with a semicolon and an empty line)."""
    # The claims PostgREST verified are the token's payload: the check compares the two.
    claims = base64.urlsafe_b64decode(token.split(".")[1] + "==").decode()
    headers = json.dumps(
        {"accept": "application/vnd.pgrst.object+json", "authorization": f"Bearer {token}"}
    )
    settings = (
        "select set_config('search_path', '\"public\", \"extensions\"', true), "
        "set_config('role', 'authenticated', true), "
        f"set_config('request.jwt.claims', '{claims}', true), "
        "set_config('request.method', 'GET', true), "
        "set_config('request.path', '/movement_profiles', true), "
        f"set_config('request.headers', '{headers}', true)"
    )
    one = ("begin isolation level read committed read only", settings, *statements, "commit")
    return "".join(f"{statement};\n\n" for statement in one) * count


def single_user(postgres: Path, pgdata: Path, sql: str, *, counted: bool) -> float:
    """Feed `sql` to one backend: the instructions it executed (`counted`: under callgrind) or
    the CPU seconds of its process. An error fails the measure."""
    command = [str(postgres), "--single", "-j", "-D", str(pgdata), "postgres"]
    if counted:
        command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command]
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        user=processes.service_user(),
        cwd="/",
    )
    assert process.stdin is not None
    assert process.stderr is not None
    process.stdin.write(sql.encode())
    process.stdin.close()
    output = process.stderr.read().decode(errors="replace")
    # Reaped here, not by Popen: wait4 gives this one process's resource usage.
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0 or "ERROR:" in output:
        raise MeasurementError(f"single-user PostgreSQL failed: {output[-800:]}")
    if not counted:
        return usage.ru_utime + usage.ru_stime
    found = re.search(r"Collected : (\d+)", output)
    if found is None:
        raise MeasurementError(f"callgrind printed no count: {output[-500:]}")
    return float(found.group(1))


def per_transaction(
    measure: Callable[[str], float], sql_for: Callable[[int], str], counts: tuple[int, int]
) -> float:
    small, large = counts
    return (measure(sql_for(large)) - measure(sql_for(small))) / (large - small)


def run(bench: Bench) -> list[Row]:
    check = bench.pre_request_sql().rstrip(";")
    if check.startswith("--"):
        raise MeasurementError("the stack configures no db-pre-request function")
    counted_counts, timed_counts, rounds = (
        ((2, 6), (50, 150), 1) if bench.quick else ((50, 250), (2_000, 8_000), 5)
    )
    work = variants()
    with throwaway_stack("movement-profiles-bench-idle-", pg_major=bench.state.pg_major) as idle:
        token = create_user(idle.state).access_token
        idle.down()
        postgres, pgdata = idle.server.postgres, idle.state.pgdata

        def measure(name: str, *, counted: bool, counts: tuple[int, int]) -> float:
            return per_transaction(
                lambda sql: single_user(postgres, pgdata, sql, counted=counted),
                lambda count: prepared(check) + transactions(count, work[name], token),
                counts,
            )

        instructions = {name: measure(name, counted=True, counts=counted_counts) for name in work}
        timed: dict[str, list[float]] = {name: [] for name in work if name != "select 1"}
        for _ in range(rounds):
            for name in timed:
                timed[name].append(measure(name, counted=False, counts=timed_counts) * 1e6)
    bench.raw["pre_request"] = {"instructions": instructions, "timed_us": timed}

    def added(measurement: str, name: str, baseline: str, target: float) -> Row:
        rounds_us = [a - b for a, b in zip(timed[name], timed[baseline], strict=True)]
        cost = statistics.median(rounds_us)
        counted = (instructions[name] - instructions[baseline]) / 1000
        return Row(
            measurement,
            f"+{cost:.1f} µs, +{counted:,.0f} k instructions "
            f"(rounds: {', '.join(f'{value:.1f}' for value in rounds_us)} µs)",
            f"<= {target:g} µs",
            cost <= target,
        )

    floor = (instructions["select 1"] - instructions["none"]) / 1000
    host = added(
        "the check on a host's path, per request (one backend)",
        "check on a host path",
        "host path",
        HOST_TARGET_US,
    )
    beyond = (instructions["check on a host path"] - instructions["host path"]) / 1000 - floor
    return [
        added(
            "the check on the component's path, per request (one backend)",
            "check",
            "none",
            TARGET_US,
        ),
        dataclasses.replace(host, measured=f"{host.measured}; {beyond:,.0f} k beyond the floor"),
        Row(
            "the floor of any pre-request call (`select 1` in its place)",
            f"+{floor:,.0f} k instructions",
        ),
    ]
