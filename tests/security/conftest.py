"""Fixtures of the security suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from movement_profiles_cli.stack.state import StackState
from tests.security.support import Database, connect


@pytest.fixture(scope="module")
def database(stack: StackState) -> Iterator[Database]:
    """One `postgres` connection per module, to arrange rows and fingerprint the table."""
    with connect(stack) as connection:
        yield connection
