"""The project on the Supabase platform as it really is: `postgres` is not a superuser, auth.users
belongs to Supabase Auth and is under row level security, and still a signed-in user works with
their profile over HTTP while a token for no user is refused.

The migrations' own hook handling is here too: a project that already has a PostgREST
pre-request hook keeps it. And a host project's own SQL over the platform's tables (auth.users'
many columns, a Storage bucket and policies on storage.objects) applies on the baseline as it
does on hosted.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import psycopg
import pytest

from movement_profiles_cli.stack.local_stack import BASELINE_SQL, LocalStack
from movement_profiles_cli.stack.state import ADMIN_USER, StackState
from tests.support.tokens import access_token
from tests.support.users import StackUser

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
    token = access_token(stack, uuid.uuid4())
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


# A host project in the shape of Supabase's user-management example: profiles that follow
# auth.users through a trigger reading the sign-up metadata, an avatars bucket whose objects each
# user writes only under a folder named after their id, and a view over auth.users' columns.
HOST_USER_MANAGEMENT_SQL = """
create table public.profiles (
  id uuid not null primary key references auth.users (id) on delete cascade,
  full_name text,
  avatar_url text,
  updated_at timestamptz
);
alter table public.profiles enable row level security;
create policy "profiles are public" on public.profiles for select using (true);
create policy "users update their own profile" on public.profiles for update to authenticated
  using ((select auth.uid()) = id) with check ((select auth.uid()) = id);

create function public.handle_new_user() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  insert into public.profiles (id, full_name, avatar_url)
  values (new.id, new.raw_user_meta_data ->> 'full_name', new.raw_user_meta_data ->> 'avatar_url');
  return new;
end
$$;
create trigger on_auth_user_created after insert on auth.users
  for each row execute function public.handle_new_user();

insert into storage.buckets (id, name) values ('avatars', 'avatars');
create policy "avatars are public" on storage.objects for select using (bucket_id = 'avatars');
create policy "users upload into their own folder" on storage.objects
  for insert to authenticated
  with check (
    bucket_id = 'avatars' and (storage.foldername(name))[1] = (select auth.uid()::text)
  );
alter policy "avatars are public" on storage.objects to anon, authenticated;

create view public.member_activity as
  select id, email_confirmed_at, last_sign_in_at, is_anonymous, deleted_at from auth.users;
"""


@contextmanager
def scratch_database(local_stack: LocalStack, *, baseline: bool = True) -> Iterator[str]:
    """A database of the stack's own, dropped afterwards: the platform baseline as the
    superuser lays it down, with nothing of the project's on it."""
    scratch = f"scratch_{uuid.uuid4().hex[:8]}"
    local_stack.psql("--command", f"create database {scratch} owner postgres", user=ADMIN_USER)
    try:
        if baseline:
            local_stack.psql("--file", str(BASELINE_SQL), database=scratch, user=ADMIN_USER)
        yield scratch
    finally:
        local_stack.psql("--command", f"drop database {scratch} with (force)", user=ADMIN_USER)


def act_as(connection: Database, user_id: uuid.UUID) -> None:
    """Act as this signed-in user for the rest of the transaction, as PostgREST would."""
    connection.execute("set local role authenticated")
    connection.execute(
        "select set_config('request.jwt.claims', %s, true)",
        (f'{{"sub": "{user_id}", "role": "authenticated"}}',),
    )


def test_a_host_projects_user_management_sql_applies_as_on_hosted(
    local_stack: LocalStack, stack: StackState
) -> None:
    with (
        scratch_database(local_stack) as scratch,
        psycopg.connect(stack.db_url(database=scratch), autocommit=True) as connection,
    ):
        connection.execute(HOST_USER_MANAGEMENT_SQL)

        ada = uuid.uuid4()
        connection.execute(
            "insert into auth.users (id, email, raw_user_meta_data) values (%s, %s, %s)",
            (ada, "ada@host.test", '{"full_name": "Ada", "avatar_url": "ada/me.png"}'),
        )
        assert connection.execute(
            "select full_name, avatar_url from public.profiles where id = %s", (ada,)
        ).fetchone() == ("Ada", "ada/me.png")
        assert connection.execute(
            "select email_confirmed_at, last_sign_in_at, is_anonymous, deleted_at "
            "from public.member_activity where id = %s",
            (ada,),
        ).fetchone() == (None, None, False, None)

        with connection.transaction():
            act_as(connection, ada)
            connection.execute(
                "insert into storage.objects (bucket_id, name) values ('avatars', %s)",
                (f"{ada}/me.png",),
            )
        with connection.transaction(force_rollback=True):
            act_as(connection, ada)
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
                connection.execute(
                    "insert into storage.objects (bucket_id, name) values ('avatars', %s)",
                    (f"{uuid.uuid4()}/me.png",),
                )
        with connection.transaction():
            connection.execute("set local role anon")
            assert connection.execute(
                "select name from storage.objects where bucket_id = 'avatars'"
            ).fetchall() == [(f"{ada}/me.png",)]


def test_postgres_writes_policies_on_no_other_table_of_supabase_auth_or_storage(
    local_stack: LocalStack, stack: StackState
) -> None:
    """The stand-in for supautils' policy grants lends nothing beyond the platform's list, and
    the loan ends with the command."""
    with scratch_database(local_stack) as scratch:
        local_stack.psql(
            "--command",
            "create table storage.not_listed (id int); "
            "alter table storage.not_listed owner to supabase_storage_admin",
            database=scratch,
            user=ADMIN_USER,
        )
        with psycopg.connect(stack.db_url(database=scratch), autocommit=True) as connection:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="must be owner"):
                connection.execute("create policy anyone on storage.not_listed using (true)")
            connection.execute("create policy anyone on storage.objects using (true)")
            members = connection.execute(
                "select pg_has_role('postgres', 'supabase_storage_admin', 'MEMBER'), "
                "pg_has_role('postgres', 'supabase_auth_admin', 'MEMBER')"
            ).fetchone()
        assert members == (False, False)


def test_the_baseline_reapplies_and_brings_an_older_auth_users_up_to_the_platforms(
    local_stack: LocalStack, stack: StackState
) -> None:
    """`stack up` reapplies the baseline over what is there: a database made when the local
    auth.users had nine columns keeps its users and gains the rest."""
    with scratch_database(local_stack, baseline=False) as scratch:
        local_stack.psql(
            "--command",
            "create schema auth; "
            "create table auth.users (instance_id uuid, id uuid primary key, aud varchar(255), "
            "role varchar(255), email varchar(255) unique, raw_app_meta_data jsonb, "
            "raw_user_meta_data jsonb, created_at timestamptz, updated_at timestamptz); "
            "alter table auth.users owner to supabase_auth_admin; "
            "insert into auth.users (id, email) "
            "values ('cccccccc-0000-4000-8000-000000000001', 'old@host.test')",
            database=scratch,
            user=ADMIN_USER,
        )
        for _ in range(2):
            local_stack.psql("--file", str(BASELINE_SQL), database=scratch, user=ADMIN_USER)
        with psycopg.connect(stack.db_url(database=scratch), autocommit=True) as connection:
            row = connection.execute(
                "select email, is_anonymous, is_sso_user from auth.users"
            ).fetchall()
            columns = connection.execute(
                "select count(*) from information_schema.columns "
                "where table_schema = 'auth' and table_name = 'users'"
            ).fetchone()
            connection.execute(HOST_USER_MANAGEMENT_SQL)
        assert row == [("old@host.test", False, False)]
        assert columns == (35,)
