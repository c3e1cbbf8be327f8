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

-- auth.users and auth.identities as Supabase Auth leaves them after all of its migrations (as of
-- supabase/auth bc32168e13fdc928c98b449fc76bc3fdb9a293c5): the same columns in the same order,
-- types, defaults, NOT NULLs, generated column, constraints and indexes, so that a host project's
-- views, policies and triggers over them apply here as on hosted. Supabase Auth's other tables
-- (sessions, refresh tokens, MFA, SSO, OAuth, ...) hold its own state, which host SQL rarely
-- touches and the local stack never fills: they are not built.
--
-- The table is created with its first two columns and every other column is added "if not
-- exists", in the platform's order: a fresh database gets the platform's column order, and a
-- stack made when this table had only nine columns gains the rest on its next `stack up`.
create table if not exists auth.users (
  instance_id uuid,
  id uuid not null,
  constraint users_pkey primary key (id)
);
alter table auth.users
  add column if not exists aud varchar(255),
  add column if not exists role varchar(255),
  add column if not exists email varchar(255),
  add column if not exists encrypted_password varchar(255),
  add column if not exists email_confirmed_at timestamptz,
  add column if not exists invited_at timestamptz,
  add column if not exists confirmation_token varchar(255),
  add column if not exists confirmation_sent_at timestamptz,
  add column if not exists recovery_token varchar(255),
  add column if not exists recovery_sent_at timestamptz,
  add column if not exists email_change_token_new varchar(255),
  add column if not exists email_change varchar(255),
  add column if not exists email_change_sent_at timestamptz,
  add column if not exists last_sign_in_at timestamptz,
  add column if not exists raw_app_meta_data jsonb,
  add column if not exists raw_user_meta_data jsonb,
  add column if not exists is_super_admin boolean,
  add column if not exists created_at timestamptz,
  add column if not exists updated_at timestamptz,
  -- The phone columns began as varchar(15) and became text; phone_change's default kept the
  -- old type.
  add column if not exists phone text unique,
  add column if not exists phone_confirmed_at timestamptz,
  add column if not exists phone_change text default ''::character varying,
  add column if not exists phone_change_token varchar(255) default '',
  add column if not exists phone_change_sent_at timestamptz,
  add column if not exists confirmed_at timestamptz
    generated always as (least(email_confirmed_at, phone_confirmed_at)) stored,
  add column if not exists email_change_token_current varchar(255) default '',
  add column if not exists email_change_confirm_status smallint default 0
    check (email_change_confirm_status >= 0 and email_change_confirm_status <= 2),
  add column if not exists banned_until timestamptz,
  add column if not exists reauthentication_token varchar(255) default '',
  add column if not exists reauthentication_sent_at timestamptz,
  add column if not exists is_sso_user boolean not null default false,
  add column if not exists deleted_at timestamptz,
  add column if not exists is_anonymous boolean not null default false;
-- An email is unique among non-SSO users only: SSO accounts may share one.
alter table auth.users drop constraint if exists users_email_key;
create unique index if not exists users_email_partial_key on auth.users (email)
  where (is_sso_user = false);
create index if not exists users_instance_id_idx on auth.users (instance_id);
create index if not exists users_instance_id_email_idx on auth.users (instance_id, lower(email));
create index if not exists users_is_anonymous_idx on auth.users (is_anonymous);
-- One-time tokens are unique unless empty or a numeric OTP.
create unique index if not exists confirmation_token_idx on auth.users (confirmation_token)
  where confirmation_token !~ '^[0-9 ]*$';
create unique index if not exists recovery_token_idx on auth.users (recovery_token)
  where recovery_token !~ '^[0-9 ]*$';
create unique index if not exists email_change_token_current_idx
  on auth.users (email_change_token_current) where email_change_token_current !~ '^[0-9 ]*$';
create unique index if not exists email_change_token_new_idx
  on auth.users (email_change_token_new) where email_change_token_new !~ '^[0-9 ]*$';
create unique index if not exists reauthentication_token_idx
  on auth.users (reauthentication_token) where reauthentication_token !~ '^[0-9 ]*$';
comment on table auth.users is 'Auth: Stores user login data within a secure schema.';
comment on column auth.users.is_sso_user is
  'Auth: Set this column to true when the account comes from SSO. These accounts can have duplicate emails.';
comment on index auth.users_email_partial_key is
  'Auth: A partial unique index that applies only when is_sso_user is false';
-- Row level security with no policies: only the owner and BYPASSRLS roles (postgres,
-- service_role, supabase_admin) see a row. The API roles see none, whatever they are granted.
alter table auth.users enable row level security;

-- A user's sign-in methods (email, phone, each OAuth provider); host SQL joins it to find how a
-- user signed up.
create table if not exists auth.identities (
  provider_id text not null,
  user_id uuid not null references auth.users (id) on delete cascade,
  identity_data jsonb not null,
  provider text not null,
  last_sign_in_at timestamptz,
  created_at timestamptz,
  updated_at timestamptz,
  email text generated always as (lower(identity_data ->> 'email')) stored,
  id uuid not null default gen_random_uuid() primary key,
  constraint identities_provider_id_provider_unique unique (provider_id, provider)
);
create index if not exists identities_user_id_idx on auth.identities (user_id);
create index if not exists identities_email_idx on auth.identities (email text_pattern_ops);
comment on table auth.identities is 'Auth: Stores identities associated to a user.';
comment on column auth.identities.email is
  'Auth: Email is a generated column that references the optional email property in the identity_data';
comment on index auth.identities_email_idx is 'Auth: Ensures indexed queries on the email column';
alter table auth.identities enable row level security;

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
grant select on auth.users, auth.identities to postgres with grant option;

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

-- Schema storage: Supabase Storage's --------------------------------------------------------------

-- The tables and helpers that Supabase Storage leaves after all of its migrations (as of
-- supabase/storage 4fa61fba9371c4bd40cbb81509f07bcb3af21683, migrations/tenant), made by its own
-- role, which owns them: host migrations create buckets (`insert into storage.buckets`) and put
-- policies on storage.objects. The Storage API's own functions (search, listing, sizes) and its
-- analytics, Iceberg and vector tables serve only the Storage server, which the local stack does
-- not run: they are not built.
do $$
begin
  if not exists (select from pg_catalog.pg_roles where rolname = 'supabase_storage_admin') then
    create role supabase_storage_admin;
  end if;
end
$$;
alter role supabase_storage_admin with login noinherit createrole noreplication
  password 'postgres';
alter role supabase_storage_admin set search_path = storage;

create schema if not exists storage authorization supabase_admin;
grant all on schema storage to supabase_storage_admin;
grant usage on schema storage to anon, authenticated, service_role;
-- `postgres` may use storage's objects and pass that on, but no longer create objects there.
grant usage on schema storage to postgres with grant option;
revoke create on schema storage from postgres;
-- Whatever Storage creates is granted in full to `postgres` and the API roles; it then narrows
-- table by table, below.
alter default privileges for role supabase_storage_admin in schema storage
  grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_storage_admin in schema storage
  grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_storage_admin in schema storage
  grant all on sequences to postgres, anon, authenticated, service_role;

set role supabase_storage_admin;

create table if not exists storage.migrations (
  id integer primary key,
  name varchar(100) not null unique,
  hash varchar(40) not null,
  executed_at timestamp default current_timestamp
);
alter table storage.migrations enable row level security;

do $$
begin
  if not exists (
    select from pg_catalog.pg_type
    where typname = 'buckettype' and typnamespace = 'storage'::regnamespace
  ) then
    create type storage.buckettype as enum ('STANDARD', 'ANALYTICS', 'VECTOR');
  end if;
end
$$;

create table if not exists storage.buckets (
  id text not null primary key,
  name text not null,
  owner uuid,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  public boolean default false,
  avif_autodetection boolean default false,
  file_size_limit bigint,
  allowed_mime_types text[],
  owner_id text,
  type storage.buckettype not null default 'STANDARD',
  versioning_status text not null default 'DISABLED',
  constraint buckets_versioning_status_check
    check (versioning_status in ('DISABLED', 'ENABLED', 'SUSPENDED')),
  constraint buckets_versioning_standard_only_check
    check (type = 'STANDARD' or versioning_status = 'DISABLED'),
  constraint buckets_versioning_dark_check check (versioning_status = 'DISABLED')
);
create unique index if not exists bname on storage.buckets (name);
comment on column storage.buckets.owner is 'Field is deprecated, use owner_id instead';
alter table storage.buckets enable row level security;

create table if not exists storage.objects (
  id uuid not null default gen_random_uuid() primary key,
  bucket_id text constraint "objects_bucketId_fkey" references storage.buckets (id),
  name text,
  owner uuid,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  last_accessed_at timestamptz default now(),
  metadata jsonb,
  path_tokens text[] generated always as (string_to_array(name, '/')) stored,
  version text,
  owner_id text,
  user_metadata jsonb,
  archived_at timestamptz,
  is_delete_marker boolean not null default false,
  is_versioned boolean not null default false
);
create unique index if not exists bucketid_objname on storage.objects (bucket_id, name);
create index if not exists name_prefix_search on storage.objects (name text_pattern_ops);
create index if not exists idx_objects_bucket_id_name
  on storage.objects (bucket_id, (name collate "C"));
create index if not exists idx_objects_bucket_id_name_lower
  on storage.objects (bucket_id, (lower(name) collate "C"));
comment on column storage.objects.owner is 'Field is deprecated, use owner_id instead';
alter table storage.objects enable row level security;

create table if not exists storage.s3_multipart_uploads (
  id text primary key,
  in_progress_size bigint not null default 0,
  upload_signature text not null,
  bucket_id text not null references storage.buckets (id),
  key text collate "C" not null,
  version text not null,
  owner_id text,
  created_at timestamptz not null default now(),
  user_metadata jsonb,
  metadata jsonb
);
create index if not exists idx_multipart_uploads_list
  on storage.s3_multipart_uploads (bucket_id, key, created_at);
alter table storage.s3_multipart_uploads enable row level security;

create table if not exists storage.s3_multipart_uploads_parts (
  id uuid primary key default gen_random_uuid(),
  upload_id text not null references storage.s3_multipart_uploads (id) on delete cascade,
  size bigint not null default 0,
  part_number integer not null,
  bucket_id text not null references storage.buckets (id),
  key text collate "C" not null,
  etag text not null,
  owner_id text,
  version text not null,
  created_at timestamptz not null default now()
);
alter table storage.s3_multipart_uploads_parts enable row level security;

-- The path helpers host policies use, e.g. `(storage.foldername(name))[1] = auth.uid()::text`:
-- 'a/b/c.png' has the folders {a,b}, the file name 'c.png' and the extension 'png'.
create or replace function storage.foldername(name text) returns text[]
language plpgsql immutable
set search_path = ''
as $$
declare
  parts text[] := pg_catalog.string_to_array(name, '/');
begin
  return parts[1 : pg_catalog.array_length(parts, 1) - 1];
end
$$;
create or replace function storage.filename(name text) returns text
language plpgsql immutable
set search_path = ''
as $$
declare
  parts text[] := pg_catalog.string_to_array(name, '/');
begin
  return parts[pg_catalog.array_length(parts, 1)];
end
$$;
create or replace function storage.extension(name text) returns text
language plpgsql immutable
set search_path = ''
as $$
declare
  parts text[] := pg_catalog.string_to_array(name, '/');
begin
  -- What follows the file name's last dot (the whole name when it has none).
  return pg_catalog.reverse(
    pg_catalog.split_part(pg_catalog.reverse(parts[pg_catalog.array_length(parts, 1)]), '.', 1)
  );
end
$$;

-- Storage's triggers, which a host's own writes to its tables meet as well.
create or replace function storage.update_updated_at_column() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at = pg_catalog.now();
  return new;
end
$$;
create or replace trigger update_objects_updated_at
  before update on storage.objects
  for each row execute function storage.update_updated_at_column();

create or replace function storage.enforce_bucket_name_length() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if pg_catalog.length(new.name) > 100 then
    raise exception 'bucket name "%" is too long (% characters). Max is 100.',
      new.name, pg_catalog.length(new.name);
  end if;
  return new;
end
$$;
create or replace trigger enforce_bucket_name_length_trigger
  before insert or update of name on storage.buckets
  for each row execute function storage.enforce_bucket_name_length();

-- Rows of buckets and objects are deleted through the Storage API, which sets
-- storage.allow_delete_query; a plain DELETE is refused.
create or replace function storage.protect_delete() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if coalesce(pg_catalog.current_setting('storage.allow_delete_query', true), 'false')
      <> 'true' then
    raise exception 'Direct deletion from storage tables is not allowed. Use the Storage API instead.'
      using hint = 'This prevents accidental data loss from orphaned objects.',
        errcode = '42501';
  end if;
  return null;
end
$$;
create or replace trigger protect_buckets_delete
  before delete on storage.buckets
  for each statement execute function storage.protect_delete();
create or replace trigger protect_objects_delete
  before delete on storage.objects
  for each statement execute function storage.protect_delete();

reset role;

-- Storage's and the platform's narrowing of the default grants: the API roles may do anything to
-- buckets and objects that row level security lets them (and there is no policy until the project
-- writes one); they may only read multipart uploads; no one but Storage touches its migrations.
grant all on storage.buckets, storage.objects to anon, authenticated, service_role;
grant all on storage.buckets, storage.objects to postgres with grant option;
revoke all on storage.s3_multipart_uploads, storage.s3_multipart_uploads_parts
  from anon, authenticated;
grant select on storage.s3_multipart_uploads, storage.s3_multipart_uploads_parts
  to anon, authenticated;
grant all on storage.s3_multipart_uploads, storage.s3_multipart_uploads_parts to service_role;
revoke all on storage.migrations from anon, authenticated, service_role, postgres;

-- Policies on the platform's tables ---------------------------------------------------------------

-- Only a table's owner may create, alter or drop its policies. On hosted, supautils'
-- `policy_grants` lets `postgres` do so on some tables of Supabase Auth and Storage all the same
-- (the list below is the platform's; realtime.messages is left out, as the local stack has no
-- realtime schema). Plain PostgreSQL has no such grant, so event triggers stand in for it: when a
-- CREATE, ALTER or DROP POLICY starts, `postgres` is lent membership in the owner roles
-- supabase_auth_admin and supabase_storage_admin (inherited, so owner checks pass; not SET, so it
-- cannot become them), and when the command ends the membership is taken back and a policy on
-- any other table those roles own is refused. The loan is part of the command's transaction: a
-- command that fails rolls it back with everything else. What this allows beyond hosted: while a
-- policy command runs, the expressions it parses are checked with the owner roles' rights
-- (hosted checks them with `postgres`' own), which changes nothing `postgres` could do otherwise,
-- as it already holds every right on those tables.
create schema if not exists supautils_stand_in authorization supabase_admin;
revoke all on schema supautils_stand_in from public;

create or replace function supautils_stand_in.policy_owner_roles() returns text[]
language sql immutable
set search_path = ''
as $$ select array['supabase_auth_admin', 'supabase_storage_admin'] $$;

create or replace function supautils_stand_in.policy_grants() returns text[]
language sql immutable
set search_path = ''
as $$
  select array[
    'auth.audit_log_entries', 'auth.identities', 'auth.refresh_tokens', 'auth.sessions',
    'auth.users', 'storage.buckets', 'storage.migrations', 'storage.objects',
    'storage.s3_multipart_uploads', 'storage.s3_multipart_uploads_parts'
  ]
$$;

create or replace function supautils_stand_in.lend_policy_owners() returns event_trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  owner_role text;
  lent text[] := '{}';
begin
  -- The stack's superuser needs no loan.
  if (select rolsuper from pg_catalog.pg_roles where rolname = session_user) then
    perform pg_catalog.set_config('supautils_stand_in.lent_roles', '', true);
    return;
  end if;
  foreach owner_role in array supautils_stand_in.policy_owner_roles() loop
    if not pg_catalog.pg_has_role('postgres', owner_role, 'MEMBER') then
      if pg_catalog.current_setting('server_version_num')::int >= 160000 then
        execute pg_catalog.format(
          'grant %I to postgres with inherit true, set false', owner_role
        );
      else
        execute pg_catalog.format('grant %I to postgres', owner_role);
      end if;
      lent := lent || owner_role;
    end if;
  end loop;
  perform pg_catalog.set_config(
    'supautils_stand_in.lent_roles', pg_catalog.array_to_string(lent, ','), true
  );
end
$$;

-- Refuses a policy on a table the owner roles own unless the platform allows it.
create or replace function supautils_stand_in.check_policy_table(table_oid oid) returns void
language plpgsql
set search_path = ''
as $$
declare
  table_name text;
begin
  select pg_catalog.format('%s.%s', namespace.nspname, class.relname) into table_name
  from pg_catalog.pg_class as class
  join pg_catalog.pg_namespace as namespace on namespace.oid = class.relnamespace
  where class.oid = table_oid
    and class.relowner::regrole::text = any (supautils_stand_in.policy_owner_roles());
  if table_name is not null and not table_name = any (supautils_stand_in.policy_grants()) then
    raise exception 'must be owner of table %', table_name using errcode = '42501';
  end if;
end
$$;

create or replace function supautils_stand_in.check_dropped_policies() returns event_trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  dropped record;
begin
  if coalesce(pg_catalog.current_setting('supautils_stand_in.lent_roles', true), '') = '' then
    return;
  end if;
  for dropped in
    select address_names from pg_catalog.pg_event_trigger_dropped_objects()
    where object_type = 'policy'
  loop
    -- A policy's address is its schema, table and name.
    perform supautils_stand_in.check_policy_table(
      pg_catalog.to_regclass(
        pg_catalog.format('%I.%I', dropped.address_names[1], dropped.address_names[2])
      )
    );
  end loop;
end
$$;

create or replace function supautils_stand_in.return_policy_owners() returns event_trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  command record;
  owner_role text;
  lent text[] := pg_catalog.string_to_array(
    pg_catalog.current_setting('supautils_stand_in.lent_roles', true), ','
  );
begin
  -- Nothing lent: whoever ran the command did so with rights of their own.
  if coalesce(pg_catalog.cardinality(lent), 0) = 0 then
    return;
  end if;
  for command in
    select objid from pg_catalog.pg_event_trigger_ddl_commands() where object_type = 'policy'
  loop
    perform supautils_stand_in.check_policy_table(
      (select polrelid from pg_catalog.pg_policy where oid = command.objid)
    );
  end loop;
  foreach owner_role in array lent loop
    execute pg_catalog.format('revoke %I from postgres', owner_role);
  end loop;
  perform pg_catalog.set_config('supautils_stand_in.lent_roles', '', true);
end
$$;

revoke all on all functions in schema supautils_stand_in from public;

drop event trigger if exists supautils_stand_in_lend_policy_owners;
create event trigger supautils_stand_in_lend_policy_owners on ddl_command_start
  when tag in ('CREATE POLICY', 'ALTER POLICY', 'DROP POLICY')
  execute function supautils_stand_in.lend_policy_owners();
drop event trigger if exists supautils_stand_in_check_dropped_policies;
create event trigger supautils_stand_in_check_dropped_policies on sql_drop
  when tag in ('DROP POLICY')
  execute function supautils_stand_in.check_dropped_policies();
drop event trigger if exists supautils_stand_in_return_policy_owners;
create event trigger supautils_stand_in_return_policy_owners on ddl_command_end
  when tag in ('CREATE POLICY', 'ALTER POLICY', 'DROP POLICY')
  execute function supautils_stand_in.return_policy_owners();
