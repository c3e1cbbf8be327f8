"""Where `from_env()` finds the project URL and keys.

The URL and the key always come from the same place: the first of these that sets any of
``SUPABASE_URL``, ``SUPABASE_ANON_KEY`` and ``SUPABASE_SERVICE_ROLE_KEY`` gives all of them.

1. The environment.
2. One ``.env`` file (read by python-dotenv, never loaded into ``os.environ``): the one passed as
   `env_file`, else ``.env`` in the current directory. Never one in a parent folder: whoever owns
   that folder (``/tmp``, a shared home) would choose where the key goes.
3. When neither sets any of the three, the local stack that ``make up`` runs: its state file
   ``$MOVEMENT_PROFILES_STACK_DIR/stack.json``, else ``<project>/.stack/stack.json``, where the
   project is ``$MOVEMENT_PROFILES_PROJECT_DIR`` or the nearest folder holding
   ``supabase/config.toml`` upwards from the working directory. Its fields ``api_url``,
   ``anon_key`` and ``service_role_key`` are read as JSON (docs/sdk.md); the SDK does not need
   the CLI for that. The stack is used whether it is running or not: a stopped stack makes the
   first call raise `ServiceUnavailableError`, which says more than a configuration error would.

A place that sets a key but not the URL, or lacks the key asked for, is not completed from a later
one: a service role key in the environment is never sent to the URL of a ``.env`` file. When the
later one has what is missing, `ConfigurationError` names both places.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from movement_profiles.errors import ConfigurationError

__all__ = [
    "ANON_KEY_ENV",
    "SERVICE_ROLE_KEY_ENV",
    "URL_ENV",
    "Settings",
    "load_settings",
    "local_stack_dir",
    "local_stack_settings",
]

URL_ENV = "SUPABASE_URL"
ANON_KEY_ENV = "SUPABASE_ANON_KEY"
SERVICE_ROLE_KEY_ENV = "SUPABASE_SERVICE_ROLE_KEY"
#: Where the local stack keeps its state (the CLI's ``--state-dir`` default).
STACK_DIR_ENV = "MOVEMENT_PROFILES_STACK_DIR"
PROJECT_DIR_ENV = "MOVEMENT_PROFILES_PROJECT_DIR"
STACK_FILE = "stack.json"
#: The file read when `from_env()` is given none, in the current directory.
ENV_FILE = ".env"
_NAMES = (URL_ENV, ANON_KEY_ENV, SERVICE_ROLE_KEY_ENV)
_ENVIRONMENT = "the environment"


@dataclass(frozen=True)
class Settings:
    """A project's URL and keys, and where they came from (for error messages)."""

    url: str
    anon_key: str | None
    service_role_key: str | None
    source: str
    #: The keys this source lacks that a later source sets, with that source: named in the error,
    #: never used.
    elsewhere: Mapping[str, str] = field(default_factory=dict)

    def key(self, *, service_role: bool) -> str:
        """The service role key or the anon key; ConfigurationError when it is not set."""
        key = self.service_role_key if service_role else self.anon_key
        if not key:
            name = SERVICE_ROLE_KEY_ENV if service_role else ANON_KEY_ENV
            if name in self.elsewhere:
                raise ConfigurationError(
                    _mixed(f"{URL_ENV} is set in {self.source}", name, self.elsewhere[name])
                )
            raise ConfigurationError(f"{name} is not set ({self.source})")
        return key


def _mixed(here: str, name: str, there: str) -> str:
    return (
        f"{here}, but {name} only in {there}: a URL and its key must come from the same place, "
        "and are never combined from two; set both in one of them"
    )


def _sources(env_file: str | os.PathLike[str] | None) -> list[tuple[str, dict[str, str]]]:
    """The environment's settings, then the .env file's, each with its name."""
    environment = {name: value for name in _NAMES if (value := os.environ.get(name))}
    path = Path(env_file) if env_file is not None else Path.cwd() / ENV_FILE
    if env_file is not None and not path.is_file():
        raise ConfigurationError(f"env file {path} does not exist")
    from_file: dict[str, str] = {}
    if path.is_file():
        try:
            values = dotenv_values(path, encoding="utf-8")
        except (OSError, ValueError) as error:  # UnicodeDecodeError is a ValueError
            raise ConfigurationError(f"{path.resolve()} cannot be read: {error}") from None
        from_file = {name: value for name in _NAMES if (value := values.get(name))}
    return [(_ENVIRONMENT, environment), (f"{path.resolve()}", from_file)]


def local_stack_dir() -> Path | None:
    """The local stack's state folder, as the CLI chooses it, or None outside a checkout."""
    configured = os.environ.get(STACK_DIR_ENV)
    if configured:
        return Path(configured).resolve()
    project = os.environ.get(PROJECT_DIR_ENV)
    if project:
        return Path(project).resolve() / ".stack"
    # The working directory first; then this file, for an editable install in the checkout.
    for start in (Path.cwd(), Path(__file__).resolve()):
        for candidate in (start, *start.parents):
            if (candidate / "supabase" / "config.toml").is_file():
                return candidate / ".stack"
    return None


def local_stack_settings(state_dir: Path | None = None) -> Settings | None:
    """The local stack's URL and keys from its ``stack.json``, or None when there is no stack.

    `state_dir` defaults to `local_stack_dir()`. A file without ``api_url`` and the keys was
    written before they were recorded: ``movement-profiles stack up`` writes them again.
    """
    directory = state_dir or local_stack_dir()
    if directory is None:
        return None
    path = directory / STACK_FILE
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    fields = ("api_url", "anon_key", "service_role_key")
    if not isinstance(record, dict) or not all(
        isinstance(record.get(name), str) for name in fields
    ):
        raise ConfigurationError(
            f"{path} has no {', '.join(fields)}: run `movement-profiles stack up` to rewrite it"
        )
    return Settings(
        url=record["api_url"],
        anon_key=record["anon_key"],
        service_role_key=record["service_role_key"],
        source=f"local stack in {directory}",
    )


def load_settings(
    env_file: str | os.PathLike[str] | None = None, *, environ: Mapping[str, str] | None = None
) -> Settings:
    """The URL and keys `from_env()` uses, all from one place (see the module docstring).

    `environ`, when given, stands for the environment, and no .env file is read.
    """
    sources = (
        [(_ENVIRONMENT, {name: value for name in _NAMES if (value := environ.get(name))})]
        if environ is not None
        else _sources(env_file)
    )
    for index, (source, values) in enumerate(sources):
        if not values:
            continue
        later = sources[index + 1 :]
        url = values.get(URL_ENV)
        if not url:
            key_name = next(name for name in _NAMES if values.get(name))
            there = next((other for other, found in later if found.get(URL_ENV)), None)
            if there is not None:
                raise ConfigurationError(_mixed(f"{key_name} is set in {source}", URL_ENV, there))
            raise ConfigurationError(f"{URL_ENV} is not set, but a Supabase key is ({source})")
        elsewhere: dict[str, str] = {}
        for name in (ANON_KEY_ENV, SERVICE_ROLE_KEY_ENV):
            if not values.get(name):
                there = next((other for other, found in later if found.get(name)), None)
                if there is not None:
                    elsewhere[name] = there
        return Settings(
            url=url,
            anon_key=values.get(ANON_KEY_ENV),
            service_role_key=values.get(SERVICE_ROLE_KEY_ENV),
            source=source,
            elsewhere=elsewhere,
        )
    local = local_stack_settings()
    if local is None:
        raise ConfigurationError(
            f"no {URL_ENV} or keys in the environment or a .env file, and no local stack: "
            "set them, or start the local stack with `make up`"
        )
    return local
