"""The report: a table with ratios against the baselines of the same run, the machine it ran on,
bench/results/latest.json with a row of bench/results/history.md, and the summary block of
docs/benchmarks.md."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import statistics
import subprocess
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness.loadgen import Summary

BENCH_DIR = Path(__file__).resolve().parents[1]
RESULTS_DIR = BENCH_DIR / "results"
README = BENCH_DIR.parent / "docs" / "benchmarks.md"
LATEST = RESULTS_DIR / "latest.json"
HISTORY = RESULTS_DIR / "history.md"
HISTORY_HEADER = (
    "# Benchmark runs\n\n"
    "One row per `make bench`, newest last; the latest run in full is `latest.json`, its table in\n"
    "docs/benchmarks.md.\n\n"
    "| run (UTC) | command | seconds | targets met | targets missed | load average at start |\n"
    "| --- | --- | --- | --- | --- | --- |\n"
)
README_START = "<!-- bench:latest -->"
README_END = "<!-- /bench:latest -->"


@dataclass(frozen=True)
class Row:
    """One line of the table: a measurement, its baseline and the ratio between them."""

    item: str
    measurement: str
    result: str
    baseline: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None


def rate(summary: Summary, unit: str = "req/s") -> str:
    return (
        f"{summary.per_second:,.0f} {unit}, "
        f"p50 {summary.p50_ms:.1f} ms, p99 {summary.p99_ms:.1f} ms"
    )


def ratio_row(
    item: str,
    measurement: str,
    measured: Summary,
    baseline_name: str,
    baseline: Summary,
    *,
    minimum: float | None = None,
    unit: str = "req/s",
) -> Row:
    """Throughput of `measured` as a fraction of `baseline`, checked against `minimum`."""
    ratio = paired_ratio(measured, baseline)
    return Row(
        item=item,
        measurement=measurement,
        result=rate(measured, unit),
        baseline=f"{baseline_name}: {rate(baseline, unit)}",
        ratio=ratio,
        target="" if minimum is None else f">= {minimum:.2f}",
        met=None if minimum is None else ratio >= minimum,
    )


def paired_ratio(measured: Summary, baseline: Summary) -> float:
    """The median of the per-round ratios: round i of both ran back to back, so a slow minute
    of a shared machine hits both sides of each ratio (steadier than a ratio of medians)."""
    if len(measured.runs) != len(baseline.runs):
        return measured.per_second / baseline.per_second
    return statistics.median(
        run.per_second / base.per_second
        for run, base in zip(measured.runs, baseline.runs, strict=True)
    )


def render_table(rows: list[Row]) -> str:
    lines = [
        "| # | measurement | result | baseline (same run) | ratio | target | met |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        ratio = "" if row.ratio is None else f"{row.ratio:.2f}"
        met = {True: "yes", False: "**no**", None: ""}[row.met]
        lines.append(
            f"| {row.item} | {row.measurement} | {row.result} | {row.baseline} | {ratio} "
            f"| {row.target} | {met} |"
        )
    return "\n".join(lines)


# peer: the story's service (item 7); wrk: the load generator, where a section measures it.
CPU_PARTS = ("postgres", "postgrest", "nginx", "client", "peer", "wrk")


def render_details(sections: dict[str, dict[str, Any]]) -> str:
    """Every variant measured: medians, and the CPU microseconds each part spent per operation
    (the part of the numbers that moves least on a busy machine)."""
    lines = [
        "| # | variant | per second | p50 ms | p99 ms | CPU µs/op: " + " | ".join(CPU_PARTS) + " |",
        "| --- | --- | ---: | ---: | ---: | " + " | ".join("---:" for _ in CPU_PARTS) + " |",
    ]
    for item in sorted(sections):
        for name, summary in _summaries(sections[item].get("results", {})):
            cpu = " | ".join(
                f"{summary.cpu_us[part]:.0f}" if part in summary.cpu_us else ""
                for part in CPU_PARTS
            )
            lines.append(
                f"| {item} | {name} | {summary.per_second:,.0f} | {summary.p50_ms:.2f} "
                f"| {summary.p99_ms:.2f} | {cpu} |"
            )
    return "\n".join(lines)


def _summaries(results: object, prefix: str = "") -> Iterator[tuple[str, Summary]]:
    if isinstance(results, Summary):
        yield prefix, results
    elif isinstance(results, dict):
        for name, value in results.items():
            yield from _summaries(value, f"{prefix}, {name}" if prefix else str(name))


def _first_line(command: list[str]) -> str:
    if shutil.which(command[0]) is None and not Path(command[0]).exists():
        return "not installed"
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    text = (result.stdout or result.stderr).strip()
    return text.splitlines()[0] if text else "unknown"


def machine(postgrest_binary: Path, postgres_binary: Path) -> dict[str, str]:
    """What the numbers depend on: processor, cores, memory, and the versions of the stack (the
    PostgreSQL server is the bench stack's own: Debian's 15 or npm's 17)."""
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = found.group(1).strip() if found else cpu
    memory = "unknown"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        found = re.search(r"MemTotal:\s*(\d+) kB", meminfo.read_text())
        memory = f"{int(found.group(1)) / 1024 / 1024:.1f} GiB" if found else memory
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "kernel": platform.release(),
        "load_average_at_start": " ".join(f"{value:.2f}" for value in load),
        "python": platform.python_version(),
        "postgres": _first_line([str(postgres_binary), "--version"]),
        "postgrest": _first_line([str(postgrest_binary), "--version"]),
        "nginx": _first_line(["nginx", "-v"]),
        "wrk": _first_line(["wrk", "--version"]).split(" Copyright")[0],
        "pgbench": _first_line(["pgbench", "--version"]),
    }


def write_results(record: dict[str, object], partial: list[str] | None = None) -> Path:
    """bench/results/latest.json (replacing the last run's), and the run's row of history.md.

    A run of some items only (`partial`, their numbers) leaves latest.json, the last full run,
    alone: it goes to a file of its own, named by its items and start time."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = LATEST
    if partial:
        started = str(record["started_at"]).replace("-", "").replace(":", "")
        path = RESULTS_DIR / f"items-{'-'.join(partial)}-{started}.json"
    path.write_text(json.dumps(record, indent=2, default=_json_default) + "\n")
    append_history(json.loads(path.read_text()))
    return path


def history_row(record: dict[str, Any]) -> str:
    """The run as one line of history.md (`record` as latest.json holds it)."""
    targets = [row for row in record["rows"] if row.get("target")]
    met = sum(1 for row in targets if row.get("met"))
    missed = "; ".join(
        f"{row['measurement']} ({row['target']})" for row in targets if not row.get("met")
    )
    cells = [
        record["started_at"],
        f"`{record['command']}`",
        f"{record['seconds']:.0f}",
        f"{met} of {len(targets)}",
        missed.replace("|", "\\|") or "none",
        record["machine"]["load_average_at_start"],
    ]
    return "| " + " | ".join(str(cell) for cell in cells) + " |\n"


def append_history(record: dict[str, Any]) -> None:
    text = HISTORY.read_text() if HISTORY.exists() else HISTORY_HEADER
    HISTORY.write_text(text + history_row(record))


def _json_default(value: object) -> object:
    if isinstance(value, Summary):
        return value.as_dict()
    if isinstance(value, Row):
        return asdict(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def update_readme(summary_markdown: str) -> None:
    """Replace the generated block of docs/benchmarks.md with the latest run's summary."""
    text = README.read_text()
    start = text.index(README_START) + len(README_START)
    end = text.index(README_END)
    README.write_text(text[:start] + "\n" + summary_markdown.strip() + "\n" + text[end:])
