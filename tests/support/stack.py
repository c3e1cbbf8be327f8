"""Throwaway stacks: free ports, a temporary folder, everything removed afterwards."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from movement_profiles_cli.stack.local_stack import LocalStack
from movement_profiles_cli.stack.state import StackState


@contextmanager
def throwaway_stack(
    prefix: str = "movement-profiles-test-", *, pg_major: int | None = None
) -> Iterator[LocalStack]:
    """A running stack of its own (`pg_major`: MP_PG or supabase/config.toml's when None);
    stopped and deleted (runtime folder included) on exit."""
    state_dir = Path(tempfile.mkdtemp(prefix=prefix))
    stack = LocalStack.open(state_dir, free_ports=True, pg_major=pg_major)
    try:
        stack.up()
        yield stack
    finally:
        # A test may have restarted parts (new pids): stop what the state file names now.
        recorded = StackState.load(state_dir)
        if recorded is not None:
            stack.state = recorded
        stack.destroy()
