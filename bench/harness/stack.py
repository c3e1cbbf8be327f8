"""The benchmark's throwaway stack (started by bench/run.sh) and the users it acts as.

Bench users have ids derived from a number, so SQL (`generate_series`), pgbench scripts and the
wrk users files all name the same user without a lookup: user n is
`00000000-0000-4000-8000-<n as 12 hex digits>`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from harness.cpu import process_tree_seconds
from movement_profiles_cli.stack import jwt
from movement_profiles_cli.stack.state import StackState

USER_ID_PREFIX = "00000000-0000-4000-8000-"
# The same expression in SQL, for generate_series and the pgbench scripts.
USER_ID_SQL = "('00000000-0000-4000-8000-' || lpad(to_hex({n}::bigint), 12, '0'))::uuid"
TABLE = '"public"."movement_profiles"'
BARE_SCHEMA = "bench_bare"
BARE_TABLE = f'"{BARE_SCHEMA}"."movement_profiles"'
TOKEN_LIFETIME = 6 * 3600


def user_id(number: int) -> str:
    return f"{USER_ID_PREFIX}{number:012x}"


@dataclass(frozen=True)
class UserRange:
    """Bench users first .. first + count - 1."""

    first: int
    count: int

    @property
    def last(self) -> int:
        return self.first + self.count - 1

    def ids_sql(self) -> str:
        """A SQL expression listing the range's user ids (for `where user_id in (...)`)."""
        return (
            f"select {USER_ID_SQL.format(n='n')} from generate_series({self.first}, {self.last}) n"
        )


class BenchStack:
    """SQL, users and PostgREST settings of the stack named by a state folder."""

    def __init__(self, state_dir: Path) -> None:
        state = StackState.load(state_dir)
        if state is None:
            raise SystemExit(f"no stack in {state_dir}: bench/run.sh starts one")
        self.state = state
        self.issued_at = int(time.time())

    # -- endpoints ---------------------------------------------------------------------------

    @property
    def gateway_url(self) -> str:
        """What a client calls: the nginx gateway in front of PostgREST."""
        return self.state.rest_url

    @property
    def postgrest_url(self) -> str:
        """PostgREST itself, without the gateway."""
        return self.state.postgrest_url

    @property
    def anon_key(self) -> str:
        return self.state.anon_key

    @property
    def service_role_key(self) -> str:
        return self.state.service_role_key

    def db_url(self, user: str = "postgres") -> str:
        return self.state.db_url(user=user)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds each server (with its children) has used so far."""
        pids = self.state.pids
        return {
            "postgres": process_tree_seconds(pids.postgres),
            "postgrest": process_tree_seconds(pids.postgrest),
            "nginx": process_tree_seconds(pids.nginx),
        }

    # -- SQL ---------------------------------------------------------------------------------

    @contextmanager
    def connect(self) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
        with psycopg.connect(self.db_url(), autocommit=True) as connection:
            yield connection

    def execute(self, query: str, params: tuple[Any, ...] | None = None) -> None:
        with self.connect() as connection:
            connection.execute(query, params)

    def fetch_value(self, query: str, params: tuple[Any, ...] | None = None) -> Any:
        with self.connect() as connection:
            row = connection.execute(query, params).fetchone()
        return None if row is None else row[0]

    def fetch_rows(self, query: str) -> list[tuple[Any, ...]]:
        with self.connect() as connection:
            return connection.execute(query).fetchall()

    def vacuum(self, table: str = TABLE) -> None:
        """Clean up dead rows between runs, so every run starts from the same table state."""
        self.execute(f"vacuum (analyze) {table}")

    # -- users -------------------------------------------------------------------------------

    def create_users(self, users: UserRange) -> None:
        """Add the range's auth users (no-op for those that exist)."""
        self.execute(
            f"insert into auth.users (id) select {USER_ID_SQL.format(n='n')} "
            f"from generate_series({users.first}, {users.last}) n on conflict (id) do nothing"
        )

    def create_profiles(self, users: UserRange, table: str = TABLE) -> None:
        self.execute(
            f"insert into {table} (user_id, training_preferences, goals) "
            f"select {USER_ID_SQL.format(n='n')}, "
            """'["running", "yoga"]', '["improve_endurance"]' """
            f"from generate_series({users.first}, {users.last}) n "
            "on conflict (user_id) do nothing"
        )

    def delete_profiles(self, users: UserRange, table: str = TABLE) -> None:
        self.execute(f"delete from {table} where user_id in ({users.ids_sql()})")

    def access_token(self, number: int) -> str:
        return jwt.user_token(
            user_id(number),
            self.state.jwt_secret,
            issued_at=self.issued_at,
            expires_in=TOKEN_LIFETIME,
        )

    def write_users_file(self, users: UserRange, path: Path) -> Path:
        """One "<user id> <access token>" line per user, for wrk/profiles.lua."""
        with path.open("w") as file:
            for number in range(users.first, users.last + 1):
                file.write(f"{user_id(number)} {self.access_token(number)}\n")
        return path

    # -- PostgREST ---------------------------------------------------------------------------

    def pre_request_function(self) -> str | None:
        """PostgREST's db-pre-request function, if the stack configures one (in the database, as
        on hosted Supabase, or in its config file)."""
        for (setting,) in self.fetch_rows(
            "select unnest(setconfig) from pg_catalog.pg_db_role_setting "
            "where setrole = 'authenticator'::regrole"
        ):
            name, _, value = setting.partition("=")
            if name == "pgrst.db_pre_request" and value:
                return str(value)
        config_file = self.state.runtime_dir / "postgrest.conf"
        if config_file.exists():
            found = re.search(r'^db-pre-request\s*=\s*"([^"]+)"', config_file.read_text(), re.M)
            if found:
                return found.group(1)
        return None

    def configure_postgrest(self, **settings: str | None) -> None:
        """Change PostgREST settings in the database (db-config) and reload them.

        Only the bench's own stack is ever changed; `None` removes a setting.
        """
        with self.connect() as connection:
            for name, value in settings.items():
                key = "pgrst." + name
                if value is None:
                    connection.execute(f"alter role authenticator reset {key}")
                else:
                    connection.execute(
                        f"alter role authenticator set {key} = {_sql_literal(value)}"
                    )
            connection.execute("notify pgrst, 'reload config'")
            connection.execute("notify pgrst, 'reload schema'")
        # PostgREST reloads asynchronously and has no "reloaded" signal on its admin port.
        time.sleep(1.0)


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
