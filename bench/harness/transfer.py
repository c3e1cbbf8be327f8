"""Item 5: `movement-profiles import` and `export` at a million profiles, against `COPY`.

What is measured, for the CLI as a user runs it (a process of its own, the bench stack's service
key in its environment):

- import rows/s (process start to exit, both passes) against `COPY` of the same rows into the
  same table in the same round (the CHECKs and the trigger fire for both), rounds interleaved;
- export rows/s of the whole table to a JSONL file, right after each import;
- the peak resident set of each CLI process;
- a growth table: the same at smaller sizes (one run each), to show time growing with the rows
  and memory not.

Peak resident set: each CLI is started by a small Python process of its own, which reaps it
with `os.wait4` and reports that one child's resource usage (`ru_maxrss`, the high-water mark of
its resident set, `VmHWM`, in kB; a child's own children would count too, and the CLI starts
none here). Not `getrusage(RUSAGE_CHILDREN)` of the bench, the largest of every child it ever
waited for; and not a child of the bench itself, which would start from the bench's own peak
(see `_MEASURE`).
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import loadgen, report
from harness.loadgen import LoadResult, MeasurementError, Summary
from harness.report import Row
from harness.stack import TABLE, BenchStack, UserRange, user_id

TARGETS = {
    "import_copy_ratio": 0.6,
    "export_rows_per_second": 50_000.0,
    "transfer_peak_rss_mb": 200.0,
}
#: Sizes of the growth table, besides the measured size itself (smaller ones only).
GROWTH_SIZES = (10_000, 100_000)

PREFERENCES = ("strength_training", "running", "yoga", "crossfit", "sports", "mixed")
GOALS = ("build_muscle", "lose_fat", "improve_endurance", "rehab", "general_health")


@dataclass(frozen=True)
class ProcessRun:
    """One CLI process: wall seconds, peak resident set (bytes), CPU seconds, what it printed."""

    seconds: float
    peak_rss_bytes: int
    cpu_seconds: float
    stdout: str
    stderr: str

    @property
    def peak_rss_mb(self) -> float:
        return self.peak_rss_bytes / 1_000_000


# Runs the measured command as its own child and reports that child's resource usage. Why a
# process between: Linux carries the peak resident set of the memory a process had before
# `exec` into its `ru_maxrss`, and a child spawned by the bench (vfork or fork) starts out in
# the bench's memory, so it would report at least the bench's own peak. Spawned by this small
# process instead, the command starts from its few megabytes.
_MEASURE = """
import json, os, subprocess, sys, time
with open(sys.argv[1], "wb") as out, open(sys.argv[2], "wb") as err:
    started = time.perf_counter()
    child = subprocess.Popen(sys.argv[3:], stdout=out, stderr=err)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
print(json.dumps({
    "exit_code": os.waitstatus_to_exitcode(status),
    "seconds": seconds,
    "max_rss_kb": usage.ru_maxrss,
    "cpu_seconds": usage.ru_utime + usage.ru_stime,
}))
"""


def run_process(command: list[str], env: dict[str, str]) -> ProcessRun:
    """Run `command` to its end; it must succeed. Its wall time, peak resident set and CPU are
    its own (see `_MEASURE`); its output goes to files (a pipe left unread could block it)."""
    with tempfile.TemporaryDirectory() as folder:
        out, err = Path(folder) / "stdout", Path(folder) / "stderr"
        measured = subprocess.run(
            [sys.executable, "-I", "-c", _MEASURE, str(out), str(err), *command],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        usage = json.loads(measured.stdout)
        stdout, stderr = out.read_text(), err.read_text()
    if usage["exit_code"] != 0:
        raise MeasurementError(
            f"{shlex.join(command)} exited {usage['exit_code']}: {stderr[-500:]}"
        )
    return ProcessRun(
        seconds=usage["seconds"],
        peak_rss_bytes=usage["max_rss_kb"] * 1024,  # kB on Linux
        cpu_seconds=usage["cpu_seconds"],
        stdout=stdout,
        stderr=stderr,
    )


def write_profiles_file(users: UserRange, path: Path) -> None:
    """One JSONL row per user, as `export` would write its fields (without identity), in a
    second or two for a million: the line is formatted, not `json.dumps`ed."""
    with path.open("w") as file:
        for index, number in enumerate(range(users.first, users.last + 1)):
            preferences = f'["{PREFERENCES[index % 6]}", "{PREFERENCES[(index + 1) % 6]}"]'
            file.write(
                f'{{"user_id": "{user_id(number)}", "training_preferences": {preferences}, '
                f'"goals": ["{GOALS[index % 5]}"]}}\n'
            )


@dataclass
class TransferBench:
    """The stack, the CLI and where files go; `users` are the profiles imported and exported."""

    stack: BenchStack
    cli: Path
    environment: dict[str, str]
    workdir: Path
    first_user: int
    rows: int
    runs: int

    def users(self, count: int) -> UserRange:
        return UserRange(self.first_user, count)

    def profiles_file(self, count: int) -> Path:
        path = self.workdir / f"profiles-{count}.jsonl"
        if not path.exists():
            write_profiles_file(self.users(count), path)
        return path

    def stored(self, users: UserRange) -> int:
        return int(
            self.stack.fetch_value(
                f"select count(*) from {TABLE} where user_id in ({users.ids_sql()})"
            )
        )

    def clean(self, users: UserRange) -> None:
        self.stack.delete_profiles(users)
        self.stack.vacuum()

    def import_once(self, count: int) -> ProcessRun:
        users = self.users(count)
        run = run_process(
            [str(self.cli), "import", str(self.profiles_file(count))], self.environment
        )
        if (found := self.stored(users)) != count:
            raise MeasurementError(f"import wrote {found} rows of {count}")
        return run

    def export_once(self) -> tuple[ProcessRun, int]:
        """Export the whole table (the imported profiles and the bench's others) to a file."""
        output = self.workdir / "export.jsonl"
        # Untimed: rows just imported have no hint bits and are not in the visibility map until
        # a vacuum (autovacuum's, on a settled table) has seen them; the first scan after a
        # million-row write pays for that, whatever reads it. Measured without it, the export
        # ran at 22,500-68,500 rows/s from round to round with the same client CPU a row.
        self.stack.vacuum()
        try:
            run = run_process([str(self.cli), "export", "--output", str(output)], self.environment)
            with output.open("rb") as file:
                exported = sum(1 for _ in file)
        finally:
            output.unlink(missing_ok=True)
        return run, exported

    def copy_once(self, count: int) -> float:
        """Seconds to `COPY` the file's rows into the table, streamed from the file."""
        copy_sql = f"copy {TABLE} (user_id, training_preferences, goals) from stdin"
        users = self.users(count)
        with self.stack.connect() as connection, self.profiles_file(count).open() as file:
            started = time.perf_counter()
            with connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
                for line in file:
                    row = json.loads(line)
                    copy.write_row(
                        (
                            row["user_id"],
                            json.dumps(row["training_preferences"]),
                            json.dumps(row["goals"]),
                        )
                    )
            seconds = time.perf_counter() - started
        if (found := self.stored(users)) != count:
            raise MeasurementError(f"COPY wrote {found} rows of {count}")
        return seconds


def _rows_result(rows: int, seconds: float, cpu_us: dict[str, float]) -> LoadResult:
    return LoadResult(
        per_second=rows / seconds,
        p50_ms=seconds * 1000,
        p99_ms=seconds * 1000,
        count=rows,
        seconds=seconds,
        cpu_us=cpu_us,
    )


def bench_transfer(bench: TransferBench) -> tuple[list[Row], dict[str, Any]]:
    stack = bench.stack
    started = time.perf_counter()
    stack.create_users(bench.users(bench.rows))
    bench.profiles_file(bench.rows)
    data: dict[str, Any] = {"setup_seconds": round(time.perf_counter() - started, 1)}
    peaks: dict[str, list[float]] = {"import": [], "export": []}
    exported_rows: list[int] = []
    export_results: list[LoadResult] = []

    def run_import() -> LoadResult:
        users = bench.users(bench.rows)
        meter = loadgen.CpuMeter(stack.cpu_seconds)
        try:
            meter.start()
            run = bench.import_once(bench.rows)
            cpu_us = meter.per_operation(bench.rows)
            cpu_us["client"] = run.cpu_seconds * 1e6 / bench.rows
            peaks["import"].append(run.peak_rss_mb)
            exported, rows = bench.export_once()
            peaks["export"].append(exported.peak_rss_mb)
            exported_rows.append(rows)
            export_results.append(
                _rows_result(rows, exported.seconds, {"client": exported.cpu_seconds * 1e6 / rows})
            )
            return _rows_result(bench.rows, run.seconds, cpu_us)
        finally:
            bench.clean(users)

    def run_copy() -> LoadResult:
        meter = loadgen.CpuMeter(stack.cpu_seconds)
        try:
            meter.start()
            seconds = bench.copy_once(bench.rows)
            return _rows_result(bench.rows, seconds, meter.per_operation(bench.rows))
        finally:
            bench.clean(bench.users(bench.rows))

    bench.clean(bench.users(bench.rows))
    results: dict[str, Summary] = loadgen.interleaved(
        {"import": run_import, "copy": run_copy}, bench.runs
    )
    results["export"] = Summary.of(export_results)
    data["results"] = results
    data["peak_rss_mb"] = peaks
    data["growth"] = [
        *growth_table(bench),
        {
            "rows": bench.rows,
            "import_seconds": round(results["import"].p50_ms / 1000, 2),
            "import_peak_rss_mb": round(max(peaks["import"]), 1),
            "exported_rows": max(exported_rows),
            "export_seconds": round(results["export"].p50_ms / 1000, 2),
            "export_peak_rss_mb": round(max(peaks["export"]), 1),
        },
    ]
    rows = transfer_rows(bench.rows, results, peaks, exported_rows, data["growth"])
    data["command"] = f"{bench.cli.name} import FILE; {bench.cli.name} export --output FILE"
    data["note"] = (
        "cpu_us is CPU microseconds per row (client: the CLI process, from os.wait4); "
        "peak_rss_mb is each CLI process's peak resident set (ru_maxrss of os.wait4)"
    )
    return rows, data


def growth_table(bench: TransferBench) -> list[dict[str, float]]:
    """Import then export at each smaller size, once: seconds and peak resident set."""
    table = []
    for count in [size for size in GROWTH_SIZES if size < bench.rows]:
        users = bench.users(count)
        try:
            imported = bench.import_once(count)
            exported, rows = bench.export_once()
        finally:
            bench.clean(users)
        table.append(
            {
                "rows": count,
                "import_seconds": round(imported.seconds, 2),
                "import_peak_rss_mb": round(imported.peak_rss_mb, 1),
                "exported_rows": rows,
                "export_seconds": round(exported.seconds, 2),
                "export_peak_rss_mb": round(exported.peak_rss_mb, 1),
            }
        )
    return table


def transfer_rows(
    count: int,
    results: dict[str, Summary],
    peaks: dict[str, list[float]],
    exported_rows: list[int],
    growth: list[dict[str, float]],
) -> list[Row]:
    """The table's rows of item 5: the targets, then the growth table (no targets)."""
    imported, copied, exported = results["import"], results["copy"], results["export"]
    ratio = report.paired_ratio(imported, copied)
    limit = TARGETS["transfer_peak_rss_mb"]
    rows = [
        Row(
            item="5",
            measurement=f"`movement-profiles import` of {count:,} profiles (JSONL, both passes)",
            result=f"{imported.per_second:,.0f} rows/s ({count / imported.per_second:.1f} s)",
            baseline=f"COPY into the same table: {copied.per_second:,.0f} rows/s",
            ratio=ratio,
            target=f">= {TARGETS['import_copy_ratio']:.2f}",
            met=ratio >= TARGETS["import_copy_ratio"],
        ),
        Row(
            item="5",
            measurement=f"`movement-profiles export` of {max(exported_rows):,} profiles (JSONL)",
            result=f"{exported.per_second:,.0f} rows/s",
            target=f">= {TARGETS['export_rows_per_second']:,.0f} rows/s",
            met=exported.per_second >= TARGETS["export_rows_per_second"],
        ),
    ]
    for command in ("import", "export"):
        peak = max(peaks[command])
        rows.append(
            Row(
                item="5",
                measurement=f"peak resident set of `{command}` at {count:,} profiles",
                result=f"{peak:.0f} MB (largest of {len(peaks[command])} runs)",
                target=f"< {limit:.0f} MB",
                met=peak < limit,
            )
        )
    for size in growth[:-1]:  # the last is the measured size, whose rows are above
        rows.append(
            Row(
                item="5",
                measurement=f"growth: import, then export, at {size['rows']:,} profiles",
                result=(
                    f"import {size['import_seconds']:.1f} s, {size['import_peak_rss_mb']:.0f} MB; "
                    f"export {size['export_seconds']:.1f} s, {size['export_peak_rss_mb']:.0f} MB"
                ),
            )
        )
    return rows
