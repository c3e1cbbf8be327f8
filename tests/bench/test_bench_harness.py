"""The benchmark harness's own logic, without a stack: `make bench` is not part of `make test`,
so these catch a broken harness (an unfilled pgbench placeholder, a wrong percentile, a table
that lost its ratios) before a benchmark run would."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from harness import loadgen, pre_request, pre_request_profile, report, table_growth
from harness.loadgen import LoadResult, MeasurementError, Summary

PLACEHOLDERS = {
    "TABLE": '"public"."movement_profiles"',
    "SEARCH_PATH": '"public", "public", "extensions"',
    "FIRST_USER": "1",
    "USERS_PER_CLIENT": "64",
    "CLAIMS": """'{"role":"authenticated"}'""",
    "HEADERS": """'{"host":"127.0.0.1"}'""",
    "REQUEST_PATH": "/movement_profiles",
    "PRE_REQUEST": 'select "movement_profiles_internal"."check_request"();',
}


@pytest.mark.parametrize("operation", ["get", "post", "patch"])
def test_pgbench_scripts_have_every_placeholder_filled(operation: str) -> None:
    script = loadgen.render_pgbench_script(operation, PLACEHOLDERS)
    statements = [line for line in script.splitlines() if line and not line.startswith("--")]
    assert not any("@" in line for line in statements if not line.startswith("select set_"))
    assert statements[2].startswith("BEGIN ISOLATION LEVEL READ COMMITTED")
    assert statements[-1] == "COMMIT;"
    assert 'select "movement_profiles_internal"."check_request"();' in statements


def test_a_missing_placeholder_is_an_error_not_a_broken_script() -> None:
    incomplete = {key: value for key, value in PLACEHOLDERS.items() if key != "TABLE"}
    with pytest.raises(MeasurementError, match="TABLE"):
        loadgen.render_pgbench_script("get", incomplete)


def test_percentile_is_nearest_rank() -> None:
    values = [float(number) for number in range(1, 101)]
    assert loadgen.percentile(values, 0.50) == 50.0
    assert loadgen.percentile(values, 0.99) == 99.0
    assert loadgen.percentile([7.0], 0.99) == 7.0
    with pytest.raises(MeasurementError):
        loadgen.percentile([], 0.5)


def result(per_second: float, p50: float, cpu: float) -> LoadResult:
    return LoadResult(per_second, p50, p50 * 3, 100, 1.0, {"postgres": cpu})


def test_summary_takes_the_median_of_each_measure() -> None:
    summary = Summary.of([result(100, 1, 50), result(300, 9, 10), result(200, 5, 30)])
    assert (summary.per_second, summary.p50_ms, summary.cpu_us) == (200, 5, {"postgres": 30})


def test_interleaved_alternates_variants_round_by_round() -> None:
    calls: list[str] = []

    def variant(name: str) -> LoadResult:
        calls.append(name)
        return result(len(calls), 1, 1)

    summaries = loadgen.interleaved({"a": lambda: variant("a"), "b": lambda: variant("b")}, 3)
    assert calls == ["a", "b", "a", "b", "a", "b"]
    assert summaries["a"].per_second == 3  # runs 1, 3, 5


def test_ratios_pair_the_runs_of_each_round() -> None:
    # Round 2 was slow for both sides and round 3 for one: pairing the rounds gives 0.9, where
    # the ratio of the medians would say 0.45.
    measured = Summary.of([result(90, 1, 1), result(45, 1, 1), result(20, 1, 1)])
    baseline = Summary.of([result(100, 1, 1), result(50, 1, 1), result(100, 1, 1)])
    assert report.paired_ratio(measured, baseline) == pytest.approx(0.9)
    assert measured.per_second / baseline.per_second == pytest.approx(0.45)
    uneven = Summary.of([result(80, 1, 1)])
    assert report.paired_ratio(uneven, baseline) == pytest.approx(0.8)


def test_ratio_row_checks_the_target() -> None:
    fast = Summary.of([result(900, 2, 1)])
    baseline = Summary.of([result(1000, 2, 1)])
    row = report.ratio_row("1", "GET", fast, "direct", baseline, minimum=0.85)
    assert row.ratio == pytest.approx(0.9)
    assert row.met is True
    table = report.render_table([row])
    assert "| 1 | GET | 900 req/s" in table
    assert "| 0.90 | >= 0.85 | yes |" in table


def test_results_keep_the_latest_run_and_a_row_per_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report, "RESULTS_DIR", tmp_path)
    monkeypatch.setattr(report, "LATEST", tmp_path / "latest.json")
    monkeypatch.setattr(report, "HISTORY", tmp_path / "history.md")

    def run(started_at: str, met: bool) -> dict[str, object]:
        row = report.Row("1", "GET via gateway", "1 req/s", ratio=0.9, target=">= 0.85", met=met)
        return {
            "started_at": started_at,
            "command": "bash bench/run.sh",
            "seconds": 500.0,
            "machine": {"load_average_at_start": "0.1 0.2 0.3"},
            "rows": [row, report.Row("6", "--help", "0.2 s")],
        }

    report.write_results(run("2026-01-01T00:00:00Z", True))
    report.write_results(run("2026-01-02T00:00:00Z", False))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["history.md", "latest.json"]
    assert '"started_at": "2026-01-02T00:00:00Z"' in (tmp_path / "latest.json").read_text()
    rows = [line for line in (tmp_path / "history.md").read_text().splitlines() if "| 2026" in line]
    assert rows == [
        "| 2026-01-01T00:00:00Z | `bash bench/run.sh` | 500 | 1 of 1 | none | 0.1 0.2 0.3 |",
        "| 2026-01-02T00:00:00Z | `bash bench/run.sh` | 500 | 0 of 1 | GET via gateway (>= 0.85) "
        "| 0.1 0.2 0.3 |",
    ]
    # A run of some items only has a file of its own: latest.json stays the last full run.
    partial = report.write_results(run("2026-01-03T00:00:00Z", True), ["5", "8"])
    assert partial.name == "items-5-8-20260103T000000Z.json"
    assert '"started_at": "2026-01-02T00:00:00Z"' in (tmp_path / "latest.json").read_text()
    assert "| 2026-01-03T00:00:00Z |" in (tmp_path / "history.md").read_text()


def test_the_checks_cost_is_the_median_of_each_rounds_difference() -> None:
    # Round 2 was busy for both runs: pairing the rounds keeps it from moving the cost.
    with_check = Summary.of([result(1, 1, 80), result(1, 1, 160), result(1, 1, 82)])
    without = Summary.of([result(1, 1, 50), result(1, 1, 130), result(1, 1, 60)])
    cost = pre_request.paired_cpu_difference(with_check, without)
    assert cost == {"median": 30.0, "rounds": [30.0, 30.0, 22.0]}


def test_single_user_input_is_whole_transactions_ending_each_statement_with_an_empty_line() -> None:
    token, claims = pre_request_profile.session_token("secret")
    text = pre_request_profile.transactions(3, ("select 1", "select 2"), token, claims)
    statements = text.split(";\n\n")
    assert statements[-1] == ""
    assert statements[:4] == [
        "begin isolation level read committed read only",
        statements[1],
        "select 1",
        "select 2",
    ]
    assert statements[4] == "commit"
    assert len(statements) == 3 * 5 + 1
    assert f"Bearer {token}" in statements[1]
    assert claims in statements[1]
    # Nothing inside a statement may end it early: no semicolon-newline-newline in the settings.
    assert ";\n\n" not in statements[1]


def test_the_profiles_parts_are_pieces_of_the_check_as_its_migration_writes_it() -> None:
    project = Path(__file__).resolve().parents[2]
    migrations = sorted((project / "supabase" / "migrations").glob("*.sql"))
    defining = [
        path
        for path in migrations
        if "function movement_profiles_internal.check_request()" in path.read_text()
    ]

    def words(sql: str) -> str:
        # Comments and line breaks aside: the same code, as PostgreSQL reads it.
        return " ".join(re.sub(r"--[^\n]*", "", sql).split())

    latest = words(defining[-1].read_text())
    missing = [
        fragment
        for fragment in pre_request_profile.CHECK_FRAGMENTS
        if words(fragment) not in latest
    ]
    assert not missing, f"{defining[-1].name} changed: update bench/harness/pre_request_profile.py"


def test_the_profile_splits_the_check_into_parts_that_add_up() -> None:
    base = 100_000.0
    added = {
        "select 1": 30_000.0,
        "empty": 20_000.0,
        "path test": 5_000.0,
        "authorization header": 40_000.0,
        "token algorithm": 50_000.0,
        "claims": 20_000.0,
        "user lookup": 50_000.0,
        "request time limit": 10_000.0,
    }
    instructions = {
        "none": base,
        "select 1": base + added["select 1"],
        "empty": base + 50_000,
        "path test": base + 55_000,
        "host path": base + 15_000,
        "check on a host path": base + 22_000,
        "authorization header": base + 90_000,
        "token algorithm": base + 140_000,
        "claims": base + 70_000,
        "user lookup": base + 100_000,
        "request time limit": base + 60_000,
        "check": base + 300_000,
        "check twice": base + 500_000,
    }
    rows, data = pre_request_profile.profile_rows(
        instructions,
        {
            "none": [30.0, 31.0, 50.0],
            "check": [60.0, 49.0, 85.0],
            "host path": [40.0, 41.0, 60.0],
            "check on a host path": [42.0, 44.0, 61.0],
        },
    )
    assert data["instructions_added"]["check twice"] == 200_000
    assert data["instructions_added"]["check on a host path"] == 7_000
    assert data["timed_host_path_cost_us"] == {"median": 2.0, "rounds": [2.0, 3.0, 1.0]}
    assert rows[1].met is True
    assert "+2.0 µs" in rows[1].result
    assert {name: data["instructions_added"][name] for name in added} == added
    assert data["instructions_rest"] == 300_000 - sum(added.values())
    assert data["timed_cost_us"] == {"median": 30.0, "rounds": [30.0, 18.0, 35.0]}
    assert rows[0].met is False
    assert "+30.0 µs" in rows[0].result
    assert rows[-1].result == "+75.0 k per transaction"


def test_the_table_grows_through_the_sizes_up_to_profiles() -> None:
    assert table_growth.sizes(1_000_000) == [10_000, 100_000, 1_000_000]
    assert table_growth.sizes(20_000) == [10_000, 20_000]
    assert table_growth.sizes(5_000) == [5_000]


def test_the_growth_table_has_a_row_per_size_and_columns_per_connection_count() -> None:
    growth = [
        {"rows": rows, "connections": connections, "p50_ms": p50, "p99_ms": p50 * 2}
        for rows, connections, p50 in (
            (10_000, 1, 0.5),
            (10_000, 16, 6.0),
            (100_000, 1, 0.6),
            (100_000, 16, 7.0),
        )
    ]
    assert table_growth.growth_table(growth).splitlines() == [
        "| rows | 1 conn. p50 ms | 1 conn. p99 ms | 16 conn. p50 ms | 16 conn. p99 ms |",
        "| ---: | ---: | ---: | ---: | ---: |",
        "| 10,000 | 0.50 | 1.00 | 6.00 | 12.00 |",
        "| 100,000 | 0.60 | 1.20 | 7.00 | 14.00 |",
    ]


def test_each_process_reports_its_own_peak_resident_set() -> None:
    """Item 5's memory numbers: a large process does not lend its peak to the next one (as
    `getrusage(RUSAGE_CHILDREN)`'s maximum over all children would)."""
    from harness.transfer import run_process

    python = [sys.executable, "-c"]
    large = run_process([*python, "block = bytearray(80_000_000); print(len(block))"], env={})
    small = run_process([*python, "print(1)"], env={})
    assert large.stdout.strip() == "80000000"
    assert large.peak_rss_mb >= 80
    assert small.peak_rss_mb < large.peak_rss_mb - 60
    with pytest.raises(MeasurementError, match="exited 3"):
        run_process([*python, "raise SystemExit(3)"], env={})


def test_the_transfer_rows_check_every_target() -> None:
    from harness import transfer

    def summary(per_second: float) -> Summary:
        return Summary.of([LoadResult(per_second, 1.0, 1.0, 1, 1.0)])

    results = {"import": summary(40_000), "copy": summary(50_000), "export": summary(60_000)}
    peaks = {"import": [90.0, 95.0], "export": [60.0, 250.0]}
    growth = [{"rows": 10_000, "import_seconds": 1.0, "import_peak_rss_mb": 55.0,
               "export_seconds": 0.5, "export_peak_rss_mb": 54.0}, {"rows": 1_000_000}]  # fmt: skip
    rows = transfer.transfer_rows(1_000_000, results, peaks, [1_000_100], growth)
    assert [(row.target, row.met) for row in rows] == [
        (">= 0.60", True),
        (">= 50,000 rows/s", True),
        ("< 200 MB", True),
        ("< 200 MB", False),
        ("", None),
    ]
    assert rows[0].ratio == pytest.approx(0.8)
    assert "95 MB" in rows[2].result
