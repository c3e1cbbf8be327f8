"""`make bench` (`python -m bench`): each measurement against its target, on a throwaway stack.

Every ratio is the median of interleaved rounds against a baseline measured in the same run. The
run prints a table, writes every run's numbers to bench/results/ (not in git) and, when it measured
everything at full size, rewrites bench/summary.md and the summary in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import tempfile
import time
import traceback
from pathlib import Path
from types import ModuleType

from bench import cli_help, gateway, growth, pre_request, sdk, story_peer, transfer, validation
from bench.measure import BENCH_DIR, Bench, MeasurementError, Row
from tests.support.stack import throwaway_stack

# growth last: it leaves a table of a million rows behind.
MEASUREMENTS: dict[str, ModuleType] = {
    "help": cli_help,
    "gateway": gateway,
    "sdk": sdk,
    "validation": validation,
    "pre_request": pre_request,
    "story_peer": story_peer,
    "transfer": transfer,
    "growth": growth,
}
SUMMARY = BENCH_DIR / "summary.md"
DOCS = BENCH_DIR.parent / "docs" / "benchmarks.md"
BEGIN, END = "<!-- summary: written by make bench -->", "<!-- end of summary -->"


def machine(bench: Bench) -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.machine(),
    )
    version = bench.sql("select current_setting('server_version')")[0][0]
    return (
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, PostgreSQL {version}, {cpu}, "
        f"{os.cpu_count()} cores shared, load average {os.getloadavg()[0]:.1f} at the start; "
        f"{bench.duration} s runs, {bench.rounds} rounds, {bench.connections} connections"
    )


def table(rows: list[Row]) -> str:
    lines = ["| measurement | target | measured | met |", "| --- | --- | --- | --- |"]
    for row in rows:
        met = "" if row.met is None else ("yes" if row.met else "**no**")
        lines.append(f"| {row.measurement} | {row.target} | {row.measured} | {met} |")
    return "\n".join(lines)


def write_summary(header: str, rows: list[Row], summary: Path = SUMMARY, docs: Path = DOCS) -> None:
    """bench/summary.md, and the same table between the markers of docs/benchmarks.md."""
    text = f"{header}\n\n{table(rows)}\n"
    summary.write_text(f"# Benchmark summary\n\nWritten by `make bench`: {text}")
    page = docs.read_text()
    start, end = page.index(BEGIN) + len(BEGIN), page.index(END)
    docs.write_text(f"{page[:start]}\n{text}{page[end:]}")


def measure(bench: Bench, names: list[str]) -> list[Row]:
    rows: list[Row] = []
    bench.prepare()
    for name in names:
        module = MEASUREMENTS[name]
        print(f"== {module.TITLE}", flush=True)
        try:
            found: list[Row] = module.run(bench)
        except MeasurementError as error:
            traceback.print_exc()
            message = " ".join(str(error).split())[:300].replace("|", "/")
            found = [Row(module.TITLE, f"failed: {message}", "", False)]
        print(table(found), flush=True)
        rows.extend(found)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1 s runs, 1 round, small tables: checks every measurement works",
    )
    parser.add_argument(
        "--only", help=f"some measurements, comma-separated: {', '.join(MEASUREMENTS)}"
    )
    parser.add_argument("--profiles", type=int, help="import/export rows and largest table size")
    parser.add_argument("--pg", type=int, help="PostgreSQL major of the throwaway stack")
    parser.add_argument(
        "--results",
        type=Path,
        default=BENCH_DIR / "results",
        help="folder for the run's JSON (default bench/results, not in git)",
    )
    arguments = parser.parse_args()
    names = arguments.only.split(",") if arguments.only else list(MEASUREMENTS)
    if unknown := set(names) - set(MEASUREMENTS):
        parser.error(f"unknown measurements: {', '.join(sorted(unknown))}")
    full = not (arguments.quick or arguments.only or arguments.profiles)
    with (
        throwaway_stack("movement-profiles-bench-", pg_major=arguments.pg) as stack,
        tempfile.TemporaryDirectory(prefix="movement-profiles-bench-") as workdir,
    ):
        bench = Bench(stack.state, Path(workdir), arguments.quick)
        if arguments.profiles:
            bench.transfer_rows = arguments.profiles
            smaller = [size for size in bench.table_sizes if size < arguments.profiles]
            bench.table_sizes = (*smaller, arguments.profiles)
        header = machine(bench)
        rows = measure(bench, names)
        raw = json.loads(json.dumps(bench.raw, default=dataclasses.asdict))
    print(f"\n{header}\n\n{table(rows)}")
    arguments.results.mkdir(parents=True, exist_ok=True)
    path = arguments.results / time.strftime("%Y%m%dT%H%M%SZ.json", time.gmtime())
    record = {"machine": header, "rows": [dataclasses.asdict(row) for row in rows], "raw": raw}
    path.write_text(json.dumps(record, indent=1) + "\n")
    if full:
        write_summary(header, rows)
    print(f"\nresults: {path}" + ("; summary: bench/summary.md" if full else ""))
    # A missed target is a result; a measurement that could not run is a failure.
    return 1 if any(row.measured.startswith("failed:") for row in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
