-- The platform baseline: what every Supabase project (hosted, or `supabase start`) already has
-- before its first migration runs, rebuilt on a plain PostgreSQL cluster. It is applied by the
-- stack's own superuser, `supabase_admin`, exactly where the platform's init scripts and its own
-- migrations would be. Everything after it (the project's migrations, the seed, the tests) runs as
-- `postgres`, which is NOT a superuser here, just as `supabase db push` runs on hosted Supabase: a
-- migration that needs more rights than the platform grants fails locally too.
--
-- Idempotent: roles are cluster-wide and survive `stack reset`, which recreates only the database.
-- The facts come from the supabase/postgres init scripts and migrations and the supabase/auth
-- migrations; the README's "Local stack and hosted Supabase" lists what is stood in for, and how.

-- Roles ----------------------------------------------------------------------------------------

do $$
declare
  role_name text;
begin
  -- `postgres` is the role a project owner logs in as. The platform creates it as a superuser,
  -- runs its own setup, then demotes it; what is left is this.
  if not exists (select from pg_catalog.pg_roles where rolname = 'postgres') then
    create role postgres;
  end if;
  foreach role_name in array array['anon', 'authenticated', 'service_role'] loop
    if not exists (select from pg_catalog.pg_roles where rolname = role_name) then
      execute format('create role %I', role_name);
    end if;
  end loop;
  -- PostgREST logs in as `authenticator`; GoTrue (Supabase Auth) as `supabase_auth_admin`.
  foreach role_name in array array['authenticator', 'supabase_auth_admin'] loop
    if not exists (select from pg_catalog.pg_roles where rolname = role_name) then
      execute format('create role %I', role_name);
    end if;
  end loop;
end
$$;

alter role supabase_admin with superuser createdb createrole replication bypassrls;
alter role postgres with nosuperuser createdb createrole login replication bypassrls
  password 'postgres';
-- NOLOGIN, and INHERIT since the platform let API roles inherit their grants.
alter role anon with nologin inherit nobypassrls;
alter role authenticated with nologin inherit nobypassrls;
alter role service_role with nologin inherit bypassrls;
alter role authenticator with login noinherit nobypassrls password 'postgres';
alter role supabase_auth_admin with login noinherit createrole noreplication password 'postgres';

grant anon, authenticated, service_role to authenticator;
-- The owner acts as any API role (e.g. `set role authenticated` in a test), but is no longer a
-- member of the auth admin role.
grant anon, authenticated, service_role to postgres;
grant pg_read_all_data, pg_signal_backend to postgres;

-- Per-role limits: an API request can hold the database for seconds at most.
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';
alter role authenticator set statement_timeout = '8s';
alter role authenticator set lock_timeout = '8s';
-- Hosted Supabase also preloads `supautils, safeupdate` for authenticator. Neither ships with
-- Debian's PostgreSQL; the gateway refuses an unfiltered PATCH or DELETE in safeupdate's stead.

alter role supabase_admin set search_path = "$user", public, auth, extensions;
alter role postgres set search_path = "$user", public, extensions;
alter role supabase_auth_admin set search_path = auth;

-- supautils lets `postgres` change PostgREST's in-database settings (`alter role authenticator set
-- pgrst.* = ...`) on hosted projects. Plain PostgreSQL 15 grants that right per parameter; these
-- are the settings PostgREST 12 reads from its role.
grant set on parameter
  pgrst.db_aggregates_enabled, pgrst.db_anon_role, pgrst.db_extra_search_path,
  pgrst.db_max_rows, pgrst.db_plan_enabled, pgrst.db_pre_config, pgrst.db_pre_request,
  pgrst.db_prepared_statements, pgrst.db_root_spec, pgrst.db_schemas, pgrst.db_tx_end,
  pgrst.jwt_aud, pgrst.jwt_cache_max_lifetime, pgrst.jwt_role_claim_key, pgrst.jwt_secret,
  pgrst.jwt_secret_is_base64, pgrst.openapi_mode, pgrst.openapi_security_active,
  pgrst.openapi_server_proxy_uri, pgrst.raw_media_types, pgrst.server_cors_allowed_origins,
  pgrst.server_timing_enabled, pgrst.server_trace_header
  to postgres;

-- PostgreSQL 16 made CREATEROLE a right over the roles one holds ADMIN OPTION on, no longer over
-- every non-superuser role. The platform grants `postgres` the API roles with ADMIN OPTION on 16
-- and later; on hosted, supautils still lets `postgres` set `pgrst.*` on `authenticator`, which
-- plain PostgreSQL allows only to a role holding ADMIN OPTION on it. The stand-in is membership
-- with ADMIN OPTION that neither inherits authenticator's rights nor lets `postgres` become it.
-- PostgreSQL 15 has neither the rule nor the INHERIT and SET options (its parser refuses them,
-- hence EXECUTE), so this runs on 16+ only.
do $$
begin
  if pg_catalog.current_setting('server_version_num')::int >= 160000 then
    execute 'grant anon, authenticated, service_role to postgres with admin option';
    execute 'grant authenticator to postgres with admin option, inherit false, set false';
  end if;
end
$$;

-- The database ---------------------------------------------------------------------------------

-- The platform hands the database to `postgres`; on PostgreSQL 15 that makes it the owner of
-- schema public too (owned by pg_database_owner).
alter database postgres owner to postgres;
grant all on database postgres to postgres;

create schema if not exists extensions authorization postgres;
create extension if not exists pgcrypto with schema extensions;
create extension if not exists "uuid-ossp" with schema extensions;
grant usage on schema extensions to postgres, anon, authenticated, service_role;
grant all on schema extensions to postgres;
grant all on all tables in schema extensions to postgres with grant option;
grant all on all routines in schema extensions to postgres with grant option;
grant all on all sequences in schema extensions to postgres with grant option;
alter default privileges in schema extensions grant all on tables to postgres with grant option;
alter default privileges in schema extensions grant all on routines to postgres with grant option;
alter default privileges in schema extensions grant all on sequences to postgres with grant option;

-- Supabase's default privileges in schema public: every new table, function and sequence, made by
-- `postgres` or by `supabase_admin`, is granted in full to the API roles. A migration that wants
-- less revokes first, then grants.
grant usage on schema public to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on sequences to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public
  grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public
  grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public
  grant all on sequences to postgres, anon, authenticated, service_role;

-- Schema auth: Supabase Auth's -----------------------------------------------------------------

create schema if not exists auth authorization supabase_admin;
grant all on schema auth to supabase_auth_admin;
grant usage on schema auth to postgres, anon, authenticated, service_role;
-- `postgres` may use auth's objects but no longer create objects in the schema.
revoke create on schema auth from postgres;

-- What Supabase Auth creates, made as Supabase Auth does: by its own role, which owns it.
set role supabase_auth_admin;

-- The columns of the platform's auth.users that a project's SQL commonly refers to; Supabase Auth
-- has more (passwords, tokens, metadata), none of which movement-profiles touches.
create table if not exists auth.users (
  instance_id uuid,
  id uuid not null primary key,
  aud varchar(255),
  role varchar(255),
  email varchar(255) unique,
  raw_app_meta_data jsonb,
  raw_user_meta_data jsonb,
  created_at timestamptz,
  updated_at timestamptz
);
comment on table auth.users is 'Auth: Stores user login data within a secure schema.';
-- Row level security with no policies: only the owner and BYPASSRLS roles (postgres,
-- service_role, supabase_admin) see a row. The API roles see none, whatever they are granted.
alter table auth.users enable row level security;

-- The request helpers, as Supabase Auth defines them: plain SQL over the claims PostgREST sets for
-- each request, executable by everyone.
create or replace function auth.uid() returns uuid
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;
create or replace function auth.role() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;
create or replace function auth.email() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$$;
create or replace function auth.jwt() returns jsonb
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;
comment on function auth.uid() is 'Deprecated. Use auth.jwt() -> ''sub'' instead.';
comment on function auth.role() is 'Deprecated. Use auth.jwt() -> ''role'' instead.';
comment on function auth.email() is 'Deprecated. Use auth.jwt() -> ''email'' instead.';

-- Supabase Auth lets `postgres` read its tables and pass that read on.
grant select on auth.users to postgres with grant option;

reset role;

-- The platform's grants to `postgres` on schema auth: everything on what is there, without grant
-- option, and the same on what Supabase Auth creates later.
grant all on all tables in schema auth to postgres;
grant all on all sequences in schema auth to postgres;
grant all on all routines in schema auth to postgres;
alter default privileges for role supabase_auth_admin in schema auth
  grant all on tables to postgres;
alter default privileges for role supabase_auth_admin in schema auth
  grant all on sequences to postgres;
alter default privileges for role supabase_auth_admin in schema auth
  grant all on routines to postgres;
