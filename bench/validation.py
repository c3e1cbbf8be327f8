"""Validation and row-level security against the bare table (target: >= 0.85 of its rows/s).

The bare table is the real one's copy (`like ... including defaults including indexes`: columns,
keys, indexes) with plain jsonb option columns instead of the validating domains, and no trigger
or policies; it lives in a schema of its own in the throwaway stack only. Inserts and updates are
measured in the database (pgbench running PostgREST's transaction, which isolates the cost) and
through the gateway (wrk, `Content-Profile` naming the bare table's schema: what a client sees).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bench.measure import TABLE, Bench, Row, Run, ratio_row

TITLE = "validation and RLS against the bare table"
TARGET = 0.85
BARE_SCHEMA = "bench_bare"
BARE_TABLE = f'"{BARE_SCHEMA}"."movement_profiles"'


def create_bare_table(bench: Bench) -> None:
    bench.sql(f"""
create schema if not exists {BARE_SCHEMA};
grant usage on schema {BARE_SCHEMA} to anon, authenticated, service_role;
drop table if exists {BARE_TABLE};
create table {BARE_TABLE} (like {TABLE} including defaults including indexes);
alter table {BARE_TABLE}
  alter column training_preferences type jsonb,
  alter column goals type jsonb,
  add foreign key (user_id) references auth.users (id) on delete cascade;
grant select on table {BARE_TABLE} to authenticated;
grant insert (user_id, training_preferences, goals) on table {BARE_TABLE} to authenticated;
grant update (training_preferences, goals) on table {BARE_TABLE} to authenticated;
grant all on table {BARE_TABLE} to service_role""")
    bench.add_profiles(1, bench.steady, BARE_TABLE)
    bench.vacuum(BARE_TABLE)


def expose(bench: Bench, schemas: str | None) -> None:
    """PostgREST's schemas, in the database as on hosted Supabase (None: the stack's own)."""
    setting = f"set pgrst.db_schemas = '{schemas}'" if schemas else "reset pgrst.db_schemas"
    bench.sql(
        f"alter role authenticator {setting}; notify pgrst, 'reload config'; "
        "notify pgrst, 'reload schema'"
    )
    time.sleep(1)  # PostgREST reloads asynchronously and says nothing when it is done


def run(bench: Bench) -> list[Row]:
    create_bare_table(bench)
    expose(bench, f"public, {BARE_SCHEMA}")
    try:
        variants: dict[str, Callable[[], Run]] = {}
        for table, side in ((TABLE, "real"), (BARE_TABLE, "bare")):
            profile = BARE_SCHEMA if table == BARE_TABLE else ""
            for operation, kind in (("post", "insert"), ("patch", "update")):
                fresh = operation == "post"
                variants[f"{kind} db {side}"] = bench.cleaning_after(
                    bench.pgbench(operation, table), table, fresh=fresh
                )
                wrk = bench.wrk(
                    f"{bench.state.rest_url}/movement_profiles", operation, content_profile=profile
                )
                variants[f"{kind} api {side}"] = bench.cleaning_after(wrk, table, fresh=fresh)
        runs = bench.interleaved("validation", variants)
    finally:
        expose(bench, None)
        bench.sql(f"drop schema {BARE_SCHEMA} cascade")
    return [
        ratio_row(
            f"{kind} {where}: domains, trigger and RLS against the bare table",
            runs[f"{kind} {layer} real"],
            runs[f"{kind} {layer} bare"],
            TARGET,
        )
        for kind in ("insert", "update")
        for layer, where in (("db", "in the database (pgbench)"), ("api", "through the gateway"))
    ]
