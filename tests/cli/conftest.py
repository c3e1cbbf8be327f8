"""Running `movement-profiles` in-process with Typer's CliRunner, against the throwaway stack.

Every invocation goes through `run`, which also checks what must hold for every command: no
traceback, and no key or token anywhere in what it printed.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner, Result

from movement_profiles_cli.main import app
from movement_profiles_cli.stack.state import StackState
from tests.support.cli_env import settings_in_environment
from tests.support.users import StackUser, create_auth_users


class _UnbufferedStderrRunner(CliRunner):
    """Click 8.1's runner reads stderr without flushing what `print(file=sys.stderr)` wrote (a
    real process's stderr is line-buffered, and 8.2's runner flushes it)."""

    @contextlib.contextmanager
    def isolation(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        with super().isolation(*args, **kwargs) as streams:
            sys.stderr.reconfigure(write_through=True)  # type: ignore[union-attr]
            yield streams


def cli_runner() -> CliRunner:
    """A runner that keeps stderr apart from stdout: Click 8.2 always does, 8.1 (with Typer 0.15)
    must be asked to."""
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:
        options: dict[str, Any] = {"mix_stderr": False}
        return _UnbufferedStderrRunner(**options)
    return CliRunner()


#: The fields of a profile as `get --json` prints them and the columns `export` writes, in order.
PROFILE_FIELDS = [
    "id",
    "user_id",
    "training_preferences",
    "goals",
    "custom_fields",
    "created_at",
    "updated_at",
]


def offline_catalogue(*custom: tuple[str, list[str], bool]) -> Any:
    """A catalogue for tests without a stack: the built-in fields with the values the component
    ships with (the SDK's documented constants), then each (name, values, required) given."""
    from movement_profiles import Goal, TrainingPreference
    from movement_profiles.catalogue import Catalogue

    def entry(name: str, values: list[str], required: bool, built_in: bool) -> dict[str, Any]:
        return {
            "name": name,
            "label": name.capitalize(),
            "description": "",
            "required": required,
            "built_in": built_in,
            "values": [{"value": value, "label": value, "description": ""} for value in values],
        }

    return Catalogue.model_validate(
        {
            "fields": [
                entry("training_preferences", list(TrainingPreference), True, True),
                entry("goals", list(Goal), True, True),
                *(entry(name, values, required, False) for name, values, required in custom),
            ]
        }
    )


@dataclass
class Cli:
    """Runs the CLI with the given environment and checks each outcome for leaks."""

    environment: dict[str, str | None]
    secrets: list[str] = field(default_factory=list)

    def run(
        self, *arguments: str, input: str | None = None, env: dict[str, str | None] | None = None
    ) -> Result:
        result = cli_runner().invoke(
            app, list(arguments), input=input, env={**self.environment, **(env or {})}
        )
        printed = result.stdout + result.stderr
        assert "Traceback" not in printed, printed
        # typer.Exit and sys.exit end as SystemExit; anything else escaped the error handling.
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            repr(result.exception),
            printed,
        )
        for secret in self.secrets:
            assert secret not in printed, "a key or token was printed"
        return result

    def json(self, *arguments: str) -> Any:
        result = self.run(*arguments, "--json")
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)


def isolated_environment(home: Path) -> dict[str, str | None]:
    """No configuration from the caller's shell, and HOME/cwd-independent."""
    return {name: None for name in settings_in_environment()} | {"HOME": str(home)}


@pytest.fixture
def cli(stack: StackState, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The CLI as an admin of the throwaway stack (service key, through the environment)."""
    # A .env file found from the working directory would be read by the SDK: work elsewhere.
    monkeypatch.chdir(tmp_path)
    environment = isolated_environment(tmp_path) | {
        "SUPABASE_URL": stack.api_url,
        "SUPABASE_ANON_KEY": stack.anon_key,
        "SUPABASE_SERVICE_ROLE_KEY": stack.service_role_key,
    }
    return Cli(environment, secrets=[stack.service_role_key, stack.anon_key, stack.jwt_secret])


@pytest.fixture
def user_cli(cli: Cli) -> Callable[[StackUser], Cli]:
    """The CLI as a user: their token is a secret too."""

    def as_user(user: StackUser) -> Cli:
        return Cli(cli.environment, secrets=[*cli.secrets, user.access_token])

    return as_user


Database = psycopg.Connection[tuple[object, ...]]


def stored_profile(db: Database, user_id: uuid.UUID | str) -> tuple[object, ...] | None:
    return db.execute(
        "select training_preferences, goals, updated_at from public.movement_profiles "
        "where user_id = %s",
        (str(user_id),),
    ).fetchone()


def delete_users(db: Database, user_ids: Sequence[uuid.UUID]) -> None:
    """Remove auth users; their profiles go with them (on delete cascade)."""
    db.execute("delete from auth.users where id = any(%s)", ([str(u) for u in user_ids],))


@pytest.fixture
def fresh_users(db: Database) -> Iterator[Callable[[int], list[uuid.UUID]]]:
    """Creates auth users for a test and removes them (and their profiles) afterwards."""
    created: list[uuid.UUID] = []

    def make(count: int) -> list[uuid.UUID]:
        users = create_auth_users(db, count)
        created.extend(users)
        return users

    yield make
    delete_users(db, created)
