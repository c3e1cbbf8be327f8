"""`make bench` is not part of `make test`; these catch a broken bench before a run would: its
arithmetic and scripts without a stack, and a `--quick` run of every measurement on a throwaway
stack of its own (about a minute; it measures nothing, it only has to work)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import BEGIN, DOCS, END, MEASUREMENTS, write_summary
from bench.measure import (
    BUILT_IN_BODIES,
    MeasurementError,
    Row,
    Run,
    body_sql,
    median_ratio,
    percentile,
    render_pgbench,
)

PLACEHOLDERS = {
    "TABLE": '"public"."movement_profiles"',
    "SEARCH_PATH": '"public", "extensions"',
    "FIRST_USER": "1",
    "USERS_PER_CLIENT": "64",
    "CLAIMS": """'{"role":"authenticated"}'""",
    "HEADERS": """'{"host":"127.0.0.1"}'""",
    "PRE_REQUEST": 'select "movement_profiles_internal"."check_request"();',
}


@pytest.mark.parametrize("operation", ["post", "patch"])
def test_pgbench_scripts_run_postgrest_transaction_with_the_check(operation: str) -> None:
    script = render_pgbench(operation, **PLACEHOLDERS, **body_sql(operation, BUILT_IN_BODIES))
    statements = [line for line in script.splitlines() if line and not line.startswith("--")]
    assert "@" not in "".join(line for line in statements if not line.startswith("select set_"))
    assert statements[2].startswith("BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE")
    assert statements[4] == PLACEHOLDERS["PRE_REQUEST"]
    assert statements[-1] == "COMMIT;"


def test_a_missing_placeholder_is_an_error_not_a_broken_script() -> None:
    with pytest.raises(MeasurementError, match="TABLE"):
        render_pgbench(
            "post",
            **{k: v for k, v in PLACEHOLDERS.items() if k != "TABLE"},
            **body_sql("post", BUILT_IN_BODIES),
        )


def test_percentile_is_nearest_rank() -> None:
    values = [float(number) for number in range(100, 0, -1)]
    assert percentile(values, 0.50) == 50.0
    assert percentile(values, 0.99) == 99.0
    with pytest.raises(MeasurementError):
        percentile([], 0.5)


def test_a_ratio_is_the_median_of_the_rounds_ratios() -> None:
    def runs(*rates: float) -> list[Run]:
        return [Run(rate, 1.0, 2.0) for rate in rates]

    # Per round 0.5, 0.9, 1.0: the median round, not the ratio of the medians (90 / 100).
    assert median_ratio(runs(50, 90, 200), runs(100, 100, 200)) == pytest.approx(0.9)


def test_the_summary_replaces_only_the_block_of_the_docs(tmp_path: Path) -> None:
    docs = tmp_path / "benchmarks.md"
    docs.write_text(DOCS.read_text())
    rows = [Row("GET", "0.90 (900 against 1,000/s)", ">= 0.85", True), Row("peer", "2.0")]
    write_summary("2026-01-01, a machine", rows, tmp_path / "summary.md", docs)
    page = docs.read_text()
    block = page[page.index(BEGIN) : page.index(END)]
    assert "| GET | >= 0.85 | 0.90 (900 against 1,000/s) | yes |" in block
    assert "| peer |  | 2.0 |  |" in block
    before, after = DOCS.read_text().split(BEGIN)[0], DOCS.read_text().split(END)[1]
    assert page.startswith(before + BEGIN)
    assert page.endswith(END + after)
    assert block.removeprefix(BEGIN).strip() in (tmp_path / "summary.md").read_text()


@pytest.mark.integration
def test_a_quick_run_exercises_every_measurement(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--results", str(tmp_path)],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (written,) = tmp_path.glob("*.json")
    record = json.loads(written.read_text())
    measured = " ".join(row["measured"] for row in record["rows"])
    assert "failed:" not in measured
    for module in MEASUREMENTS.values():
        assert f"== {module.TITLE}" in result.stdout
    assert {"validation", "gateway", "sdk", "story_peer", "transfer", "pre_request"} <= set(
        record["raw"]
    )
    # The check ran in the counted transactions: they cost more than the ones without it.
    instructions = record["raw"]["pre_request"]["instructions"]
    assert instructions["check"] > instructions["none"]
    assert (
        instructions["check on a host path"]
        > instructions["select 1 on a host path"]
        > instructions["host path"]
    )
