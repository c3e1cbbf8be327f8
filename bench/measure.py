"""What every measurement shares: the stack it runs on and its users, wrk and pgbench, rounds
interleaved between a variant and its baseline, and the rows of the report.

Bench users are numbered, so SQL, pgbench scripts and wrk's users files name the same user without
a lookup: user n is `00000000-0000-4000-8000-<n as 12 hex digits>`.
"""

from __future__ import annotations

import json
import math
import re
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from movement_profiles_cli.stack.state import StackState
from tests.support.tokens import access_token
from tests.support.users import create_users

BENCH_DIR = Path(__file__).resolve().parent
TABLE = '"public"."movement_profiles"'
USER_ID_SQL = "('00000000-0000-4000-8000-' || lpad(to_hex({n}::bigint), 12, '0'))::uuid"
# Profiles that GET and PATCH go round-robin over, and the first of the users POST creates.
STEADY_USERS = 1024
FRESH_FIRST = 1_000_001
# wrk and pgbench each use two threads: one per core of the machine the targets are set for.
LOAD_THREADS = 2


@dataclass(frozen=True)
class Bodies:
    """What a POST creates and what successive PATCHes write (two, so each really changes the
    row), as JSON: the same for wrk and pgbench."""

    post: dict[str, Any]
    patches: tuple[dict[str, Any], dict[str, Any]]


#: The contract's request bodies: the two built-in fields.
BUILT_IN_BODIES = Bodies(
    post={
        "training_preferences": ["strength_training", "yoga"],
        "goals": ["build_muscle", "rehab"],
    },
    patches=({"goals": ["rehab", "lose_fat"]}, {"goals": ["build_muscle", "general_health"]}),
)


def compact(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"))


class MeasurementError(RuntimeError):
    """A run that cannot count: failed requests, a tool failing, fresh users running out."""


def user_id(number: int) -> str:
    return f"00000000-0000-4000-8000-{number:012x}"


def ids_sql(first: int, count: int) -> str:
    return (
        f"select {USER_ID_SQL.format(n='n')} from generate_series({first}, {first + count - 1}) n"
    )


@dataclass(frozen=True)
class Run:
    """One timed run: throughput and latency percentiles."""

    per_second: float
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True)
class Row:
    """A line of the report: what was measured, what it must be, what it was."""

    measurement: str
    measured: str
    target: str = ""
    met: bool | None = None


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        raise MeasurementError("no samples")
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def median_ratio(runs: list[Run], baseline: list[Run]) -> float:
    """The median of the per-round ratios: the two ran back to back, so a busy minute on the
    shared machine weighs on both sides of each ratio."""
    return statistics.median(
        run.per_second / base.per_second for run, base in zip(runs, baseline, strict=True)
    )


def ratio_row(measurement: str, runs: list[Run], baseline: list[Run], minimum: float) -> Row:
    ratio = median_ratio(runs, baseline)
    rate = statistics.median(run.per_second for run in runs)
    base = statistics.median(run.per_second for run in baseline)
    return Row(
        measurement,
        f"{ratio:.2f} ({rate:,.0f} against {base:,.0f}/s)",
        f">= {minimum:g}",
        ratio >= minimum,
    )


@dataclass
class Bench:
    """The stack under test and the run's settings; `raw` collects every run for the results."""

    state: StackState
    workdir: Path
    quick: bool
    duration: int = 4
    rounds: int = 3
    connections: int = 16
    transfer_rows: int = 1_000_000
    table_sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    raw: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.quick:
            self.duration, self.rounds = 1, 1
            self.transfer_rows, self.table_sizes = 2_000, (2_000, 4_000)
        self.steady = 64 if self.quick else STEADY_USERS
        # Enough fresh users that no POST run reuses one (2,000 creations a second at most).
        self.fresh = (self.duration + 1) * 2000 * self.rounds * 2 + self.connections * 100
        self.steady_file = self.workdir / "steady-users.txt"
        self.fresh_file = self.workdir / "fresh-users.txt"

    # -- SQL -------------------------------------------------------------------------------------

    @contextmanager
    def connect(self, user: str = "postgres") -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
        with psycopg.connect(self.state.db_url(user=user), autocommit=True) as connection:
            yield connection

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        with self.connect() as connection:
            cursor = connection.execute(query.encode())
            return cursor.fetchall() if cursor.description else []

    def settle(self, timeout: float = 10.0) -> None:
        """Wait for the requests still in flight when the load generator stopped: PostgREST
        finishes a request whose client has gone, and a row it commits after the clean-up
        would make the next run's POST of that user a conflict."""
        deadline = time.monotonic() + timeout
        while (
            time.monotonic() < deadline
            and self.sql(
                "select count(*) from pg_stat_activity where backend_type = 'client backend' "
                "and state <> 'idle' and pid <> pg_backend_pid()"
            )[0][0]
        ):
            time.sleep(0.05)

    def vacuum(self, table: str = TABLE) -> None:
        self.sql(f"vacuum (analyze) {table}")

    def add_profiles(self, first: int, count: int, table: str = TABLE) -> None:
        self.sql(
            f"insert into {table} (user_id, training_preferences, goals) "
            f"""select id, '["running", "yoga"]', '["improve_endurance"]' """
            f"from ({ids_sql(first, count)}) users (id) on conflict (user_id) do nothing"
        )

    def delete_profiles(self, first: int, count: int, table: str = TABLE) -> None:
        self.sql(f"delete from {table} where user_id in ({ids_sql(first, count)})")

    def prepare(self) -> None:
        """The steady users with a profile each, the fresh users without, and their tokens."""
        create_users(self.state, ids_sql(1, self.steady))
        create_users(self.state, ids_sql(FRESH_FIRST, self.fresh))
        self.add_profiles(1, self.steady)
        for path, first, count in (
            (self.steady_file, 1, self.steady),
            (self.fresh_file, FRESH_FIRST, self.fresh),
        ):
            tokens = (
                f"{user_id(n)} {access_token(self.state, user_id(n), lifetime=6 * 3600)}"
                for n in range(first, first + count)
            )
            path.write_text("\n".join(tokens) + "\n")
        self.vacuum()

    # -- load --------------------------------------------------------------------------------------

    def wrk(
        self,
        url: str,
        mode: str,
        *,
        connections: int | None = None,
        content_profile: str = "",
        api: str = "postgrest",
        bodies: Bodies = BUILT_IN_BODIES,
    ) -> Callable[[], Run]:
        """wrk with bench/wrk/profiles.lua (its header describes the modes)."""
        connections = connections or self.connections
        threads = min(LOAD_THREADS, connections)
        users = {"post": self.fresh_file, "fixed": "-"}.get(mode, self.steady_file)
        command = [
            *("wrk", f"-t{threads}", f"-c{connections}", f"-d{self.duration}s", "--timeout", "10s"),
            *("-s", str(BENCH_DIR / "wrk" / "profiles.lua"), url, "--"),
            *(
                mode,
                str(users),
                self.state.anon_key if mode != "fixed" else self.state.service_role_key,
            ),
            *(str(threads), content_profile, api),
            *(compact(bodies.post), *(compact(patch) for patch in bodies.patches)),
        ]

        def run() -> Run:
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
            if result.returncode != 0 or not lines:
                raise MeasurementError(f"wrk failed: {result.stderr or result.stdout}")
            report = json.loads(lines[-1])
            if sum(report["errors"].values()) or report["users_exhausted"]:
                raise MeasurementError(f"wrk {mode} {url}: {report}")
            latency = report["latency_us"]
            return Run(
                report["requests"] / (report["duration_us"] / 1e6),
                latency["p50"] / 1000,
                latency["p99"] / 1000,
            )

        return run

    def pgbench(
        self, operation: str, table: str = TABLE, bodies: Bodies = BUILT_IN_BODIES
    ) -> Callable[[], Run]:
        """pgbench running the transaction PostgREST runs for a POST or PATCH of `table`, as
        `authenticator` with prepared statements (as PostgREST does), the pre-request check
        included when the stack configures one."""
        first, users = (FRESH_FIRST, self.fresh) if operation == "post" else (1, self.steady)
        schema = table.split(".")[0].strip('"')
        script = render_pgbench(
            operation,
            TABLE=table,
            SEARCH_PATH=f'"{schema}", "public", "extensions"',
            FIRST_USER=str(first),
            USERS_PER_CLIENT=str(users // self.connections),
            PRE_REQUEST=self.pre_request_sql(),
            **request_claims_sql(self.state),
            **body_sql(operation, bodies),
        )

        def run() -> Run:
            with tempfile.TemporaryDirectory() as folder:
                script_file = Path(folder) / "script.sql"
                script_file.write_text(script)
                result = subprocess.run(
                    [
                        *("pgbench", "--no-vacuum", "--protocol=prepared", "--define=k=0"),
                        f"--client={self.connections}",
                        f"--jobs={LOAD_THREADS}",
                        f"--time={self.duration}",
                        f"--file={script_file}",
                        *("--log", f"--log-prefix={folder}/latency"),
                        self.state.db_url(user="authenticator"),
                    ],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                output = result.stdout + result.stderr
                tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", output)
                if result.returncode != 0 or tps is None or "failed transactions: 0 " not in output:
                    errors = [line for line in output.splitlines() if "error" in line.lower()]
                    raise MeasurementError(f"pgbench failed: {(errors or [output])[0]}")
                latencies = [
                    int(line.split()[2]) / 1000
                    for log in Path(folder).glob("latency.*")
                    for line in log.read_text().splitlines()
                ]
            return Run(float(tps.group(1)), percentile(latencies, 0.5), percentile(latencies, 0.99))

        return run

    def pre_request_sql(self) -> str:
        """The statement PostgREST sends for its db-pre-request function (set in the database, as
        on hosted Supabase), or a comment when there is none."""
        for (setting,) in self.sql(
            "select unnest(setconfig) from pg_catalog.pg_db_role_setting "
            "where setrole = 'authenticator'::regrole"
        ):
            name, _, value = setting.partition("=")
            if name == "pgrst.db_pre_request" and value:
                return "select " + ".".join(f'"{part}"' for part in value.split(".")) + "();"
        return "-- no db-pre-request function"

    def interleaved(
        self, name: str, variants: dict[str, Callable[[], Run]], *, warm_up: bool = True
    ) -> dict[str, list[Run]]:
        """A warm-up of each variant (unrecorded; unless not `warm_up`), then `rounds` rounds, each
        running every variant once (A B C, A B C, ...): a slow minute hurts them all alike."""
        # A quick run only proves that every measurement still runs: no warm-up.
        for run in variants.values() if warm_up and not self.quick else ():
            run()
        runs: dict[str, list[Run]] = {variant: [] for variant in variants}
        for _ in range(self.rounds):
            for variant, run in variants.items():
                runs[variant].append(run())
        self.raw[name] = runs
        return runs

    def side_by_side(
        self,
        name: str,
        modes: tuple[str, ...],
        sides: dict[str, Callable[[str], Callable[[], Run]]],
    ) -> dict[str, list[Run]]:
        """Each of wrk's modes against each side, interleaved ("get gateway", "get direct", ...);
        what a write created is cleaned up after it."""
        variants: dict[str, Callable[[], Run]] = {}
        for mode in modes:
            for side, load in sides.items():
                run = load(mode)
                variants[f"{mode} {side}"] = (
                    run if mode == "get" else self.cleaning_after(run, fresh=mode == "post")
                )
        return self.interleaved(name, variants)

    def cleaning_after(
        self, run: Callable[[], Run], table: str = TABLE, *, fresh: bool = False
    ) -> Callable[[], Run]:
        """`run`, then (untimed) remove the profiles it created and vacuum, so that every run
        starts from the same table."""

        def wrapped() -> Run:
            try:
                return run()
            finally:
                self.settle()
                if fresh:
                    self.delete_profiles(FRESH_FIRST, self.fresh, table)
                self.vacuum(table)

        return wrapped


def render_pgbench(operation: str, **placeholders: str) -> str:
    """bench/pgbench/<operation>.sql with its @NAME@ placeholders filled in (all of them)."""
    text = (BENCH_DIR / "pgbench" / f"{operation}.sql").read_text()
    for key, value in placeholders.items():
        text = text.replace(f"@{key}@", value)
    body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    if missing := sorted(set(re.findall(r"@([A-Z_]+)@", body))):
        raise MeasurementError(f"pgbench/{operation}.sql: no value for {', '.join(missing)}")
    return text


def body_sql(operation: str, bodies: Bodies) -> dict[str, str]:
    """The placeholders of a pgbench script that spell its body as PostgREST 12.0.2 does: the
    payload's keys, sorted, as the INSERT's columns or the UPDATE's assignments, each read from
    json_to_recordset as jsonb."""
    body = bodies.post if operation == "post" else bodies.patches[0]
    columns = sorted(body)
    quoted = [f'"{column}"' for column in columns]

    def literal(value: dict[str, Any]) -> str:
        return "'" + compact(value).replace("'", "''") + "'"

    return {
        "COLUMNS": ", ".join(quoted),
        "BODY_COLUMNS": ", ".join(f'"pgrst_body".{column}' for column in quoted),
        "RECORD": ", ".join(f"{column} jsonb" for column in quoted),
        "ASSIGNMENTS": ", ".join(f'{column} = "pgrst_body".{column}' for column in quoted),
        "POST_BODY": literal(bodies.post),
        "PATCH_BODY_A": literal(bodies.patches[0]),
        "PATCH_BODY_B": literal(bodies.patches[1]),
    }


def request_claims_sql(state: StackState) -> dict[str, str]:
    """@CLAIMS@ and @HEADERS@ of the pgbench scripts: the claims PostgREST verified for user :n,
    and the request's headers, whose bearer token carries those same claims (the pre-request check
    compares the two; the signature is PostgREST's to verify, so it is a placeholder here)."""
    issued = int(time.time())
    claims = (
        f"""'{{"aud":"authenticated","exp":{issued + 6 * 3600},"iat":{issued},"""
        """"role":"authenticated","sub":"' || '00000000-0000-4000-8000-' || """
        """lpad(to_hex(:n::bigint), 12, '0') || '"}'"""
    )
    headers = json.dumps(
        {
            "host": f"127.0.0.1:{state.api_port}",
            "accept": "application/vnd.pgrst.object+json",
            "prefer": "return=representation",
            "authorization": "Bearer TOKEN",
        },
        separators=(",", ":"),
    )
    before, after = headers.split("TOKEN")
    # base64url of {"alg":"HS256","typ":"JWT"}
    token_header = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    payload = f"translate(encode(convert_to({claims}, 'UTF8'), 'base64'), E'+/=\\n', '-_')"
    return {
        "CLAIMS": claims,
        "HEADERS": f"'{before}{token_header}.' || {payload} || '.c2ln{after}'",
    }
