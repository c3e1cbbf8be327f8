"""Auth users of a stack: one at a time with a token, or many at once by SQL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg

from movement_profiles_cli.stack.state import StackState
from tests.support.tokens import access_token

#: Where the users' e-mail addresses live: made up from their ids, unique and never delivered.
EMAIL_DOMAIN = "test.movement-profiles.local"


@dataclass(frozen=True)
class StackUser:
    """An auth user of a stack, with a valid access token."""

    id: uuid.UUID
    email: str
    access_token: str


def create_auth_users(db: psycopg.Connection[Any], count: int) -> list[uuid.UUID]:
    """`count` fresh rows in auth.users (what Supabase Auth's sign-up makes), so that no two
    callers share rows; their ids, in one statement on the caller's connection."""
    user_ids = [uuid.uuid4() for _ in range(count)]
    db.execute(
        "insert into auth.users (id, email) "
        "select id, id::text || '@' || %s from unnest(%s::uuid[]) as id",
        (EMAIL_DOMAIN, user_ids),
    )
    return user_ids


def create_user(stack: StackState) -> StackUser:
    """A fresh auth user and its token."""
    with psycopg.connect(stack.db_url(), autocommit=True) as connection:
        [user_id] = create_auth_users(connection, 1)
    return StackUser(user_id, f"{user_id}@{EMAIL_DOMAIN}", access_token(stack, user_id))


def create_users(stack: StackState, ids_sql: str) -> None:
    """The auth users whose ids the query `ids_sql` lists (those that exist are left alone)."""
    with psycopg.connect(stack.db_url(), autocommit=True) as connection:
        connection.execute(f"insert into auth.users (id) {ids_sql} on conflict (id) do nothing")
