"""GET p50 and p99 through the gateway as the table grows to 10,000, 100,000 and 1,000,000 rows
(target: p50 at the largest size <= 2x the smallest's: a GET reads one row by the unique `user_id`
index, so it should stay flat), and the SDK's `list()` filter for yoga and rehab at each size
(target: p50 <= 10 ms at the largest).

The table only grows, so each size is a block of its own: random users with random profiles (each
preference and goal present with probability 0.3, at least one of each) are added up to the size,
then both tables are vacuumed and autovacuum is waited for, whose CPU would otherwise land in the
timed runs. One connection each: the latency a user sees.
"""

from __future__ import annotations

import statistics
import time
import urllib.parse

from bench.measure import TABLE, Bench, Row
from movement_profiles import _core
from movement_profiles_cli.stack.state import ADMIN_USER

TITLE = "GET p50/p99 as the table grows"
FLAT = 2.0
FILTER_P50_MS = 10.0


def grow(bench: Bench, size: int) -> None:
    missing = size - int(bench.sql(f"select count(*) from {TABLE}")[0][0])
    if missing > 0:
        # `+ 0 * n` ties each subquery to its row, so random() is drawn per profile.
        bench.sql(f"""
with new_users as (
  insert into auth.users (id) select gen_random_uuid() from generate_series(1, {missing})
  returning id)
insert into {TABLE} (user_id, training_preferences, goals)
select id,
  coalesce((select jsonb_agg(v)
            from unnest(movement_profiles_internal.catalogue_allowed_values(
              'training_preferences')) v
            where random() + 0 * n < 0.3), '["mixed"]'),
  coalesce((select jsonb_agg(v)
            from unnest(movement_profiles_internal.catalogue_allowed_values('goals')) v
            where random() + 0 * n < 0.3), '["general_health"]')
from (select id, row_number() over () as n from new_users) users""")
    bench.vacuum()
    # auth.users belongs to Supabase Auth: the stack's superuser vacuums it.
    with bench.connect(ADMIN_USER) as connection:
        connection.execute("vacuum (analyze) auth.users")
    deadline = time.monotonic() + 120
    while (
        time.monotonic() < deadline
        and bench.sql(
            "select count(*) from pg_stat_activity where backend_type = 'autovacuum worker'"
        )[0][0]
    ):
        time.sleep(1)


def run(bench: Bench) -> list[Row]:
    request = next(_core.list_profiles(["yoga"], ["rehab"], limit=100, offset=0))
    filter_url = (
        f"{bench.state.rest_url}/movement_profiles?{urllib.parse.urlencode(request.params)}"
    )
    rows, p50 = [], {}
    for size in bench.table_sizes:
        grow(bench, size)
        runs = bench.interleaved(
            f"growth {size}",
            {
                "get": bench.wrk(f"{bench.state.rest_url}/movement_profiles", "get", connections=1),
                "filter": bench.wrk(filter_url, "fixed", connections=1),
            },
        )
        p50[size] = {
            name: statistics.median(run.p50_ms for run in found) for name, found in runs.items()
        }
        p99 = statistics.median(run.p99_ms for run in runs["get"])
        rows.append(
            Row(
                f"GET at {size:,} rows, 1 connection",
                f"p50 {p50[size]['get']:.2f} ms, p99 {p99:.2f} ms",
            )
        )
    smallest, largest = bench.table_sizes[0], bench.table_sizes[-1]
    growth = p50[largest]["get"] / p50[smallest]["get"]
    rows[-1] = Row(
        rows[-1].measurement,
        f"{rows[-1].measured}; {growth:.2f}x the p50 at {smallest:,}",
        f"p50 <= {FLAT:g}x at {smallest:,}",
        growth <= FLAT,
    )
    rows.append(
        Row(
            f"`list()` of yoga and rehab at {largest:,} rows, p50",
            f"{p50[largest]['filter']:.2f} ms",
            f"<= {FILTER_P50_MS:g} ms",
            p50[largest]["filter"] <= FILTER_P50_MS,
        )
    )
    return rows
