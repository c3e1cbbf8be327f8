"""Item 9: GET latency through the gateway as the table grows (10,000, 100,000, then `--profiles`).

A GET reads one row by its `user_id` (a unique index), so its latency should not move with the
table's size. The table is grown in place: the 1,024 steady users' profiles stay (they are what
wrk reads, round-robin), and random users with random profiles, drawn as item 3's load_profiles
draws them, are added up to each size. At each size the GET of item 1 runs with 1 connection
(the latency a user sees) and with the bench's connections (under load), interleaved round by
round. Sizes cannot be interleaved (the table only grows), so each size is its own block.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

import psycopg

from harness.loadgen import LoadResult, Summary, interleaved
from harness.report import Row
from harness.stack import TABLE, BenchStack
from movement_profiles_cli.stack.state import ADMIN_USER

SIZES = (10_000, 100_000, 1_000_000)


class GrowthBench(Protocol):
    """What this section needs of run_bench.Bench."""

    stack: BenchStack
    duration: float
    runs: int
    connections: int
    profiles: int

    def wrk(self, base_url: str, mode: str, **options: Any) -> Callable[[float], LoadResult]: ...


def sizes(profiles: int) -> list[int]:
    """The sizes measured: those of SIZES below `profiles`, then `profiles` itself."""
    return sorted({size for size in SIZES if size < profiles} | {profiles})


def add_random_profiles(stack: BenchStack, count: int) -> None:
    """`count` new auth users, each with a profile: every preference and goal present with
    probability 0.3, at least one of each (item 3's distribution). Users created by other items
    (the POST pool) are left without a profile."""
    if count <= 0:
        return
    # `+ 0 * n` ties each subquery to its row, so random() is drawn per profile.
    stack.execute(
        "with new_users as ("
        f"  insert into auth.users (id) select gen_random_uuid() from generate_series(1, {count})"
        "  returning id"
        ") "
        f"insert into {TABLE} (user_id, training_preferences, goals) "
        "select id, "
        "coalesce((select jsonb_agg(v) "
        "from unnest(enum_range(null::public.movement_profile_training_preference)) v"
        """ where random() + 0 * n < 0.3), '["mixed"]'), """
        "coalesce((select jsonb_agg(v) "
        "from unnest(enum_range(null::public.movement_profile_goal)) v"
        """ where random() + 0 * n < 0.3), '["general_health"]') """
        "from (select id, row_number() over () as n from new_users) users"
    )


def settle(stack: BenchStack, timeout: float = 120.0) -> None:
    """VACUUM (ANALYZE) both grown tables, then wait until no autovacuum worker runs: after a
    million inserts autovacuum would otherwise process auth.users during the timed runs, and its
    CPU would count as the GETs' (it is a child of the same postmaster). auth.users belongs to
    Supabase Auth, so the throwaway stack's superuser vacuums it."""
    stack.vacuum()
    with psycopg.connect(stack.db_url(user=ADMIN_USER), autocommit=True) as connection:
        connection.execute("vacuum (analyze) auth.users")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and stack.fetch_value(
        "select count(*) from pg_catalog.pg_stat_activity where backend_type = 'autovacuum worker'"
    ):
        time.sleep(1)


def bench_growth(bench: GrowthBench) -> tuple[list[Row], dict[str, Any]]:
    stack = bench.stack
    counts = sorted({1, bench.connections})
    results: dict[str, dict[str, Summary]] = {}
    growth: list[dict[str, Any]] = []
    load_seconds: dict[str, float] = {}
    for size in sizes(bench.profiles):
        present = int(stack.fetch_value(f"select count(*) from {TABLE}"))
        started = time.perf_counter()
        add_random_profiles(stack, size - present)
        settle(stack)
        rows = int(stack.fetch_value(f"select count(*) from {TABLE}"))
        load_seconds[str(rows)] = round(time.perf_counter() - started, 1)
        variants = {
            f"{connections} conn.": bench.wrk(stack.gateway_url, "get", connections=connections)
            for connections in counts
        }
        for run in variants.values():
            run(1)  # warm-up at this size, unrecorded
        measured = interleaved(
            {name: (lambda run=run: run(bench.duration)) for name, run in variants.items()},
            bench.runs,
        )
        results[f"{rows:,} rows"] = measured
        for connections in counts:
            summary = measured[f"{connections} conn."]
            growth.append(
                {
                    "rows": rows,
                    "connections": connections,
                    "per_second": round(summary.per_second, 1),
                    "p50_ms": round(summary.p50_ms, 3),
                    "p99_ms": round(summary.p99_ms, 3),
                    "postgres_cpu_us": summary.cpu_us.get("postgres"),
                }
            )
    report_rows = [
        Row(
            item="9",
            measurement=f"GET via gateway at {entry['rows']:,} rows, {entry['connections']} conn.",
            result=f"p50 {entry['p50_ms']:.2f} ms, p99 {entry['p99_ms']:.2f} ms "
            f"({entry['per_second']:,.0f} req/s)",
            baseline=_against_smallest(growth, entry),
        )
        for entry in growth
    ]
    print(growth_table(growth), flush=True)
    return report_rows, {
        "results": results,
        "growth": growth,
        "load_seconds": load_seconds,
        "table": growth_table(growth),
    }


def _against_smallest(growth: list[dict[str, Any]], entry: dict[str, Any]) -> str:
    smallest = min(
        (other for other in growth if other["connections"] == entry["connections"]),
        key=lambda other: other["rows"],
    )
    if smallest is entry:
        return ""
    return (
        f"at {smallest['rows']:,} rows: p50 {smallest['p50_ms']:.2f} ms, "
        f"p99 {smallest['p99_ms']:.2f} ms"
    )


def growth_table(growth: list[dict[str, Any]]) -> str:
    """rows x p50 x p99, one column pair per connection count (Markdown)."""
    counts = sorted({entry["connections"] for entry in growth})
    header = "| rows | " + " | ".join(f"{c} conn. p50 ms | {c} conn. p99 ms" for c in counts)
    lines = [header + " |", "| ---: | " + " | ".join("---: | ---:" for _ in counts) + " |"]
    for rows in sorted({entry["rows"] for entry in growth}):
        cells = []
        for connections in counts:
            entry = next(e for e in growth if e["rows"] == rows and e["connections"] == connections)
            cells.append(f"{entry['p50_ms']:.2f} | {entry['p99_ms']:.2f}")
        lines.append(f"| {rows:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
