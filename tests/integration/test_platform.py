"""The project on the Supabase platform as it really is: `postgres` is not a superuser, auth.users
belongs to Supabase Auth and is under row level security, and still a signed-in user works with
their profile over HTTP while a token for no user is refused.

The migrations' own hook handling is here too: a project that already has a PostgREST
pre-request hook keeps it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import psycopg
import pytest

from movement_profiles_cli.stack import jwt
from movement_profiles_cli.stack.local_stack import BASELINE_SQL, LocalStack
from movement_profiles_cli.stack.state import ADMIN_USER, StackState
from tests.conftest import StackUser

pytestmark = pytest.mark.integration

Database = psycopg.Connection[tuple[object, ...]]
PRE_REQUEST_MIGRATION = "*_movement_profiles_request_check_hook.sql"


@pytest.fixture
def api(stack: StackState) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.rest_url, headers={"apikey": stack.anon_key}) as client:
        yield client


def test_tests_and_migrations_connect_as_postgres_without_superuser(db: Database) -> None:
    row = db.execute(
        "select current_user, rolsuper, rolbypassrls, rolcreaterole "
        "from pg_catalog.pg_roles where rolname = current_user"
    ).fetchone()
    assert row == ("postgres", False, True, True)


def test_auth_users_is_supabase_auths_table_under_row_level_security(db: Database) -> None:
    row = db.execute(
        "select relowner::regrole::text, relrowsecurity from pg_catalog.pg_class "
        "where oid = 'auth.users'::regclass"
    ).fetchone()
    assert row == ("supabase_auth_admin", True)


def test_a_known_user_creates_reads_and_updates_their_profile_over_http(
    api: httpx.Client, make_user: Callable[[], StackUser]
) -> None:
    user = make_user()
    bearer = {"Authorization": f"Bearer {user.access_token}"}
    created = api.post(
        "/movement_profiles",
        json={"training_preferences": ["running"], "goals": ["improve_endurance"]},
        headers={**bearer, "Prefer": "return=representation"},
    )
    assert created.status_code == 201, created.text
    read = api.get(f"/movement_profiles?user_id=eq.{user.id}&select=goals", headers=bearer)
    assert read.status_code == 200, read.text
    assert read.json() == [{"goals": ["improve_endurance"]}]
    updated = api.patch(
        f"/movement_profiles?user_id=eq.{user.id}",
        json={"goals": ["general_health"]},
        headers={**bearer, "Prefer": "return=representation"},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()[0]["goals"] == ["general_health"]


def test_a_token_for_no_user_is_refused_with_401(api: httpx.Client, stack: StackState) -> None:
    token = jwt.user_token(
        str(uuid.uuid4()), stack.jwt_secret, issued_at=int(time.time()), expires_in=3600
    )
    response = api.get("/movement_profiles", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["message"] == "JWT sub claim names no user"


def test_the_migration_keeps_a_pre_request_hook_the_project_already_has(
    local_stack: LocalStack, stack: StackState
) -> None:
    """Replays the pre-request migration, as `postgres`, in a scratch database on the platform
    baseline whose authenticator already has a hook there: the hook stays, and the migration
    warns with what to do instead."""
    scratch = f"hook_{uuid.uuid4().hex[:8]}"
    local_stack.psql("--command", f"create database {scratch} owner postgres", user=ADMIN_USER)
    try:
        local_stack.psql("--file", str(BASELINE_SQL), database=scratch, user=ADMIN_USER)
        migration = next(
            (local_stack.project_dir / "supabase" / "migrations").glob(PRE_REQUEST_MIGRATION)
        )
        warnings: list[str] = []
        with psycopg.connect(stack.db_url(database=scratch), autocommit=True) as connection:
            connection.add_notice_handler(lambda notice: warnings.append(notice.message_primary))
            connection.execute(
                f"alter role authenticator in database {scratch} "
                "set pgrst.db_pre_request = 'public.projects_own_hook'"
            )
            connection.execute(migration.read_text())
            settings = connection.execute(
                "select setdatabase <> 0, setconfig from pg_catalog.pg_db_role_setting "
                "where setrole = 'authenticator'::regrole order by setdatabase"
            ).fetchall()
        assert warnings == [
            "pgrst.db_pre_request is already public.projects_own_hook; left unchanged"
        ]
        # The scratch database's own hook was not replaced (the cluster-wide setting is the test
        # stack's own, from its migrations).
        assert settings[-1] == (True, ["pgrst.db_pre_request=public.projects_own_hook"])
    finally:
        local_stack.psql("--command", f"drop database {scratch} with (force)", user=ADMIN_USER)
