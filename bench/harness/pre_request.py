"""Item 8: what PostgREST's db-pre-request check costs the database per request.

PostgREST calls the check (`pgrst.db_pre_request`, movement_profiles_internal.check_request) as a
statement of its own at the start of every request's transaction, so every API call pays for it.
Measured with and without the check, interleaved round by round:

- PostgREST's GET transaction (bench/pgbench/get.sql) on 1 client: the check's own cost, in
  PostgreSQL CPU microseconds per transaction (from /proc), including what PL/pgSQL does once in
  each new transaction (it initialises every expression a function evaluates). The target is
  set on this one; `select 1` in the check's place gives the floor any db-pre-request function
  pays (one more statement, executor start and round trip);
- the same at the bench's connections: what it costs under load, on a machine where 16 clients
  share two cores with pgbench (context switches make every statement dearer);
- a loop calling the check in one transaction (DO block, one session): what a call costs once
  those expressions are initialised. The gap to the 1-client cost is the per-transaction start-up
  plus the statement.

The cost is the median over rounds of (CPU with the check - CPU without) of the same round.
"""

from __future__ import annotations

import base64
import json
import statistics
import time
from collections.abc import Callable
from typing import Any, Protocol

import psycopg

from harness.loadgen import CpuMeter, LoadResult, MeasurementError, Summary, interleaved
from harness.report import Row
from harness.stack import BenchStack

TARGET_US = 20.0
# Every request of the host project pays for the check too, which returns at once on its paths.
HOST_TARGET_US = 5.0
HOST_PATH = "/workout_programs"
# Calls per timed loop: one to two seconds of work at 20-40 µs a call.
LOOP_CALLS = 50_000
# What any db-pre-request function costs before its body runs: PostgREST sends the call as a
# statement of its own, one more round trip (and executor start) in every request's transaction.
# Measured in place of the call, it is the floor under the check's cost.
FLOOR_SQL = "select 1;"
# The user every direct measure acts as (a steady bench user: it exists in auth.users).
USER_NUMBER = 1


class PgbenchBench(Protocol):
    """What this section needs of run_bench.Bench."""

    stack: BenchStack
    duration: float
    runs: int
    connections: int
    pre_request: str | None

    @property
    def pre_request_sql(self) -> str: ...

    def pgbench(
        self,
        operation: str,
        table: str = ...,
        *,
        clients: int | None = None,
        pre_request: bool | str = True,
        request_path: str = ...,
    ) -> Callable[[float], LoadResult]: ...


def bench_pre_request(bench: PgbenchBench) -> tuple[list[Row], dict[str, Any]]:
    if bench.pre_request is None:
        raise MeasurementError("no db-pre-request function is configured")
    loads = {"1 client": 1, f"{bench.connections} clients": bench.connections}
    variants: dict[str, Callable[[float], LoadResult]] = {}
    for load, clients in loads.items():
        variants[f"get {load}, check"] = bench.pgbench("get", clients=clients)
        variants[f"get {load}, no check"] = bench.pgbench("get", clients=clients, pre_request=False)
        variants[f"get {load}, select 1"] = bench.pgbench(
            "get", clients=clients, pre_request=FLOOR_SQL
        )
    # A host's request (any path not the component's): the check must return at once.
    variants["get 1 client, host path, check"] = bench.pgbench(
        "get", clients=1, request_path=HOST_PATH
    )
    variants["get 1 client, host path, no check"] = bench.pgbench(
        "get", clients=1, pre_request=False, request_path=HOST_PATH
    )
    variants["loop, check"] = lambda _duration: call_loop(bench, bench.pre_request_sql)
    variants["loop, no check"] = lambda _duration: call_loop(bench, None)
    for run in variants.values():
        run(1)  # warm-up, unrecorded
    results = interleaved(
        {name: (lambda run=run: run(bench.duration)) for name, run in variants.items()},
        bench.runs,
    )
    measures = [f"get {load}" for load in loads]
    floor = {
        measure: paired_cpu_difference(
            results[f"{measure}, select 1"], results[f"{measure}, no check"]
        )
        for measure in measures
    }
    costs = {
        measure: paired_cpu_difference(
            results[f"{measure}, check"], results[f"{measure}, no check"]
        )
        for measure in [*measures, "get 1 client, host path", "loop"]
    }
    rows = []
    for load in loads:
        cost = costs[f"get {load}"]
        targeted = load == "1 client"
        rows.append(
            Row(
                item="8",
                measurement=(
                    f"the db-pre-request check ({bench.pre_request}): PostgreSQL CPU added to "
                    f"PostgREST's GET transaction, pgbench, {load}"
                ),
                result=f"+{cost['median']:.1f} µs per request "
                f"(rounds: {', '.join(f'{value:.1f}' for value in cost['rounds'])})",
                baseline=f"without the check: {_cpu(results[f'get {load}, no check'])} µs, "
                f"with: {_cpu(results[f'get {load}, check'])} µs; `select 1` in its place: "
                f"+{floor[f'get {load}']['median']:.1f} µs",
                target=f"<= {TARGET_US:.0f} µs" if targeted else "",
                met=cost["median"] <= TARGET_US if targeted else None,
            )
        )
    host = costs["get 1 client, host path"]
    rows.append(
        Row(
            item="8",
            measurement=f"the check on a host's path ({HOST_PATH}, not the component's): "
            "PostgreSQL CPU added to the same GET transaction, pgbench, 1 client",
            result=f"+{host['median']:.1f} µs per request "
            f"(rounds: {', '.join(f'{value:.1f}' for value in host['rounds'])})",
            baseline=f"without the check: {_cpu(results['get 1 client, host path, no check'])} µs",
            target=f"<= {HOST_TARGET_US:.0f} µs",
            met=host["median"] <= HOST_TARGET_US,
        )
    )
    rows.append(
        Row(
            item="8",
            measurement=f"the check called {LOOP_CALLS:,} times in one transaction (one session)",
            result=f"+{costs['loop']['median']:.1f} µs per call",
            baseline=f"empty loop: {_cpu(results['loop, no check'])} µs a pass",
        )
    )
    return rows, {
        "results": results,
        "cost_us": costs,
        "statement_floor_us": floor,
        "target_us": TARGET_US,
    }


def _cpu(summary: Summary) -> str:
    return f"{summary.cpu_us.get('postgres', 0.0):.1f}"


def paired_cpu_difference(measured: Summary, baseline: Summary) -> dict[str, Any]:
    """PostgreSQL CPU µs per operation of `measured` minus `baseline`, round by round (the two
    ran back to back, so a busy minute weighs on both), and the median of those differences."""
    rounds = [
        round(run.cpu_us["postgres"] - base.cpu_us["postgres"], 1)
        for run, base in zip(measured.runs, baseline.runs, strict=True)
    ]
    return {"median": round(statistics.median(rounds), 1), "rounds": rounds}


def call_loop(bench: PgbenchBench, call_sql: str | None, calls: int = LOOP_CALLS) -> LoadResult:
    """`calls` calls of the check (`call_sql`, a `select ...();`) in one transaction, as a signed-in
    user's request sets it up; `None`: the same loop without the call. CPU of the whole server."""
    stack = bench.stack
    token = stack.access_token(USER_NUMBER)
    # The claims PostgREST verified are the token's payload: the check compares the two.
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    headers = {"authorization": f"Bearer {token}"}
    statement = (
        "perform " + call_sql.removeprefix("select ").rstrip(";") if call_sql else "perform 1"
    )
    block = f"""
do $loop$
begin
  for i in 1..{int(calls)} loop
    {statement};
  end loop;
end
$loop$"""
    meter = CpuMeter(stack.cpu_seconds)
    with psycopg.connect(stack.db_url(user="authenticator")) as connection:
        connection.execute(
            "select set_config('role', 'authenticated', true), "
            "set_config('request.jwt.claims', %s, true), "
            "set_config('request.path', '/movement_profiles', true), "
            "set_config('request.method', 'GET', true), "
            "set_config('request.headers', %s, true)",
            (json.dumps(claims), json.dumps(headers)),
        )
        meter.start()
        started = time.perf_counter()
        connection.execute(block)
        seconds = time.perf_counter() - started
        cpu_us = meter.per_operation(calls)
        connection.rollback()
    per_call_ms = seconds / calls * 1000
    return LoadResult(
        per_second=calls / seconds,
        p50_ms=per_call_ms,
        p99_ms=per_call_ms,
        count=calls,
        seconds=seconds,
        cpu_us=cpu_us,
    )
