"""Where `from_env()` finds the project URL and keys.

In order:

1. The environment: ``SUPABASE_URL``, ``SUPABASE_ANON_KEY``, ``SUPABASE_SERVICE_ROLE_KEY``.
2. A ``.env`` file (python-dotenv): the one passed as `env_file`, else the nearest one found from
   the current directory upwards. The process environment wins over the file, and the file is only
   read, never loaded into ``os.environ``.
3. When neither names any of the three, the local stack that ``make up`` runs: its state file
   ``<project>/.stack/stack.json`` (or ``$MOVEMENT_PROFILES_STACK_DIR/stack.json``), read with the
   CLI's own loader. The stack is used whether it is running or not: a stopped stack makes the
   first call raise `ServiceUnavailableError`, which says more than a configuration error would.
"""

from __future__ import annotations

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
    "local_stack_settings",
]

URL_ENV = "SUPABASE_URL"
ANON_KEY_ENV = "SUPABASE_ANON_KEY"
SERVICE_ROLE_KEY_ENV = "SUPABASE_SERVICE_ROLE_KEY"


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


def local_stack_settings(state_dir: Path | None = None) -> Settings | None:
    """The local stack's URL and keys from its state file, or None when there is no local stack.

    `state_dir` defaults to the CLI's default (``<project>/.stack`` or
    ``$MOVEMENT_PROFILES_STACK_DIR``). The CLI package is imported here, not at the top: the SDK
    works without it (e.g. in a service that ships only the SDK), it just has no local default.
    """
    try:
        from movement_profiles_cli.stack.state import StackState, default_state_dir
    except ImportError:
        return None
    try:
        directory = state_dir or default_state_dir()
    except FileNotFoundError:
        return None
    state = StackState.load(directory)
    if state is None:
        return None
    return Settings(
        url=state.api_url,
        anon_key=state.anon_key,
        service_role_key=state.service_role_key,
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
