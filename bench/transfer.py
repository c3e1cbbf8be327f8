"""`movement-profiles import` and `export` of N profiles against `COPY`, with peak memory
(targets at 1,000,000: import >= 0.6 of COPY's rows/s, export >= 50,000 rows/s, each CLI process's
peak resident set < 200 MB).

The CLI runs as a user runs it, a process of its own with the stack's service key; rows/s from
its start to its exit. `COPY` writes the same rows into the same table (the domains and the trigger
check both), interleaved round by round with the imports; each import is followed by an export of
the whole table, after an untimed VACUUM: rows just written are not yet in the visibility map, and
the first scan after a million-row write would pay for that whatever reads it.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.cli_help import CLI
from bench.measure import TABLE, Bench, MeasurementError, Row, Run, ids_sql, median_ratio, user_id
from tests.support.cli_env import cli_environment
from tests.support.users import create_users

TITLE = "import and export against COPY, with peak memory"
IMPORT_RATIO = 0.6
EXPORT_ROWS_PER_SECOND = 50_000
PEAK_MB = 200.0
FIRST_USER = 5_000_001
PREFERENCES = ("strength_training", "running", "yoga", "crossfit", "sports", "mixed")
GOALS = ("build_muscle", "lose_fat", "improve_endurance", "rehab", "general_health")

# Runs the command as its own child and prints that child's wall time and peak resident set. A
# process between, because Linux carries the peak of the memory a process had before `exec` into
# its `ru_maxrss`: a child forked by the bench would report at least the bench's own peak.
_MEASURE = """
import json, os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
error = child.stderr.read()
_, status, usage = os.wait4(child.pid, 0)
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "error": error.decode()[-500:],
                  "seconds": time.perf_counter() - started, "peak_kb": usage.ru_maxrss}))
"""


def run_cli(bench: Bench, *arguments: str) -> tuple[float, float]:
    """Seconds and peak resident set (MB) of one CLI process, which must succeed."""
    measured = subprocess.run(
        [sys.executable, "-I", "-c", _MEASURE, str(CLI), *arguments],
        capture_output=True,
        text=True,
        check=True,
        env=cli_environment(bench.state),
    )
    usage = json.loads(measured.stdout)
    if usage["code"] != 0:
        raise MeasurementError(f"movement-profiles {arguments[0]}: {usage['error']}")
    return usage["seconds"], usage["peak_kb"] * 1024 / 1e6


def write_profiles(path: Path, count: int) -> None:
    with path.open("w") as file:
        for index in range(count):
            preferences = json.dumps([PREFERENCES[index % 6], PREFERENCES[(index + 1) % 6]])
            file.write(
                f'{{"user_id": "{user_id(FIRST_USER + index)}", '
                f'"training_preferences": {preferences}, "goals": ["{GOALS[index % 5]}"], '
                # As `export` writes a profile without added fields: the form sent as written.
                '"custom_fields": {}}\n'
            )


def run(bench: Bench) -> list[Row]:
    count = bench.transfer_rows
    profiles = bench.workdir / "profiles.jsonl"
    exported = bench.workdir / "export.jsonl"
    write_profiles(profiles, count)
    create_users(bench.state, ids_sql(FIRST_USER, count))
    peaks: dict[str, list[float]] = {"import": [], "export": []}
    exports: list[Run] = []

    def stored() -> int:
        found = bench.sql(
            f"select count(*) from {TABLE} where user_id in ({ids_sql(FIRST_USER, count)})"
        )
        return int(found[0][0])

    def finish(seconds: float, what: str) -> Run:
        if (found := stored()) != count:
            raise MeasurementError(f"{what} wrote {found} rows of {count}")
        bench.delete_profiles(FIRST_USER, count)
        bench.vacuum()
        return Run(count / seconds, seconds * 1000, seconds * 1000)

    def import_then_export() -> Run:
        seconds, peak = run_cli(bench, "import", str(profiles))
        peaks["import"].append(peak)
        bench.vacuum()
        rows = int(bench.sql(f"select count(*) from {TABLE}")[0][0])
        export_seconds, export_peak = run_cli(bench, "export", "--output", str(exported))
        peaks["export"].append(export_peak)
        exports.append(Run(rows / export_seconds, export_seconds * 1000, export_seconds * 1000))
        return finish(seconds, "import")

    def copy() -> Run:
        with bench.connect() as connection, profiles.open() as file:
            started = time.perf_counter()
            with (
                connection.cursor() as cursor,
                cursor.copy(
                    f"copy {TABLE} (user_id, training_preferences, goals) from stdin"
                ) as writer,
            ):
                for line in file:
                    row = json.loads(line)
                    writer.write_row(
                        (
                            row["user_id"],
                            json.dumps(row["training_preferences"]),
                            json.dumps(row["goals"]),
                        )
                    )
            seconds = time.perf_counter() - started
        return finish(seconds, "COPY")

    # No warm-up round: a round here is a million rows, and the first runs no cold code.
    runs = bench.interleaved(
        "transfer", {"import": import_then_export, "copy": copy}, warm_up=False
    )
    bench.raw["transfer"].update(export=exports, peak_mb=peaks)
    export_rate = statistics.median(run.per_second for run in exports)
    ratio = median_ratio(runs["import"], runs["copy"])
    imported = statistics.median(run.per_second for run in runs["import"])
    copied = statistics.median(run.per_second for run in runs["copy"])
    return [
        Row(
            f"import of {count:,} profiles against COPY",
            f"{ratio:.2f} ({imported:,.0f} against {copied:,.0f} rows/s)",
            f">= {IMPORT_RATIO:g}",
            ratio >= IMPORT_RATIO,
        ),
        Row(
            "export of the whole table",
            f"{export_rate:,.0f} rows/s",
            f">= {EXPORT_ROWS_PER_SECOND:,} rows/s",
            export_rate >= EXPORT_ROWS_PER_SECOND,
        ),
        *(
            Row(
                f"peak resident set of `{command}` at {count:,} profiles",
                f"{max(peaks[command]):.0f} MB",
                f"< {PEAK_MB:.0f} MB",
                max(peaks[command]) < PEAK_MB,
            )
            for command in ("import", "export")
        ),
    ]
