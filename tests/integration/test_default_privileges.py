"""The component works in a host that revoked the default privileges on functions, whether it did so
before the install or after.

Popular Supabase starters run `alter default privileges revoke execute on functions from public`
(and `... in schema public ... from anon, authenticated`): every function created afterwards is
callable by its owner alone until granted. Each case installs the migrations the documented way
(`supabase migration up`, as `postgres`) into a scratch database on the platform baseline, then
writes and reads as `authenticated` the way PostgREST runs a request: `set role`, the claims, the
pre-request check.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator

import psycopg
import pytest

from movement_profiles_cli.stack.local_stack import LocalStack
from movement_profiles_cli.stack.state import StackState
from tests.support.databases import push_migrations, scratch_database
from tests.support.users import create_auth_users

pytestmark = pytest.mark.integration

Database = psycopg.Connection[tuple[object, ...]]

HOST_REVOKES = (
    "alter default privileges revoke execute on functions from public",
    "alter default privileges in schema public "
    "revoke execute on functions from anon, authenticated",
)


@pytest.fixture
def scratch(local_stack: LocalStack) -> Iterator[str]:
    with scratch_database(local_stack) as name:
        yield name


def install(local_stack: LocalStack, stack: StackState, database: str) -> None:
    push_migrations(local_stack, stack, database)


def as_api_role(db: Database, claims: dict[str, object], path: str) -> None:
    """What PostgREST does at the start of a request's transaction for a token with these claims
    (its signature is PostgREST's to verify, not the check's), then its pre-request check."""
    token = ".".join(
        base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
        for part in ({"alg": "HS256", "typ": "JWT"}, claims)
    )
    headers = {"authorization": f"Bearer {token}.signature"} if len(claims) > 1 else {}
    db.execute(
        "select set_config('role', %s, true), set_config('request.jwt.claims', %s, true), "
        "set_config('request.path', %s, true), set_config('request.headers', %s, true)",
        (claims["role"], json.dumps(claims), path, json.dumps(headers)),
    )
    db.execute("select movement_profiles_internal.check_request()")


@pytest.mark.parametrize("revoked", ["before the install", "after the install"])
def test_the_component_works_with_default_function_privileges_revoked(
    local_stack: LocalStack, stack: StackState, scratch: str, revoked: str
) -> None:
    with psycopg.connect(stack.db_url(database=scratch), autocommit=True) as db:
        if revoked == "before the install":
            for statement in HOST_REVOKES:
                db.execute(statement)
        install(local_stack, stack, scratch)
        if revoked == "after the install":
            for statement in HOST_REVOKES:
                db.execute(statement)
        [user_id] = create_auth_users(db, 1)

        with db.transaction(force_rollback=True):
            # No token: the options, and nothing of the table.
            as_api_role(db, {"role": "anon"}, "/rpc/movement_profile_options")
            options = db.execute("select public.movement_profile_options()").fetchone()
            assert options is not None
            assert set(options[0]) == {"training_preferences", "goals"}

        with db.transaction(force_rollback=True):
            # A user's request on the table: the check looks the user up, the domains validate,
            # the trigger sets updated_at.
            claims = {
                "sub": str(user_id), "role": "authenticated", "aud": "authenticated",
                "exp": int(time.time()) + 3600,
            }  # fmt: skip
            as_api_role(db, claims, "/movement_profiles")
            created = db.execute(
                "insert into public.movement_profiles (user_id, training_preferences, goals) "
                "values (%s, '[\"yoga\"]', '[\"rehab\"]') returning goals",
                (user_id,),
            ).fetchone()
            assert created == (["rehab"],)
            updated = db.execute(
                "update public.movement_profiles set goals = '[\"lose_fat\"]' "
                "returning goals, updated_at > created_at"
            ).fetchone()
            assert updated == (["lose_fat"], True)
            with pytest.raises(psycopg.errors.CheckViolation) as refused, db.transaction():
                db.execute("update public.movement_profiles set goals = '[\"dance\"]'")
            assert refused.value.diag.message_hint == "goals"

        with db.transaction(force_rollback=True):
            # The service role writes for any user.
            as_api_role(db, {"role": "service_role"}, "/movement_profiles")
            db.execute(
                "insert into public.movement_profiles (user_id, training_preferences, goals) "
                "values (%s, '[\"running\"]', '[\"general_health\"]')",
                (user_id,),
            )
