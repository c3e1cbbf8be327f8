"""The environment a CLI process gets in tests and the bench: the caller's, without any project
settings (a developer's SUPABASE_* or MOVEMENT_PROFILES_*), pointed at one stack."""

from __future__ import annotations

import os

from movement_profiles_cli.stack.state import STATE_DIR_ENV, StackState


def cli_environment(stack: StackState, **extra: str) -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SUPABASE_", "MOVEMENT_PROFILES_"))
    }
    environment.update(
        SUPABASE_URL=stack.api_url,
        SUPABASE_ANON_KEY=stack.anon_key,
        SUPABASE_SERVICE_ROLE_KEY=stack.service_role_key,
        NO_COLOR="1",
    )
    environment[STATE_DIR_ENV] = str(stack.state_dir)
    environment.update(extra)
    return environment
