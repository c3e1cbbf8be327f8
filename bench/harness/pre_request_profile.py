"""Item 8, repeatably: what the db-pre-request check costs one backend, counted and timed part
by part, with no network and no other process in the measure.

The pgbench measure of item 8 reads the CPU of the whole server from /proc, and on two shared
cores its rounds differ by tens of microseconds. Here the same transaction PostgREST runs for a
signed-in user's request (its settings, then the check) is fed to PostgreSQL in single-user
mode (`postgres --single`: one backend, statements on stdin, no sockets), on a copy of a
throwaway stack's database that no server is running:

- under callgrind, which counts the instructions the backend executes: the same on every run
  of the same build. The check's cost is the difference between transactions with it and
  without, at two transaction counts (so start-up cancels out);
- natively, timing the backend's own CPU (`os.wait4` of the process) at two transaction counts,
  round by round, interleaved with the transaction without the check: the check's CPU in
  microseconds when nothing else is measured with it.

The parts are functions that each do one piece of the check's body, so each piece's cost is
its function's cost minus an empty function's. The pieces are copied from the migration that
defines `movement_profiles_internal.check_request`, and a test fails when one no longer appears
there: when the check changes, change them with it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.loadgen import MeasurementError
from harness.report import Row
from movement_profiles_cli.stack import postgresql, processes
from movement_profiles_cli.stack.state import StackState

#: The seed's first user (supabase/seed.sql): it exists in auth.users on every stack.
SEEDED_USER = "11111111-1111-4111-8111-111111111111"
#: Transactions per callgrind run; the cost is (run at the larger - run at the smaller) / gap.
COUNTED_TRANSACTIONS = (50, 250)
#: Transactions per native run, and rounds of them.
TIMED_TRANSACTIONS = (2_000, 8_000)
TIMED_ROUNDS = 5
TARGET_US = 20.0
#: A host's requests pay for the check too: no more than a few µs.
HOST_TARGET_US = 5.0

#: Pieces of the check's body, as its migration writes them (tests/bench checks that they still
#: appear there, so the parts measure the check as it is).
REQUEST_PATH_SQL = """
  request_path text := pg_catalog.current_setting('request.path', true);
"""
PATH_TEST_SQL = """
  if request_path in ('/movement_profiles', '/rpc/movement_profile_options') then
    null;
  elsif pg_catalog.strpos(request_path, '%') > 0 then
    request_path := movement_profiles_internal.component_path(request_path);
    if request_path is null then
      return;
    end if;
  else
    return;
  end if;
"""
AUTHORIZATION_HEADER_SQL = r"""
  authorization_header :=
    nullif(pg_catalog.current_setting('request.headers', true), '')::json ->> 'authorization';
  if pg_catalog.left(authorization_header, 6) ilike 'bearer'
     and pg_catalog.strpos(E' \t\n\r\f\x0b', pg_catalog.substr(authorization_header, 7, 1)) > 0
  then
    token := nullif(
      pg_catalog.ltrim(pg_catalog.substr(authorization_header, 7), E' \t\n\r\f\x0b'), ''
    );
  end if;
"""
TOKEN_SQL = r"""
    begin
      token_header := pg_catalog.convert_from(
        pg_catalog.decode(
          pg_catalog.rpad(
            pg_catalog.translate(pg_catalog.split_part(token, '.', 1), '-_', '+/'),
            (pg_catalog.length(pg_catalog.split_part(token, '.', 1)) + 3) / 4 * 4, '='
          ),
          'base64'
        ),
        'UTF8'
      );
      token_claims := pg_catalog.convert_from(
        pg_catalog.decode(
          pg_catalog.rpad(
            pg_catalog.translate(pg_catalog.split_part(token, '.', 2), '-_', '+/'),
            (pg_catalog.length(pg_catalog.split_part(token, '.', 2)) + 3) / 4 * 4, '='
          ),
          'base64'
        ),
        'UTF8'
      )::jsonb - 'role';
      algorithm := token_header::json ->> 'alg';
    exception when data_exception then
      raise sqlstate 'PT401' using
        message = 'Authorization header is malformed',
"""
ALGORITHM_TEST_SQL = r"""
    if pg_catalog.strpos(token_header, '\') > 0
       or pg_catalog.length(token_header)
          - pg_catalog.length(pg_catalog.replace(token_header, '"alg"', '')) <> 5
       or algorithm not in ('HS256', 'ES256', 'RS256')
       or algorithm is null then
"""
CLAIMS_SQL = """
  claims := coalesce(
    nullif(pg_catalog.current_setting('request.jwt.claims', true), ''), '{}'
  )::jsonb;
"""
TIME_LIMIT_SQL = "perform pg_catalog.set_config('statement_timeout', '250ms', true);"
USER_LOOKUP_SQL = "if not movement_profiles_internal.auth_user_exists("
CHECK_FRAGMENTS = (
    REQUEST_PATH_SQL,
    PATH_TEST_SQL,
    AUTHORIZATION_HEADER_SQL,
    TOKEN_SQL,
    ALGORITHM_TEST_SQL,
    CLAIMS_SQL,
    TIME_LIMIT_SQL,
    USER_LOOKUP_SQL,
)

#: The parts, each a function of the throwaway copy (schema `bench_profile`) built from those
#: pieces (stripped: single-user mode ends a statement at a semicolon before an empty line).
#: `empty` is the PL/pgSQL call itself, with the check's pinned search_path.
PARTS_SQL = f"""
create schema bench_profile;
grant usage on schema bench_profile to authenticated;
create function bench_profile.empty() returns void language plpgsql stable
set search_path = '' as $$ begin return; end $$;
create function bench_profile.path_test() returns void language plpgsql stable
set search_path = '' as $$
declare
{REQUEST_PATH_SQL.strip()}
begin
{PATH_TEST_SQL.strip()}
end $$;
create function bench_profile.authorization_header() returns void language plpgsql stable
set search_path = '' as $$
declare
  authorization_header text;
  token text;
begin
{AUTHORIZATION_HEADER_SQL.strip()}
end $$;
create function bench_profile.token_algorithm() returns void language plpgsql stable
set search_path = '' as $$
declare
  authorization_header text;
  token text;
  token_header text;
  token_claims jsonb;
  algorithm text;
begin
{AUTHORIZATION_HEADER_SQL.strip()}
{TOKEN_SQL.strip()}
        detail = 'The bearer token is not a JWT with a JSON header and payload.';
    end;
{ALGORITHM_TEST_SQL.strip()}
      raise sqlstate 'PT401' using message = 'JWT algorithm is not accepted';
    end if;
end $$;
create function bench_profile.claims() returns void language plpgsql stable
set search_path = '' as $$
declare
  claims jsonb;
begin
{CLAIMS_SQL.strip()}
end $$;
create function bench_profile.user_lookup() returns void language plpgsql stable
set search_path = '' as $$
begin
  {USER_LOOKUP_SQL.strip()}'{SEEDED_USER}'::uuid) then
    raise sqlstate 'PT401' using message = 'JWT sub claim names no user';
  end if;
end $$;
create function bench_profile.request_time_limit() returns void language plpgsql stable
set search_path = '' as $$
begin
  {TIME_LIMIT_SQL.strip()}
end $$;
grant execute on all functions in schema bench_profile to authenticated;
"""

CHECK = "select movement_profiles_internal.check_request()"
#: A request of the host's, not the component's: the check returns after its path test.
HOST_PATH = "select set_config('request.path', '/workout_programs', true)"
#: What is timed natively, round by round: the check on the component's path and on a host's,
#: each against the same transaction without it.
TIMED = {
    "none": (),
    "check": (CHECK,),
    "host path": (HOST_PATH,),
    "check on a host path": (HOST_PATH, CHECK),
}


@dataclass(frozen=True)
class Variant:
    name: str
    #: What runs between the settings and the commit (statements), empty for none.
    statements: tuple[str, ...]
    #: The variant this one is read against, and what the difference means.
    baseline: str = "none"
    meaning: str = ""


VARIANTS = (
    Variant("none", ()),
    Variant("select 1", ("select 1",), meaning="a statement of its own (any pre-request call)"),
    Variant("check", (CHECK,), meaning="the whole check"),
    Variant(
        "check twice",
        (CHECK, CHECK),
        baseline="check",
        meaning="a second call in the same transaction (its expressions already set up)",
    ),
    Variant(
        "empty",
        ("select bench_profile.empty()",),
        baseline="select 1",
        meaning="calling a PL/pgSQL function with a pinned search_path",
    ),
    Variant(
        "path test",
        ("select bench_profile.path_test()",),
        baseline="empty",
        meaning="reading request.path and finding it the component's",
    ),
    Variant(
        "host path",
        (HOST_PATH,),
        meaning="(a statement setting a host's path, the baseline of the next row)",
    ),
    Variant(
        "check on a host path",
        (HOST_PATH, CHECK),
        baseline="host path",
        meaning="the whole check on a host's path (it returns after the path test)",
    ),
    Variant(
        "authorization header",
        ("select bench_profile.authorization_header()",),
        baseline="empty",
        meaning="reading Authorization from request.headers (json) and the token from it",
    ),
    Variant(
        "token algorithm",
        ("select bench_profile.token_algorithm()",),
        baseline="authorization header",
        meaning="decoding the token's header and payload and checking alg",
    ),
    Variant(
        "claims",
        ("select bench_profile.claims()",),
        baseline="empty",
        meaning="parsing request.jwt.claims (jsonb)",
    ),
    Variant(
        "user lookup",
        ("select bench_profile.user_lookup()",),
        baseline="empty",
        meaning="the auth.users lookup (security definer helper)",
    ),
    Variant(
        "request time limit",
        ("select bench_profile.request_time_limit()",),
        baseline="empty",
        meaning="setting statement_timeout for the request",
    ),
)


def transactions(count: int, statements: tuple[str, ...], access_token: str, claims: str) -> str:
    """`count` transactions as PostgREST 12.0.2 runs a signed-in GET's (bench/pgbench/get.sql),
    for single-user mode (`-j`: a statement ends with a semicolon and an empty line)."""
    headers = json.dumps(
        {
            "host": "127.0.0.1:54321",
            "accept": "application/vnd.pgrst.object+json",
            "prefer": "return=representation",
            "x-forwarded-proto": "http",
            "authorization": f"Bearer {access_token}",
            "x-forwarded-for": "127.0.0.1",
        },
        separators=(",", ":"),
    )
    settings = (
        "select set_config('search_path', '\"public\", \"extensions\"', true), "
        "set_config('statement_timeout', '8s', true), set_config('role', 'authenticated', true), "
        f"set_config('request.jwt.claims', '{claims}', true), "
        "set_config('request.method', 'GET', true), "
        "set_config('request.path', '/movement_profiles', true), "
        f"set_config('request.headers', '{headers}', true), "
        "set_config('request.cookies', '{}', true)"
    )
    one = "".join(
        f"{statement};\n\n"
        for statement in (
            "begin isolation level read committed read only",
            settings,
            *statements,
            "commit",
        )
    )
    return one * count


def session_token(jwt_secret: str, user: str = SEEDED_USER) -> tuple[str, str]:
    """A Supabase Auth-style session token for `user`, HS256, an hour long; and its claims."""
    now = int(time.time())
    claims = json.dumps(
        {
            "aud": "authenticated",
            "exp": now + 3600,
            "iat": now,
            "role": "authenticated",
            "sub": user,
        },
        separators=(",", ":"),
    )

    def encoded(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = encoded(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    signing_input = f"{header}.{encoded(claims.encode())}"
    signature = hmac.new(jwt_secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{encoded(signature)}", claims


@dataclass
class SingleUser:
    """PostgreSQL in single-user mode on a data directory no server is running."""

    postgres: Path
    pgdata: Path
    workdir: Path

    def run(self, sql: str, *, counted: bool = False) -> float:
        """Feed `sql` to one backend: its instructions (`counted`: under callgrind), else the
        CPU seconds of its process. An ERROR fails the measure: a variant that fails measures
        nothing."""
        # Read by this process and handed over as stdin: the service user need not reach it.
        script = self.workdir / "input.sql"
        script.write_text(sql)
        command = [str(self.postgres), "--single", "-j", "-D", str(self.pgdata), "postgres"]
        if counted:
            # Only the total is wanted, which callgrind prints; not its per-function file.
            command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command]
        with script.open("rb") as stdin:
            process = subprocess.Popen(
                command,
                stdin=stdin,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                user=processes.service_user(),
                cwd="/",
            )
            assert process.stderr is not None
            output = process.stderr.read().decode(errors="replace")
            # Reaped here, not by Popen: wait4 gives this one process's resource usage.
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
            process.stderr.close()
        if process.returncode != 0 or "ERROR:" in output:
            raise MeasurementError(f"single-user PostgreSQL failed: {output[-800:]}")
        if not counted:
            return usage.ru_utime + usage.ru_stime
        found = re.search(r"Collected : (\d+)", output)
        if found is None:
            raise MeasurementError(f"callgrind printed no count: {output[-500:]}")
        return float(found.group(1))


@contextmanager
def idle_copy(cli: Path, workdir: Path, pg_major: int) -> Iterator[SingleUser]:
    """A stack of its own (migrations and seed applied), stopped, to run single-user on; removed
    afterwards. Not the bench's stack: its server must not run while a single backend does."""
    state_dir = workdir / "profile-stack"
    base = [str(cli), "stack"]
    try:
        subprocess.run(
            [
                *base,
                "up",
                "--state-dir",
                str(state_dir),
                "--free-ports",
                "--quiet",
                "--pg",
                str(pg_major),
            ],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [*base, "down", "--state-dir", str(state_dir)], check=True, capture_output=True
        )
        state = StackState.load(state_dir)
        if state is None:
            raise MeasurementError(f"no stack state in {state_dir}")
        server = postgresql.server(pg_major, Path(__file__).resolve().parents[2])
        yield SingleUser(server.postgres, state.pgdata, Path(tempfile.mkdtemp(dir=workdir)))
    finally:
        subprocess.run(
            [*base, "down", "--state-dir", str(state_dir), "--remove-data", "--quiet"],
            check=False,
            capture_output=True,
        )


def per_transaction(
    run: Callable[[str], float], sql_for: Callable[[int], str], counts: tuple[int, int]
) -> float:
    """What one transaction costs: (run at the larger count - run at the smaller) / gap."""
    small, large = counts
    return (run(sql_for(large)) - run(sql_for(small))) / (large - small)


def bench_pre_request_profile(
    cli: Path, workdir: Path, pg_major: int, jwt_secret: str, rounds: int = TIMED_ROUNDS
) -> tuple[list[Row], dict[str, Any]]:
    if shutil.which("valgrind") is None:
        raise MeasurementError("valgrind is missing: run `make bench`, which installs it")
    access_token, claims = session_token(jwt_secret)
    with idle_copy(cli, workdir, pg_major) as backend:
        backend.run(PARTS_SQL)
        instructions = {
            variant.name: per_transaction(
                lambda sql: backend.run(sql, counted=True),
                lambda count, variant=variant: transactions(
                    count, variant.statements, access_token, claims
                ),
                COUNTED_TRANSACTIONS,
            )
            for variant in VARIANTS
        }
        timed: dict[str, list[float]] = {name: [] for name in TIMED}
        for _ in range(rounds):
            for name, statements in TIMED.items():
                timed[name].append(
                    per_transaction(
                        backend.run,
                        lambda count, statements=statements: transactions(
                            count, statements, access_token, claims
                        ),
                        TIMED_TRANSACTIONS,
                    )
                    * 1e6
                )
    return profile_rows(instructions, timed)


def profile_rows(
    instructions: dict[str, float], timed: dict[str, list[float]]
) -> tuple[list[Row], dict[str, Any]]:
    """The rows of the profile: the check's CPU when timed alone, then its instructions by part."""
    rounds = [
        round(check - none, 1) for check, none in zip(timed["check"], timed["none"], strict=True)
    ]
    cost_us = statistics.median(rounds)
    check_instructions = instructions["check"] - instructions["none"]
    rows = [
        Row(
            item="8",
            measurement="the check in one backend with nothing else measured (single-user "
            "PostgreSQL, no network): CPU added per transaction",
            result=f"+{cost_us:.1f} µs (rounds: {', '.join(f'{value:.1f}' for value in rounds)})",
            baseline=f"the transaction without it: {statistics.median(timed['none']):.1f} µs",
            target=f"<= {TARGET_US:.0f} µs",
            met=cost_us <= TARGET_US,
        )
    ]
    host_rounds = [
        round(check - none, 1)
        for check, none in zip(timed["check on a host path"], timed["host path"], strict=True)
    ]
    host_cost_us = statistics.median(host_rounds)
    rows.append(
        Row(
            item="8",
            measurement="the check on a host's path (not the component's) in one backend: CPU "
            "added per transaction",
            result=f"+{host_cost_us:.1f} µs "
            f"(rounds: {', '.join(f'{value:.1f}' for value in host_rounds)})",
            baseline="the same transaction without it",
            target=f"<= {HOST_TARGET_US:.0f} µs",
            met=host_cost_us <= HOST_TARGET_US,
        )
    )
    for variant in VARIANTS[1:]:
        added = instructions[variant.name] - instructions[variant.baseline]
        rows.append(
            Row(
                item="8",
                measurement=f"instructions (callgrind): {variant.meaning}",
                result=f"+{added / 1000:,.1f} k per transaction",
                baseline=f"against {variant.baseline!r}"
                + (
                    f"; {added / check_instructions:.0%} of the check"
                    if variant.name not in ("check", "check twice", "host path")
                    else ""
                ),
            )
        )
    parts = {
        variant.name: instructions[variant.name] - instructions[variant.baseline]
        for variant in VARIANTS[1:]
    }
    named = (
        "select 1",
        "empty",
        "path test",
        "authorization header",
        "token algorithm",
        "claims",
        "user lookup",
        "request time limit",
    )
    rest = check_instructions - sum(parts[name] for name in named)
    rows.append(
        Row(
            item="8",
            measurement="instructions (callgrind): the rest of the check (the token against "
            "the verified claims, role tests, exp, aud and sub checks), by difference",
            result=f"+{rest / 1000:,.1f} k per transaction",
            baseline=f"{rest / check_instructions:.0%} of the check",
        )
    )
    return rows, {
        "instructions_per_transaction": {
            name: round(value) for name, value in instructions.items()
        },
        "instructions_added": {name: round(value) for name, value in parts.items()},
        "instructions_rest": round(rest),
        "timed_us_per_transaction": timed,
        "timed_cost_us": {"median": round(cost_us, 1), "rounds": rounds},
        "timed_host_path_cost_us": {"median": round(host_cost_us, 1), "rounds": host_rounds},
        "target_us": TARGET_US,
    }
