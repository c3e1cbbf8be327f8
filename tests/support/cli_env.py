"""The environment a CLI or SDK process gets in tests and the bench: the caller's, without any
project settings (a developer's SUPABASE_* or MOVEMENT_PROFILES_*), pointed at one stack."""

from __future__ import annotations

import os

from movement_profiles_cli.stack.state import STATE_DIR_ENV, StackState

#: What names a project setting; a variable starting so in the caller's shell would steer the
#: process to another project or stack.
SETTING_PREFIXES = ("SUPABASE_", "MOVEMENT_PROFILES_")


def settings_in_environment() -> list[str]:
    """The project settings the caller's environment holds."""
    return [name for name in os.environ if name.startswith(SETTING_PREFIXES)]


def clean_environment(**extra: str) -> dict[str, str]:
    """The caller's environment without project settings, plus `extra`."""
    unset = set(settings_in_environment())
    environment = {name: value for name, value in os.environ.items() if name not in unset}
    environment.update(extra)
    return environment


def cli_environment(stack: StackState, **extra: str) -> dict[str, str]:
    """A clean environment with the stack's URL and keys, as a CI job would set them, and the
    stack as the local stack."""
    environment = clean_environment(
        SUPABASE_URL=stack.api_url,
        SUPABASE_ANON_KEY=stack.anon_key,
        SUPABASE_SERVICE_ROLE_KEY=stack.service_role_key,
        NO_COLOR="1",
    )
    environment[STATE_DIR_ENV] = str(stack.state_dir)
    environment.update(extra)
    return environment
