-- movement-profiles is a guest in someone else's project. Its functions carry their own grants,
-- so whatever default privileges the host set (many revoke PUBLIC's EXECUTE on new functions) the
-- API roles reach exactly what they need; and its pre-request check judges the component's own
-- paths only, leaving every other request of the host as PostgREST would serve it without it.
begin;
create extension if not exists pgtap with schema extensions;
-- Without public on the path, function names below print with their schema.
set local search_path = extensions;

select plan(25);

-- Explicit privileges ---------------------------------------------------------------------------

-- Who holds EXECUTE on each function the component creates, read from the ACL itself (a NULL
-- ACL would mean "whatever the defaults were", which is what must not be relied on). PUBLIC
-- appears as grantee 0. The owner, postgres, is left out: it always may.
create temporary view function_grant as
select function_.oid::regprocedure::text as function_name,
       coalesce(nullif(privilege.grantee, 0)::regrole::text, 'PUBLIC') as grantee
from pg_catalog.pg_proc as function_
cross join lateral pg_catalog.aclexplode(function_.proacl) as privilege
where (
    function_.pronamespace = 'movement_profiles_internal'::regnamespace
    or (function_.pronamespace = 'public'::regnamespace and function_.proname like 'movement\_profile\_%')
  )
  and privilege.privilege_type = 'EXECUTE'
  and privilege.grantee <> function_.proowner;

select is_empty(
  $$
    select oid::regprocedure::text
    from pg_catalog.pg_proc
    where (pronamespace = 'movement_profiles_internal'::regnamespace
           or (pronamespace = 'public'::regnamespace and proname like 'movement\_profile\_%'))
      and proacl is null
  $$,
  'every function of the component has an ACL of its own, not the defaults'
);
select set_eq(
  $$ select function_name, grantee from function_grant $$,
  $$
    values
      ('public.movement_profile_options()', 'anon'),
      ('public.movement_profile_options()', 'authenticated'),
      ('public.movement_profile_options()', 'service_role'),
      ('public.movement_profile_catalogue()', 'anon'),
      ('public.movement_profile_catalogue()', 'authenticated'),
      ('public.movement_profile_catalogue()', 'service_role'),
      ('public.movement_profile_add_field(text,text,text,boolean,text[])', 'service_role'),
      ('public.movement_profile_add_value(text,text,text,text)', 'service_role'),
      ('public.movement_profile_relabel(text,text,text,text)', 'service_role'),
      ('public.movement_profile_retire_value(text,text,text,text)', 'service_role'),
      ('public.movement_profile_remove_field(text,text)', 'service_role'),
      ('public.movement_profile_apply_catalogue(jsonb,text)', 'service_role'),
      ('public.movement_profile_catalogue_sql()', 'service_role'),
      ('public.movement_profile_catalogue_changes(integer)', 'service_role'),
      ('movement_profiles_internal.catalogue_allowed_values(text)', 'anon'),
      ('movement_profiles_internal.catalogue_allowed_values(text)', 'authenticated'),
      ('movement_profiles_internal.catalogue_allowed_values(text)', 'service_role'),
      ('movement_profiles_internal.catalogue_field_entry(text)', 'anon'),
      ('movement_profiles_internal.catalogue_field_entry(text)', 'authenticated'),
      ('movement_profiles_internal.catalogue_field_entry(text)', 'service_role'),
      ('movement_profiles_internal.assert_custom_fields(jsonb,jsonb)', 'authenticated'),
      ('movement_profiles_internal.assert_custom_fields(jsonb,jsonb)', 'service_role'),
      ('movement_profiles_internal.quote_for_message(text)', 'authenticated'),
      ('movement_profiles_internal.quote_for_message(text)', 'service_role'),
      ('movement_profiles_internal.assert_option_array(text,jsonb,text[])', 'authenticated'),
      ('movement_profiles_internal.assert_option_array(text,jsonb,text[])', 'service_role'),
      ('movement_profiles_internal.auth_user_exists(uuid)', 'authenticated'),
      ('movement_profiles_internal.component_path(text)', 'PUBLIC'),
      ('movement_profiles_internal.check_request()', 'PUBLIC'),
      ('movement_profiles_internal.check_component_request()', 'PUBLIC')
  $$,
  'EXECUTE is granted to exactly the roles that call each function'
);
-- The one exception to "no PUBLIC": PostgREST runs the pre-request hook as whatever role the
-- token names, the host's own roles included, so every role must be able to run it (and the path
-- decoder and the rules it calls). Everything else is closed to PUBLIC.
select is_empty(
  $$
    select function_name from function_grant
    where grantee = 'PUBLIC'
      and function_name not in (
        'movement_profiles_internal.check_request()',
        'movement_profiles_internal.check_component_request()',
        'movement_profiles_internal.component_path(text)'
      )
  $$,
  'PUBLIC may execute no function of the component but the pre-request check and its path decoder'
);
select is(
  (
    select pg_catalog.array_agg(proname::text order by proname)
    from pg_catalog.pg_proc
    where pronamespace = 'movement_profiles_internal'::regnamespace
  ),
  array[
    'assert_custom_fields', 'assert_option_array', 'auth_user_exists', 'catalogue_actor',
    'catalogue_allowed_values', 'catalogue_field', 'catalogue_field_entry',
    'check_catalogue_name', 'check_component_request', 'check_request', 'component_path',
    'count_profiles', 'custom_fields_check_sql', 'default_label', 'field_assignment', 'field_expression', 'lock_catalogue',
    'movement_profiles_before_update', 'no_repeated_value_sql', 'option_list_check_sql', 'profile_count', 'put_value',
    'quote_for_message', 'record_catalogue_change', 'refresh_option_list_checks', 'remove_field',
    'retire_value', 'take_value_out', 'update_profiles'
  ],
  'the grants above cover every function in movement_profiles_internal'
);

-- A trigger function is checked for EXECUTE when the trigger is created, never when it fires:
-- the writers update their rows although they may not call the trigger function themselves.
insert into auth.users (id, email) values
  ('eeeeeeee-0000-4000-8000-000000000001', 'guest@privileges.test');
insert into public.movement_profiles (user_id, training_preferences, goals) values
  ('eeeeeeee-0000-4000-8000-000000000001', '["yoga"]', '["rehab"]');
set local role authenticated;
set local request.jwt.claims =
  '{"sub": "eeeeeeee-0000-4000-8000-000000000001", "role": "authenticated"}';
select is(
  pg_catalog.has_function_privilege(
    'movement_profiles_internal.movement_profiles_before_update()', 'EXECUTE'
  ),
  false,
  'authenticated may not call the timestamps trigger function'
);
select results_eq(
  $$
    update public.movement_profiles set goals = '["lose_fat"]'
    returning updated_at > created_at
  $$,
  $$ values (true) $$,
  'and still its update fires the trigger, which moves updated_at'
);
reset role;

-- Scope: the check's rules apply to the component's paths only ------------------------------------

-- PostgREST's request settings, for a path, a role and claims (no Authorization header).
create function pg_temp.request(path text, claims text) returns void
language sql
as $$
  select pg_catalog.set_config('request.path', path, true),
         pg_catalog.set_config('request.jwt.claims', claims, true),
         pg_catalog.set_config('request.headers', '{}', true)
$$;
-- What the check left behind: the statement timeout in force for the rest of the request.
create function pg_temp.timeout_after_check() returns text
language plpgsql
as $$
begin
  -- The request's own limit, as PostgREST's transaction starts with it (set_config(..., true)
  -- lasts to the end of this test's one transaction, so each request starts afresh here).
  perform pg_catalog.set_config('statement_timeout', '8s', true);
  perform movement_profiles_internal.check_request();
  return pg_catalog.current_setting('statement_timeout');
end
$$;

set local role anon;
select pg_temp.request('/host_catalogue', '{"role": "anon"}');
select is(pg_temp.timeout_after_check(), '8s', 'anon passes on a host''s table, statement timeout untouched');
select pg_temp.request('/rpc/host_public_counts', '{"role": "anon"}');
select lives_ok($$ select movement_profiles_internal.check_request() $$, 'anon passes on a host''s RPC');
select pg_temp.request('/', '{"role": "anon"}');
select lives_ok($$ select movement_profiles_internal.check_request() $$, 'anon passes on the OpenAPI root');
select pg_temp.request('/movement_profiles', '{"role": "anon"}');
select throws_ok(
  $$ select movement_profiles_internal.check_request() $$,
  '42501', 'permission denied for table movement_profiles',
  'anon is refused on the component''s table'
);
select pg_temp.request('/movement%5Fprofiles', '{"role": "anon"}');
select throws_ok(
  $$ select movement_profiles_internal.check_request() $$,
  '42501', 'permission denied for table movement_profiles',
  'anon is refused on the component''s table spelled with a percent escape'
);
select pg_temp.request('/%72pc/movement%5fprofile%5Foptions', '{"role": "anon"}');
select is(
  pg_temp.timeout_after_check(), '250ms',
  'anon on the options function, however spelled, gets the component''s statement timeout'
);
select pg_temp.request('/rpc/movement_profile_options', '{"role": "anon"}');
select is(
  pg_temp.timeout_after_check(), '250ms',
  'anon on the options function as spelled gets the component''s statement timeout'
);
select pg_temp.request('/rpc/movement_profile_catalogue', '{"role": "anon"}');
select is(
  pg_temp.timeout_after_check(), '250ms',
  'every function of the component is its path: anon reading the catalogue gets its statement timeout'
);
select pg_temp.request('/rpc/movement%5Fprofile_add_field', '{"role": "anon"}');
select is(
  pg_temp.timeout_after_check(), '250ms',
  'and so under any spelling PostgREST routes there'
);
-- The hook hands every path holding `movement_profile` or `%` to the rules; these are the host's.
select pg_temp.request('/movement_profiles_archive', '{"role": "anon"}');
select is(
  pg_temp.timeout_after_check(), '8s',
  'a host''s path that merely contains the component''s name is not judged'
);
select pg_temp.request('/caf%C3%A9_menu', '{"role": "anon"}');
select is(
  pg_temp.timeout_after_check(), '8s',
  'a host''s path with a percent escape is not judged'
);
select pg_temp.request('/rpc%2Fmovement_profile_options', '{"role": "anon"}');
select is(
  pg_temp.timeout_after_check(), '8s',
  'a path PostgREST does not route to the component (an escaped slash) is not judged'
);
reset role;

-- A third-party-auth user: role authenticated, a sub that is no UUID, no row in auth.users.
set local role authenticated;
select pg_temp.request(
  '/host_catalogue',
  '{"role": "authenticated", "sub": "user_2NNEqL2nrIRdJ194ndJqAHwEfxC", "aud": "authenticated"}'
);
select is(
  pg_temp.timeout_after_check(), '8s',
  'a third-party-auth token passes on a host''s table, statement timeout untouched'
);
select pg_temp.request(
  '/movement_profiles',
  '{"role": "authenticated", "sub": "user_2NNEqL2nrIRdJ194ndJqAHwEfxC", "aud": "authenticated"}'
);
select throws_ok(
  $$ select movement_profiles_internal.check_request() $$,
  'PT401', 'Authorization header is ambiguous',
  'on the component''s table, claims without the token they came from are refused'
);
reset role;

-- A role of the host's own that authenticator may become runs the check, and passes.
create role movement_profiles_test_host_role nologin;
grant movement_profiles_test_host_role to postgres;
grant usage on schema extensions to movement_profiles_test_host_role;  -- for pgTAP itself
set local role movement_profiles_test_host_role;
select pg_temp.request('/host_catalogue', '{"role": "movement_profiles_test_host_role"}');
select lives_ok(
  $$ select movement_profiles_internal.check_request() $$,
  'a host''s own role may run the check and passes on the host''s paths'
);
select pg_temp.request('/movement_profiles', '{"role": "movement_profiles_test_host_role"}');
select throws_ok(
  $$ select movement_profiles_internal.check_request() $$,
  'PT401', 'JWT role is not an API role',
  'and is refused on the component''s paths'
);
reset role;

-- A host with its own hook chains the check first thing, as docs/deploying.md shows: the same
-- scoping holds.
create function public.movement_profiles_test_host_hook() returns void
language plpgsql
set search_path = ''
as $$
begin
  perform movement_profiles_internal.check_request();
  perform pg_catalog.set_config('host.hook_ran', 'yes', true);
end
$$;
set local role anon;
select pg_temp.request('/host_catalogue', '{"role": "anon"}');
select lives_ok($$ select public.movement_profiles_test_host_hook() $$, 'a chained check passes anon on the host''s table');
select is(pg_catalog.current_setting('host.hook_ran', true), 'yes', 'and the host''s own hook runs on');
select pg_temp.request('/movement%5Fprofiles', '{"role": "anon"}');
select throws_ok(
  $$ select public.movement_profiles_test_host_hook() $$,
  '42501', 'permission denied for table movement_profiles',
  'a chained check refuses anon on the component''s table, however spelled'
);
reset role;

select * from finish();
rollback;
