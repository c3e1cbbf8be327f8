"""Scratch databases on the platform baseline, in the test stack's cluster: a host project's
database before the component is installed, for tests that install it the documented way."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from movement_profiles_cli.stack import schema
from movement_profiles_cli.stack.local_stack import BASELINE_SQL, LocalStack
from movement_profiles_cli.stack.state import ADMIN_USER, StackState


@contextmanager
def scratch_database(local_stack: LocalStack) -> Iterator[str]:
    """A database of its own on the platform baseline, dropped afterwards."""
    name = f"guest_{uuid.uuid4().hex[:8]}"
    local_stack.psql("--command", f"create database {name} owner postgres", user=ADMIN_USER)
    try:
        local_stack.psql("--file", str(BASELINE_SQL), database=name, user=ADMIN_USER)
        yield name
    finally:
        local_stack.psql("--command", f"drop database {name} with (force)", user=ADMIN_USER)


def push_migrations(
    local_stack: LocalStack, stack: StackState, database: str, project: Path | None = None
) -> None:
    """A project's pending migrations (this checkout's when None), exactly as `supabase db push`
    applies them: as `postgres`, by the Supabase CLI."""
    result = schema.migration_up(
        local_stack.supabase_cli,
        stack.db_url(database=database),
        project or local_stack.project_dir,
    )
    assert result.returncode == 0, result.stderr
