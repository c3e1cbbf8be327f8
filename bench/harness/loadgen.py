"""Load generators: wrk for HTTP, pgbench for the database floor, and Python-timed callables.

Each run returns a `LoadResult`; a run with failed requests raises, because a fast error is not
a measurement of the thing under test.
"""

from __future__ import annotations

import json
import math
import re
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parents[1]
WRK_SCRIPT = BENCH_DIR / "wrk" / "profiles.lua"
PGBENCH_DIR = BENCH_DIR / "pgbench"
# wrk and pgbench each use two threads: one per core of the machine the targets are set for.
LOAD_THREADS = 2


class MeasurementError(RuntimeError):
    """A run that cannot count: errors in responses, a tool failing, users running out."""


#: Returns CPU seconds used so far, per part of the stack (see harness.cpu).
CpuProbe = Callable[[], dict[str, float]]


@dataclass(frozen=True)
class LoadResult:
    """One timed run: throughput, latency percentiles (milliseconds), and the CPU microseconds
    each part of the stack spent per operation."""

    per_second: float
    p50_ms: float
    p99_ms: float
    count: int
    seconds: float
    cpu_us: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class CpuMeter:
    """CPU per operation over one run: `start()` before it, `per_operation(count)` after."""

    def __init__(self, probe: CpuProbe | None) -> None:
        self._probe = probe
        self._before: dict[str, float] = {}

    def start(self) -> None:
        self._before = self._probe() if self._probe else {}

    def per_operation(self, count: int) -> dict[str, float]:
        if not self._probe or count == 0:
            return {}
        after = self._probe()
        return {name: round((after[name] - self._before[name]) / count * 1e6, 1) for name in after}


@dataclass(frozen=True)
class Summary:
    """The medians of several runs of one variant, with every run kept for the JSON."""

    per_second: float
    p50_ms: float
    p99_ms: float
    runs: tuple[LoadResult, ...]
    cpu_us: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, runs: Sequence[LoadResult]) -> Summary:
        return cls(
            per_second=statistics.median(run.per_second for run in runs),
            p50_ms=statistics.median(run.p50_ms for run in runs),
            p99_ms=statistics.median(run.p99_ms for run in runs),
            runs=tuple(runs),
            cpu_us={
                name: round(statistics.median(run.cpu_us[name] for run in runs), 1)
                for name in runs[0].cpu_us
            },
        )

    @property
    def cpu_total_us(self) -> float:
        return sum(self.cpu_us.values())

    def as_dict(self) -> dict[str, object]:
        return {
            "per_second": round(self.per_second, 1),
            "p50_ms": round(self.p50_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "cpu_us_per_operation": self.cpu_us,
            "runs": [run.as_dict() for run in self.runs],
        }


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        raise MeasurementError("no samples")
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def interleaved(
    variants: dict[str, Callable[[], LoadResult]],
    runs: int,
    between: Callable[[], None] | None = None,
) -> dict[str, Summary]:
    """Run every variant once per round, `runs` rounds, and take medians.

    Rounds alternate the variants (A B C, A B C, ...) so that a slow minute on a shared machine
    hurts all of them alike instead of one baseline.
    """
    results: dict[str, list[LoadResult]] = {name: [] for name in variants}
    for _round in range(runs):
        for name, run in variants.items():
            results[name].append(run())
            if between is not None:
                between()
    return {name: Summary.of(found) for name, found in results.items()}


# -- wrk --------------------------------------------------------------------------------------


def run_wrk(
    url: str,
    mode: str,
    *,
    apikey: str,
    duration: float,
    connections: int,
    users_file: Path | None = None,
    content_profile: str = "",
    cpu_probe: CpuProbe | None = None,
    api: str = "postgrest",
) -> LoadResult:
    """wrk with bench/wrk/profiles.lua; see the script for the modes and the APIs."""
    threads = min(LOAD_THREADS, connections)
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        str(WRK_SCRIPT),
        url,
        "--",
        mode,
        str(users_file or "-"),
        apikey,
        str(threads),
        content_profile,
        api,
    ]
    meter = CpuMeter(cpu_probe)
    meter.start()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise MeasurementError(f"wrk failed: {result.stderr.strip() or result.stdout.strip()}")
    report = _last_json_line(result.stdout)
    errors = report["errors"]
    failed = sum(errors.values())
    if failed or report["users_exhausted"]:
        raise MeasurementError(
            f"wrk {mode} {url}: {failed} failed requests {errors}, "
            f"fresh users exhausted {report['users_exhausted']} times"
        )
    seconds = report["duration_us"] / 1e6
    latency = report["latency_us"]
    return LoadResult(
        per_second=report["requests"] / seconds,
        p50_ms=latency["p50"] / 1000,
        p99_ms=latency["p99"] / 1000,
        count=report["requests"],
        seconds=seconds,
        cpu_us=meter.per_operation(report["requests"]),
    )


def _last_json_line(output: str) -> dict[str, Any]:
    for line in reversed(output.splitlines()):
        if line.startswith("{"):
            parsed: dict[str, Any] = json.loads(line)
            return parsed
    raise MeasurementError(f"wrk printed no report:\n{output}")


# -- pgbench ----------------------------------------------------------------------------------


def render_pgbench_script(name: str, placeholders: dict[str, str]) -> str:
    """bench/pgbench/<name>.sql with its @NAME@ placeholders filled in."""
    text = (PGBENCH_DIR / f"{name}.sql").read_text()
    for key, value in placeholders.items():
        text = text.replace(f"@{key}@", value)
    if missing := sorted(set(re.findall(r"@([A-Z_]+)@", _without_comments(text)))):
        raise MeasurementError(f"pgbench/{name}.sql: no value for {', '.join(missing)}")
    return text


def _without_comments(script: str) -> str:
    return "\n".join(line for line in script.splitlines() if not line.startswith("--"))


def run_pgbench(
    script: str,
    db_url: str,
    *,
    duration: float,
    clients: int,
    defines: dict[str, str],
    cpu_probe: CpuProbe | None = None,
) -> LoadResult:
    """pgbench with prepared statements (as PostgREST prepares its own), latencies from its log."""
    with tempfile.TemporaryDirectory(prefix="movement-profiles-pgbench-") as folder:
        script_file = Path(folder) / "script.sql"
        script_file.write_text(script)
        log_prefix = Path(folder) / "latency"
        command = [
            "pgbench",
            "--no-vacuum",
            "--protocol=prepared",
            f"--client={clients}",
            f"--jobs={min(LOAD_THREADS, clients)}",
            f"--time={max(1, round(duration))}",
            f"--file={script_file}",
            "--log",
            f"--log-prefix={log_prefix}",
            *(f"--define={key}={value}" for key, value in defines.items()),
            db_url,
        ]
        meter = CpuMeter(cpu_probe)
        meter.start()
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        cpu_us = meter.per_operation(_count_transactions(result.stdout))
        output = result.stdout + result.stderr
        failed = re.search(r"number of failed transactions: (\d+)", output)
        if result.returncode != 0 or failed is None or int(failed.group(1)) != 0:
            raise MeasurementError(f"pgbench failed:\n{output.strip()}")
        latencies_us = sorted(
            int(line.split()[2])
            for log in Path(folder).glob("latency.*")
            for line in log.read_text().splitlines()
            if line
        )
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", output)
    if tps is None:
        raise MeasurementError(f"pgbench printed no tps:\n{output}")
    return LoadResult(
        per_second=float(tps.group(1)),
        p50_ms=percentile(latencies_us, 0.50) / 1000,
        p99_ms=percentile(latencies_us, 0.99) / 1000,
        count=len(latencies_us),
        seconds=duration,
        cpu_us=cpu_us,
    )


def _count_transactions(output: str) -> int:
    found = re.search(r"number of transactions actually processed: (\d+)", output)
    return int(found.group(1)) if found else 0


# -- Python callables -------------------------------------------------------------------------


def time_calls(
    call: Callable[[], object], *, duration: float, cpu_probe: CpuProbe | None = None
) -> LoadResult:
    """Call `call` back to back for `duration` seconds in this thread."""
    latencies: list[float] = []
    meter = CpuMeter(cpu_probe)
    meter.start()
    started = time.perf_counter()
    deadline = started + duration
    now = started
    while now < deadline:
        call()
        finished = time.perf_counter()
        latencies.append(finished - now)
        now = finished
    elapsed = now - started
    latencies.sort()
    return LoadResult(
        per_second=len(latencies) / elapsed,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        count=len(latencies),
        seconds=elapsed,
        cpu_us=meter.per_operation(len(latencies)),
    )


def time_once(command: Sequence[str], *, env: dict[str, str] | None = None) -> float:
    """Wall time of one process from spawn to exit, in seconds; it must succeed."""
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise MeasurementError(
            f"{' '.join(command)} exited {result.returncode}: {result.stderr.strip()[-500:]}"
        )
    return elapsed
