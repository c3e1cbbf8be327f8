-- The database these tests run on is the Supabase platform as it really is, and the project works
-- there: `postgres` is not a superuser, auth.users belongs to Supabase Auth and is under row level
-- security with no policies, and still a signed-in user passes the pre-request check and reads
-- and writes their own profile. Everything here runs as `postgres`, as `supabase db push` does.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(27);

-- The platform ----------------------------------------------------------------------------------

select is(current_user::text, 'postgres', 'the tests run as postgres');
select is(
  (select rolsuper from pg_catalog.pg_roles where rolname = 'postgres'), false,
  'postgres is not a superuser'
);
select is(
  (select rolbypassrls from pg_catalog.pg_roles where rolname = 'postgres'), true,
  'postgres bypasses row level security, as on the platform'
);
select is(
  (select relowner::regrole::text from pg_catalog.pg_class where oid = 'auth.users'::regclass),
  'supabase_auth_admin',
  'auth.users belongs to supabase_auth_admin'
);
select is(
  (select relrowsecurity from pg_catalog.pg_class where oid = 'auth.users'::regclass), true,
  'auth.users has row level security enabled'
);
select is_empty(
  $$ select polname from pg_catalog.pg_policy where polrelid = 'auth.users'::regclass $$,
  'auth.users has no policies: the API roles see none of its rows'
);
select is(
  (select nspowner::regrole::text from pg_catalog.pg_namespace where nspname = 'auth'),
  'supabase_admin',
  'schema auth belongs to supabase_admin'
);
select is(
  pg_catalog.has_schema_privilege('postgres', 'auth', 'CREATE'), false,
  'postgres may not create objects in schema auth'
);

-- No API role holds any privilege on auth.users or any of its columns: the only way in is the
-- pre-request check's security definer lookup.
select is_empty(
  $$
    select privilege.grantee::regrole::text
    from pg_catalog.pg_class as table_
    cross join lateral pg_catalog.aclexplode(table_.relacl) as privilege
    where table_.oid = 'auth.users'::regclass
      and privilege.grantee::regrole::text in ('anon', 'authenticated', 'service_role')
    union all
    select privilege.grantee::regrole::text
    from pg_catalog.pg_attribute as column_
    cross join lateral pg_catalog.aclexplode(column_.attacl) as privilege
    where column_.attrelid = 'auth.users'::regclass
      and privilege.grantee::regrole::text in ('anon', 'authenticated', 'service_role')
  $$,
  'no API role is granted anything on auth.users or its columns'
);

select is(
  (select setconfig from pg_catalog.pg_db_role_setting
   where setrole = 'authenticator'::regrole and setdatabase = 0),
  array[
    'statement_timeout=8s', 'lock_timeout=8s',
    'pgrst.db_pre_request=movement_profiles_internal.check_request'
  ],
  'authenticator has the platform''s 8 s statement and lock timeouts and the pre-request check'
);
select is(
  (select setconfig from pg_catalog.pg_db_role_setting
   where setrole = 'anon'::regrole and setdatabase = 0),
  array['statement_timeout=3s'],
  'anon has the platform''s 3 s statement timeout'
);

-- What `postgres` may do to the platform's roles: set PostgREST's settings on authenticator and
-- the API roles' settings (supautils, and on PostgreSQL 16+ the ADMIN OPTION the platform grants;
-- CREATEROLE alone no longer covers it there), but never act as authenticator.
select lives_ok(
  $$ alter role authenticator set pgrst.db_pre_request = 'movement_profiles_internal.check_request' $$,
  'postgres may set PostgREST''s settings on authenticator, as the migrations do'
);
select lives_ok(
  $$ alter role anon set statement_timeout = '3s' $$,
  'postgres may change the API roles'' settings'
);
select is(
  pg_catalog.pg_has_role('postgres', 'authenticator', 'USAGE'), false,
  'postgres does not hold authenticator''s privileges'
);
select throws_ok(
  $$ set role authenticator $$,
  '42501',
  null,
  'postgres cannot become authenticator'
);

-- The pre-request check's lookup ---------------------------------------------------------------

select is(
  (select row(proowner::regrole::text, prosecdef, proconfig)::text
   from pg_catalog.pg_proc where oid = 'movement_profiles_internal.auth_user_exists(uuid)'::regprocedure),
  row('postgres', true, array['search_path=""'])::text,
  'the auth.users lookup is security definer, owned by postgres, with an empty search_path'
);
select is(
  array(
    select role_name from unnest(array['anon', 'authenticated', 'service_role']) as role_name
    where pg_catalog.has_function_privilege(
      role_name, 'movement_profiles_internal.auth_user_exists(uuid)', 'EXECUTE'
    )
  ),
  array['authenticated'],
  'only authenticated may execute the auth.users lookup'
);

-- A signed-in user on this platform ---------------------------------------------------------------

-- The claims PostgREST sets for a Supabase Auth session of this user, valid for an hour.
create function pg_temp.session_claims(user_id uuid) returns text
language sql
as $$
  select pg_catalog.json_build_object(
    'sub', user_id, 'role', 'authenticated', 'aud', 'authenticated',
    'exp', extract(epoch from pg_catalog.now())::bigint + 3600
  )::text
$$;
-- The request headers PostgREST sets for such a session: the check compares the token it sees
-- there with the claims PostgREST verified (its signature is not the check's to verify).
create function pg_temp.base64url(value text) returns text
language sql
as $$
  select pg_catalog.translate(
    pg_catalog.encode(pg_catalog.convert_to(value, 'UTF8'), 'base64'), E'+/=\n', '-_'
  )
$$;
create function pg_temp.session_headers(claims text) returns text
language sql
as $$
  select pg_catalog.json_build_object(
    'authorization',
    'Bearer ' || pg_temp.base64url('{"alg":"HS256","typ":"JWT"}') || '.'
      || pg_temp.base64url(claims) || '.signature'
  )::text
$$;

insert into auth.users (id, aud, role, email) values
  ('dddddddd-0000-4000-8000-000000000001', 'authenticated', 'authenticated', 'ada@platform.test');

set local role authenticated;
select set_config(
  'request.jwt.claims',
  pg_temp.session_claims('dddddddd-0000-4000-8000-000000000001'),
  true
);
select set_config(
  'request.headers', pg_temp.session_headers(current_setting('request.jwt.claims')), true
);
select set_config('request.path', '/movement_profiles', true);

select throws_ok(
  $$ select from auth.users $$,
  '42501',
  null,
  'authenticated cannot read auth.users itself'
);
select lives_ok(
  $$ select movement_profiles_internal.check_request() $$,
  'a known user passes the pre-request check although auth.users is hidden from them'
);
select lives_ok(
  $$
    insert into public.movement_profiles (user_id, training_preferences, goals)
    values ('dddddddd-0000-4000-8000-000000000001', '["yoga"]', '["rehab"]')
  $$,
  'the known user creates their profile'
);
select results_eq(
  $$ select goals from public.movement_profiles $$,
  $$ values ('["rehab"]'::public.movement_profile_goal_list) $$,
  'the known user reads their profile and no other'
);
select lives_ok(
  $$ update public.movement_profiles set goals = '["general_health"]' $$,
  'the known user updates their profile'
);
select results_eq(
  $$ select goals from public.movement_profiles $$,
  $$ values ('["general_health"]'::public.movement_profile_goal_list) $$,
  'the update is stored'
);
select throws_ok(
  $$
    insert into public.movement_profiles (user_id, training_preferences, goals)
    values ('bbbbbbbb-0000-4000-8000-000000000002', '["yoga"]', '["rehab"]')
  $$,
  '42501',
  null,
  'the known user cannot create a profile for someone else'
);
select throws_ok(
  $$ update public.movement_profiles set goals = '["dance"]' $$,
  '23514',
  'goals contains an invalid value: "dance"',
  'a bad value is refused with the field named'
);

-- A token for a user that does not exist.
select set_config(
  'request.jwt.claims',
  pg_temp.session_claims('dddddddd-0000-4000-8000-00000000ffff'),
  true
);
select set_config(
  'request.headers', pg_temp.session_headers(current_setting('request.jwt.claims')), true
);
select throws_ok(
  $$ select movement_profiles_internal.check_request() $$,
  'PT401',
  'JWT sub claim names no user',
  'an unknown sub is refused with 401'
);

-- anon never reaches the lookup.
reset role;
set local role anon;
select throws_ok(
  $$ select movement_profiles_internal.auth_user_exists('dddddddd-0000-4000-8000-000000000001') $$,
  '42501',
  null,
  'anon may not call the auth.users lookup'
);

select * from finish();
rollback;
