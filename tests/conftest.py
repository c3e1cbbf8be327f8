"""Fixtures shared by every test: a real, throwaway local stack and ways to act as its users.

`make test` starts the throwaway stack once (tests/run_suite.sh) and names its state folder in
MOVEMENT_PROFILES_TEST_STACK_DIR; a bare `pytest` starts its own on free ports. Neither touches the
developer's stack in .stack/.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from movement_profiles_cli.stack.local_stack import LocalStack
from movement_profiles_cli.stack.state import StackState
from tests.support.stack import throwaway_stack
from tests.support.users import StackUser, create_user

TEST_STACK_ENV = "MOVEMENT_PROFILES_TEST_STACK_DIR"


@pytest.fixture(scope="session")
def stack() -> Iterator[StackState]:
    """The running throwaway stack's state (URLs, ports, keys, secret)."""
    shared = os.environ.get(TEST_STACK_ENV)
    if shared:
        state = StackState.load(Path(shared))
        assert state is not None, f"{TEST_STACK_ENV}={shared} holds no stack"
        yield state
        return
    with throwaway_stack() as local_stack:
        yield local_stack.state


@pytest.fixture(scope="session")
def local_stack(stack: StackState) -> LocalStack:
    """The stack's controller (psql, migrate), for tests that need more than HTTP."""
    return LocalStack.open(stack.state_dir)


@pytest.fixture
def db(stack: StackState) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """An autocommit connection as `postgres` (the project owner, not a superuser), for arranging
    and checking data."""
    with psycopg.connect(stack.db_url(), autocommit=True) as connection:
        yield connection


@pytest.fixture
def make_user(stack: StackState) -> Callable[[], StackUser]:
    """Create a fresh auth user (so tests never share rows) and mint its token."""
    return lambda: create_user(stack)
