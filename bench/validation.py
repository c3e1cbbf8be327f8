"""Validation and row-level security against the bare table (target: >= 0.85 of its rows/s),
with the two built-in fields and with three fields added to the catalogue; and reading a profile
that holds those three against one that holds none (target: >= 0.95).

The bare table is the real one's copy (`like ... including defaults including indexes`: columns,
keys, indexes) with plain jsonb option columns instead of the validating domains, and no trigger
or policies; it lives in a schema of its own in the throwaway stack only. Inserts and updates are
measured in the database (pgbench running PostgREST's transaction, which isolates the cost) and
through the gateway (wrk, `Content-Profile` naming the bare table's schema: what a client sees).
The three extra fields are added the way an admin adds them (movement_profile_add_field) and
removed at the end; the extra-field bodies carry all five fields.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bench.measure import BUILT_IN_BODIES, TABLE, Bench, Bodies, Row, Run, compact, ratio_row

TITLE = "validation and RLS against the bare table"
TARGET = 0.85
READ_TARGET = 0.95
# Three fields as a product team might add them, with as many values as the built-in ones.
EXTRA_FIELDS = {
    "bench_injuries": ["knee", "shoulder", "lower_back", "hip", "ankle", "wrist"],
    "bench_equipment": ["dumbbells", "barbell", "kettlebell", "bands", "mat"],
    "bench_schedule": ["mornings", "lunchtime", "evenings", "weekends", "flexible"],
}
EXTRA = {
    "bench_injuries": ["knee", "hip"],
    "bench_equipment": ["mat"],
    "bench_schedule": ["evenings"],
}
EXTRA_BODIES = Bodies(
    post={**BUILT_IN_BODIES.post, "custom_fields": EXTRA},
    patches=(
        {**BUILT_IN_BODIES.patches[0], "custom_fields": EXTRA},
        {
            **BUILT_IN_BODIES.patches[1],
            "custom_fields": {**EXTRA, "bench_injuries": ["ankle"], "bench_schedule": ["weekends"]},
        },
    ),
)
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
  alter column custom_fields type jsonb,
  add foreign key (user_id) references auth.users (id) on delete cascade;
grant select on table {BARE_TABLE} to authenticated;
grant insert (user_id, training_preferences, goals, custom_fields) on table {BARE_TABLE}
  to authenticated;
grant update (training_preferences, goals, custom_fields) on table {BARE_TABLE} to authenticated;
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


def add_extra_fields(bench: Bench) -> None:
    for name, values in EXTRA_FIELDS.items():
        bench.sql(
            f"select public.movement_profile_add_field('{name}', '{name}', '', false, "
            f"'{{{','.join(values)}}}')"
        )


def remove_extra_fields(bench: Bench) -> None:
    for name in EXTRA_FIELDS:
        bench.sql(f"select public.movement_profile_remove_field('{name}', 'remove')")


def reading(bench: Bench, custom_fields: dict[str, list[str]]) -> Callable[[], Run]:
    """GET of the steady users' profiles, each holding `custom_fields` (set, untimed, first)."""
    get = bench.wrk(f"{bench.state.rest_url}/movement_profiles", "get")

    def run() -> Run:
        bench.sql(f"update {TABLE} set custom_fields = '{compact(custom_fields)}'")
        bench.vacuum()
        return get()

    return run


def run(bench: Bench) -> list[Row]:
    create_bare_table(bench)
    add_extra_fields(bench)
    expose(bench, f"public, {BARE_SCHEMA}")
    try:
        variants: dict[str, Callable[[], Run]] = {}
        for fields, bodies in (("built-in", BUILT_IN_BODIES), ("extra", EXTRA_BODIES)):
            for table, side in ((TABLE, "real"), (BARE_TABLE, "bare")):
                profile = BARE_SCHEMA if table == BARE_TABLE else ""
                for operation, kind in (("post", "insert"), ("patch", "update")):
                    fresh = operation == "post"
                    variants[f"{kind} {fields} db {side}"] = bench.cleaning_after(
                        bench.pgbench(operation, table, bodies), table, fresh=fresh
                    )
                    wrk = bench.wrk(
                        f"{bench.state.rest_url}/movement_profiles",
                        operation,
                        content_profile=profile,
                        bodies=bodies,
                    )
                    variants[f"{kind} {fields} api {side}"] = bench.cleaning_after(
                        wrk, table, fresh=fresh
                    )
        variants["get extra"] = reading(bench, EXTRA)
        variants["get none"] = reading(bench, {})
        runs = bench.interleaved("validation", variants)
    finally:
        expose(bench, None)
        bench.sql(f"drop schema {BARE_SCHEMA} cascade")
        remove_extra_fields(bench)
    rows = [
        ratio_row(
            f"{kind} {where}: domains, trigger and RLS against the bare table{label}",
            runs[f"{kind} {fields} {layer} real"],
            runs[f"{kind} {fields} {layer} bare"],
            TARGET,
        )
        for fields, label in (("built-in", ""), ("extra", ", with three extra fields"))
        for kind in ("insert", "update")
        for layer, where in (("db", "in the database (pgbench)"), ("api", "through the gateway"))
    ]
    rows.append(
        ratio_row(
            "GET of a profile holding three extra fields against one holding none",
            runs["get extra"],
            runs["get none"],
            READ_TARGET,
        )
    )
    return rows
