"""Where `from_env()` finds the project URL and keys.

In order:

1. The environment: ``SUPABASE_URL``, ``SUPABASE_ANON_KEY``, ``SUPABASE_SERVICE_ROLE_KEY``.
2. A ``.env`` file (python-dotenv): the one passed as `env_file`, else the nearest one found from
   the current directory upwards. The process environment wins over the file, and the file is only
   read, never loaded into ``os.environ``.
3. When neither names any of the three, the local stack that ``make up`` runs: its state file
   ``$MOVEMENT_PROFILES_STACK_DIR/stack.json``, else ``<project>/.stack/stack.json``, where the
   project is ``$MOVEMENT_PROFILES_PROJECT_DIR`` or the nearest folder holding
   ``supabase/config.toml`` upwards from the working directory. Its fields ``api_url``,
   ``anon_key`` and ``service_role_key`` are read as JSON (docs/sdk.md); the SDK does not need
   the CLI for that. The stack is used whether it is running or not: a stopped stack makes the
   first call raise `ServiceUnavailableError`, which says more than a configuration error would.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values, find_dotenv

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


@dataclass(frozen=True)
class Settings:
    """A project's URL and keys, and where they came from (for error messages)."""

    url: str
    anon_key: str | None
    service_role_key: str | None
    source: str

    def key(self, *, service_role: bool) -> str:
        """The service role key or the anon key; ConfigurationError when it is not set."""
        key = self.service_role_key if service_role else self.anon_key
        if not key:
            name = SERVICE_ROLE_KEY_ENV if service_role else ANON_KEY_ENV
            raise ConfigurationError(f"{name} is not set ({self.source})")
        return key


def _environment(env_file: str | os.PathLike[str] | None) -> dict[str, str]:
    path = Path(env_file) if env_file is not None else None
    if path is not None and not path.is_file():
        raise ConfigurationError(f"env file {path} does not exist")
    found = str(path) if path is not None else find_dotenv(usecwd=True)
    from_file = {
        name: value for name, value in (dotenv_values(found) if found else {}).items() if value
    }
    return {**from_file, **{name: value for name, value in os.environ.items() if value}}


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
    """The URL and keys `from_env()` uses (see the module docstring for the order)."""
    environment = dict(environ) if environ is not None else _environment(env_file)
    names = (URL_ENV, ANON_KEY_ENV, SERVICE_ROLE_KEY_ENV)
    if any(environment.get(name) for name in names):
        url = environment.get(URL_ENV)
        if not url:
            raise ConfigurationError(f"{URL_ENV} is not set, but a Supabase key is")
        return Settings(
            url=url,
            anon_key=environment.get(ANON_KEY_ENV),
            service_role_key=environment.get(SERVICE_ROLE_KEY_ENV),
            source="environment",
        )
    local = local_stack_settings()
    if local is None:
        raise ConfigurationError(
            f"no {URL_ENV} or keys in the environment or a .env file, and no local stack: "
            "set them, or start the local stack with `make up`"
        )
    return local
