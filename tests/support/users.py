"""Auth users of a stack: one at a time with a token, or many at once by SQL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import psycopg

from movement_profiles_cli.stack.state import StackState
from tests.support.tokens import access_token


@dataclass(frozen=True)
class StackUser:
    """An auth user of a stack, with a valid access token."""

    id: uuid.UUID
    email: str
    access_token: str


def create_user(stack: StackState) -> StackUser:
    """A fresh auth user (so that no two callers share rows) and its token."""
    user_id = uuid.uuid4()
    email = f"{user_id}@test.movement-profiles.local"
    with psycopg.connect(stack.db_url(), autocommit=True) as connection:
        connection.execute("insert into auth.users (id, email) values (%s, %s)", (user_id, email))
    return StackUser(user_id, email, access_token(stack, str(user_id)))


def create_users(stack: StackState, ids_sql: str) -> None:
    """The auth users whose ids the query `ids_sql` lists (those that exist are left alone)."""
    with psycopg.connect(stack.db_url(), autocommit=True) as connection:
        connection.execute(f"insert into auth.users (id) {ids_sql} on conflict (id) do nothing")
