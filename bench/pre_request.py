"""The pre-request check's cost per request, on the component's path (target: <= 20 µs) and on a
host's path, one that is not the component's. A host's requests pay for the check too, and there
it must return at once: PostgREST's call of any pre-request function costs a statement (`select 1`
in its place, the floor), and beyond that floor the check may add about 1 µs (target: <= 8,000
instructions, counted: timed, the difference is smaller than the machine's noise).

PostgREST calls the check as a statement of its own in every request's transaction, so the cost is
the transaction with the call minus the same transaction without it. CPU read from /proc of a
whole server moves by tens of microseconds on a shared machine, so the transactions are fed to one
backend alone: `postgres --single` on a stopped copy of a throwaway stack (its migrations are the
ones measured, nothing is copied from them), no network, no other process in the measure. There
they are counted under callgrind, which gives the same instructions on every run of the same
build (at two transaction counts, so that the backend's start-up cancels out), and timed: blocks
of transactions with and without the call alternate in one backend, each block between two
readings of the clock, and the cost is the median of the pairs' differences. A pause of the
shared machine lands in one block of one pair; the median leaves it out, as a difference of two
whole processes' CPU time could not.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import statistics
import subprocess
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from bench.measure import Bench, MeasurementError, Row
from movement_profiles_cli.stack import processes
from tests.support.stack import throwaway_stack
from tests.support.users import create_user

TITLE = "the pre-request check's cost"
TARGET_US = 20.0
HOST_BEYOND_FLOOR_K = 8.0
HOST_PATH = "select set_config('request.path', '/workout_programs', true)"


# PostgREST 12.0.2 sends the hook's call as a prepared statement (`execute <n>` in PostgreSQL's
# statement log), planned once per connection: so is it here, and so is the floor's `select 1`.
HOOK = "execute pre_request_hook"
FLOOR = "execute pre_request_floor"


def prepared(check: str) -> str:
    """The statements a backend prepares once, before its transactions."""
    return f"prepare pre_request_hook as {check};\n\nprepare pre_request_floor as select 1;\n\n"


def variants() -> dict[str, tuple[str, ...]]:
    """What runs after the request's settings, per variant; `select 1` is the floor any
    pre-request function pays (one more statement in the transaction)."""
    return {
        "none": (),
        "check": (HOOK,),
        "host path": (HOST_PATH,),
        "select 1 on a host path": (HOST_PATH, FLOOR),
        "check on a host path": (HOST_PATH, HOOK),
    }


def transactions(count: int, statements: tuple[str, ...], token: str) -> str:
    """`count` transactions as PostgREST 12.0.2 runs a signed-in GET's, for single-user mode
    (`-j`: a statement ends with a semicolon and an empty line)."""
    # The claims PostgREST verified are the token's payload: the check compares the two.
    claims = base64.urlsafe_b64decode(token.split(".")[1] + "==").decode()
    headers = json.dumps(
        {"accept": "application/vnd.pgrst.object+json", "authorization": f"Bearer {token}"}
    )
    settings = (
        "select set_config('search_path', '\"public\", \"extensions\"', true), "
        "set_config('role', 'authenticated', true), "
        f"set_config('request.jwt.claims', '{claims}', true), "
        "set_config('request.method', 'GET', true), "
        "set_config('request.path', '/movement_profiles', true), "
        f"set_config('request.headers', '{headers}', true)"
    )
    one = ("begin isolation level read committed read only", settings, *statements, "commit")
    return "".join(f"{statement};\n\n" for statement in one) * count


def single_user(postgres: Path, pgdata: Path, sql: str, *, counted: bool) -> str:
    """Feed `sql` to one backend; what it logged (the rows it prints go to /dev/null: written to
    a pipe they would cost more than PostgREST's buffered replies). `counted`: under callgrind,
    whose count `instructions()` reads from that log. An error fails the measure."""
    command = [str(postgres), "--single", "-j", "-D", str(pgdata), "postgres"]
    if counted:
        command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command]
    result = subprocess.run(
        command,
        input=sql.encode(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        user=processes.service_user(),
        cwd="/",
        check=False,
    )
    output = result.stderr.decode(errors="replace")
    if result.returncode != 0 or "ERROR:" in output:
        raise MeasurementError(f"single-user PostgreSQL failed: {output[-800:]}")
    return output


def instructions(callgrind_output: str) -> float:
    found = re.search(r"Collected : (\d+)", callgrind_output)
    if found is None:
        raise MeasurementError(f"callgrind printed no count: {callgrind_output[-500:]}")
    return float(found.group(1))


# A reading of the clock, in the backend's log.
MARK = "do $$ begin raise warning 'bench_mark %', pg_catalog.clock_timestamp(); end $$;\n\n"


def block_seconds(output: str) -> list[float]:
    """The length of each block between two marks, in the order they ran."""
    marks = [
        datetime.fromisoformat(found + ":00")
        for found in re.findall(r"bench_mark (\S+ \S+)", output)
    ]
    return [(end - start).total_seconds() for start, end in itertools.pairwise(marks)][::2]


def alternated(
    postgres: Path,
    pgdata: Path,
    prologue: str,
    block: Callable[[str], str],
    pair: tuple[str, str],
    rounds: int,
) -> list[float]:
    """Per round, one block of `pair[1]`'s transactions minus one of `pair[0]`'s, both in the
    same backend; the order swaps every round, so a drift of the machine's speed cancels out."""
    script = [prologue]
    for round_ in range(rounds):
        for name in pair if round_ % 2 == 0 else pair[::-1]:
            script += [MARK, block(name), MARK]
    lengths = block_seconds(single_user(postgres, pgdata, "".join(script), counted=False))
    if len(lengths) != 2 * rounds:
        raise MeasurementError(f"expected {2 * rounds} timed blocks, read {len(lengths)}")
    differences = []
    for round_ in range(rounds):
        first, second = lengths[2 * round_], lengths[2 * round_ + 1]
        baseline, variant = (first, second) if round_ % 2 == 0 else (second, first)
        differences.append(variant - baseline)
    return differences


def per_transaction(
    measure: Callable[[str], float], sql_for: Callable[[int], str], counts: tuple[int, int]
) -> float:
    small, large = counts
    return (measure(sql_for(large)) - measure(sql_for(small))) / (large - small)


def run(bench: Bench) -> list[Row]:
    check = bench.pre_request_sql().rstrip(";")
    if check.startswith("--"):
        raise MeasurementError("the stack configures no db-pre-request function")
    counted_counts, block_size, rounds = ((2, 6), 50, 4) if bench.quick else ((50, 250), 400, 60)
    work = variants()
    comparisons = {
        "component": ("none", "check"),
        "host": ("host path", "check on a host path"),
        "floor": ("host path", "select 1 on a host path"),
    }
    with throwaway_stack("movement-profiles-bench-idle-", pg_major=bench.state.pg_major) as idle:
        token = create_user(idle.state).access_token
        idle.down()
        postgres, pgdata = idle.server.postgres, idle.state.pgdata

        def counted(name: str) -> float:
            return per_transaction(
                lambda sql: instructions(single_user(postgres, pgdata, sql, counted=True)),
                lambda count: prepared(check) + transactions(count, work[name], token),
                counted_counts,
            )

        counts = {name: counted(name) for name in work}
        timed = {
            key: [
                seconds / block_size * 1e6
                for seconds in alternated(
                    postgres,
                    pgdata,
                    prepared(check),
                    lambda name: transactions(block_size, work[name], token),
                    pair,
                    rounds,
                )
            ]
            for key, pair in comparisons.items()
        }
    bench.raw["pre_request"] = {"instructions": counts, "timed_us": timed}

    def added(key: str) -> tuple[str, float]:
        """The added cost as measured, and its instructions in thousands."""
        baseline, name = comparisons[key]
        low, cost, high = statistics.quantiles(timed[key], n=4)
        counted_k = (counts[name] - counts[baseline]) / 1000
        return (
            f"+{cost:.1f} µs, +{counted_k:,.0f} k instructions "
            f"({len(timed[key])} pairs of blocks, middle half {low:.1f} to {high:.1f} µs)",
            counted_k,
        )

    component, _ = added("component")
    host, host_k = added("host")
    floor, floor_k = added("floor")
    beyond_k = host_k - floor_k
    return [
        Row(
            "the check on the component's path, per request (one backend)",
            component,
            f"<= {TARGET_US:g} µs",
            statistics.median(timed["component"]) <= TARGET_US,
        ),
        Row("the check on a host's path, per request (one backend)", host),
        Row("of which the call of any pre-request function (`select 1` in its place)", floor),
        Row(
            "what the check adds on a host's path beyond that call",
            f"+{beyond_k:,.1f} k instructions",
            f"<= {HOST_BEYOND_FLOOR_K:g} k instructions (about 1 µs)",
            beyond_k <= HOST_BEYOND_FLOOR_K,
        ),
    ]
