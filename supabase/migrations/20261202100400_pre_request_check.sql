-- A correctly signed JWT can still carry claims no session of Supabase Auth ever has: no `exp`,
-- no `sub`, a `sub` that is not a UUID, the id of a user that does not exist (or was deleted while
-- its token lives on), or a role other than the three API roles. Out of the box PostgREST 12 lets
-- such a token through: an `authenticated` token without `sub` reads an empty table and fails its
-- insert with an RLS error, a non-UUID `sub` fails inside auth.uid() with 22P02 (400), a deleted
-- user's insert fails on the foreign key (409). Each is an authentication failure and should say
-- so: 401.
--
-- PostgREST runs its `db-pre-request` function in every request's transaction, right after it
-- switched to the token's role. Raising SQLSTATE PTxyz there makes PostgREST answer HTTP xyz
-- with the message, details and hint as its usual JSON error, before any table is touched.
--
-- Two tokens are beyond reach here: a role authenticator may not switch to (`postgres`: 403
-- "permission denied to set role") and a role that does not exist (400, SQLSTATE 22023). Both fail
-- in PostgREST's `set role`, before this function runs; neither reads or writes anything.

-- A schema of its own: every API role, anon included, must be able to run the check, and
-- schema `private` stays closed to anon. PostgREST does not expose it (only `public` is in its
-- db-schemas), so nothing here is reachable at /rest/v1/rpc.
create schema pre_request;
comment on schema pre_request is
  'The check PostgREST runs before every API request (db-pre-request); not exposed by the API.';
revoke all on schema pre_request from public;
grant usage on schema pre_request to anon, authenticated, service_role, authenticator;

-- auth.users belongs to Supabase Auth and has row level security on with no policies: the API
-- roles see no row of it, whatever they are granted. So this lookup runs as its owner, `postgres`,
-- which bypasses RLS: security definer, `search_path = ''`, in the unexposed schema above, and
-- executable by `authenticated` alone (the only role whose tokens name a user). It answers one
-- yes/no question for one id and returns nothing else of the table.
-- PL/pgSQL rather than SQL: a security definer SQL function is never inlined, and PostgreSQL plans
-- its query anew on every call, while PL/pgSQL keeps the plan for the session. This runs on every
-- authenticated request.
create function pre_request.auth_user_exists(user_id uuid)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return exists (select from auth.users where users.id = auth_user_exists.user_id);
end
$$;
comment on function pre_request.auth_user_exists(uuid) is
  'Whether an auth user with this id exists. Security definer: auth.users is under row level '
  'security that the API roles do not pass.';
revoke all on function pre_request.auth_user_exists(uuid) from public;
grant execute on function pre_request.auth_user_exists(uuid) to authenticated;

create function pre_request.check_jwt_claims()
returns void
language plpgsql
stable
set search_path = ''
as $$
declare
  -- PostgREST has switched to the token's role: current_user is that role.
  request_role constant text := current_user;
  claims constant jsonb :=
    coalesce(nullif(pg_catalog.current_setting('request.jwt.claims', true), ''), '{}')::jsonb;
  subject constant text := claims ->> 'sub';
begin
  if request_role in ('anon', 'service_role') then
    return;
  end if;

  if request_role <> 'authenticated' then
    raise sqlstate 'PT401' using
      message = 'JWT role is not an API role',
      detail = 'The role claim must be anon, authenticated or service_role.',
      hint = 'Use a token issued by Supabase Auth, or the project''s anon or service key.';
  end if;

  -- Supabase Auth always sets exp; a session token that never expires was not issued by it.
  if claims ->> 'exp' is null then
    raise sqlstate 'PT401' using
      message = 'JWT has no exp claim',
      detail = 'An authenticated token must expire.',
      hint = 'Use a token issued by Supabase Auth.';
  end if;

  if subject is null then
    raise sqlstate 'PT401' using
      message = 'JWT has no sub claim',
      detail = 'An authenticated token must name its user in the sub claim.',
      hint = 'Use a token issued by Supabase Auth.';
  end if;

  -- Checked before the cast: a failed uuid cast would surface as 22P02, a 400.
  if subject !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    raise sqlstate 'PT401' using
      message = 'JWT sub claim is not a UUID',
      detail = 'The sub claim of an authenticated token must be a user id (a UUID).',
      hint = 'Use a token issued by Supabase Auth.';
  end if;

  if not pre_request.auth_user_exists(subject::uuid) then
    raise sqlstate 'PT401' using
      message = 'JWT sub claim names no user',
      detail = 'The user this token was issued to does not exist (it may have been deleted).',
      hint = 'Sign in again.';
  end if;
end
$$;
comment on function pre_request.check_jwt_claims() is
  'PostgREST db-pre-request: answers 401 for a token whose role is not an API role, or an '
  'authenticated token without exp, or whose sub is missing, not a UUID, or not an existing user.';
revoke all on function pre_request.check_jwt_claims() from public;
grant execute on function pre_request.check_jwt_claims()
  to anon, authenticated, service_role, authenticator;

-- PostgREST reads its in-database settings from the authenticator role (db-config, on by default)
-- and rereads them on the notification below. A project has one pre-request hook: if it already
-- has another, replacing it would silently drop that project's own checks, so the setting is left
-- alone and the migration says how to call this check from the existing hook (README, "Deploying").
do $$
declare
  configured_hook text;
begin
  select pg_catalog.split_part(setting, '=', 2) into configured_hook
  from pg_catalog.pg_db_role_setting as role_setting
  cross join lateral pg_catalog.unnest(role_setting.setconfig) as setting
  where role_setting.setrole = 'authenticator'::regrole
    and role_setting.setdatabase in (0, (select oid from pg_catalog.pg_database
                                         where datname = pg_catalog.current_database()))
    and setting like 'pgrst.db\_pre\_request=%'
  -- A database's own setting wins over the cluster-wide one, as when PostgreSQL applies them.
  order by role_setting.setdatabase desc
  limit 1;

  if configured_hook is null or configured_hook = 'pre_request.check_jwt_claims' then
    alter role authenticator set pgrst.db_pre_request = 'pre_request.check_jwt_claims';
  else
    raise warning 'pgrst.db_pre_request is already %; left unchanged', configured_hook
      using hint = 'Call pre_request.check_jwt_claims() first thing in that function, '
                   'then grant execute on it to anon, authenticated and service_role.';
  end if;
end
$$;
notify pgrst, 'reload config';
