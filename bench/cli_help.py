"""`movement-profiles --help`: the wall time of the process (target: <= 250 ms, the median of ten
after one unrecorded run that warms the page cache)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.measure import Bench, MeasurementError, Row
from tests.support.cli_env import cli_environment

TITLE = "`movement-profiles --help` time"
TARGET_MS = 250.0
CLI = Path(sys.executable).parent / "movement-profiles"


def run(bench: Bench) -> list[Row]:
    environment = cli_environment(bench.state)

    def once() -> float:
        started = time.perf_counter()
        result = subprocess.run([str(CLI), "--help"], capture_output=True, env=environment)
        if result.returncode != 0:
            raise MeasurementError(f"--help exited {result.returncode}: {result.stderr!r}")
        return (time.perf_counter() - started) * 1000

    once()
    times = [once() for _ in range(3 if bench.quick else 10)]
    bench.raw["cli_help_ms"] = times
    median = statistics.median(times)
    return [
        Row(
            "`movement-profiles --help` wall time, median",
            f"{median:.0f} ms (min {min(times):.0f}, max {max(times):.0f})",
            f"<= {TARGET_MS:.0f} ms",
            median <= TARGET_MS,
        )
    ]
