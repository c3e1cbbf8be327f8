-- Who may do what: each signed-in user reads, creates and updates only their own
-- profile and never the columns the database owns; anon gets nothing; service_role (the admins'
-- key) gets everything. Acting as PostgREST does: the role from the JWT, the claims in a setting.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(36);

-- Ada and Grace have profiles; Linus has none yet.
insert into auth.users (id, email) values
  ('bbbbbbbb-0000-4000-8000-000000000001', 'ada@rls.test'),
  ('bbbbbbbb-0000-4000-8000-000000000002', 'grace@rls.test'),
  ('bbbbbbbb-0000-4000-8000-000000000003', 'linus@rls.test');
insert into public.movement_profiles (user_id, training_preferences, goals) values
  ('bbbbbbbb-0000-4000-8000-000000000001', '["yoga"]', '["rehab"]'),
  ('bbbbbbbb-0000-4000-8000-000000000002', '["running"]', '["lose_fat"]');

-- An update or delete that RLS filters out raises nothing: it just touches no row. Counting the
-- rows is how a test tells "allowed" from "silently ignored".
create function pg_temp.rows_affected_by(statement text)
returns int
language plpgsql
as $$
declare
  affected int;
begin
  execute statement;
  get diagnostics affected = row_count;
  return affected;
end
$$;

-- The seed may have added profiles too: service_role must see all of them, whatever their number.
select set_config(
  'rls_test.all_profiles', (select count(*) from public.movement_profiles)::text, true
);

-- Ada, signed in.
set local role authenticated;
set local request.jwt.claims = '{"sub": "bbbbbbbb-0000-4000-8000-000000000001", "role": "authenticated"}';

select results_eq(
  $$ select user_id from public.movement_profiles $$,
  $$ values ('bbbbbbbb-0000-4000-8000-000000000001'::uuid) $$,
  'a user reads only their own profile, however the table is queried'
);
select is_empty(
  $$
    select * from public.movement_profiles where user_id = 'bbbbbbbb-0000-4000-8000-000000000002'
  $$,
  'a user cannot read another user''s profile, even by asking for it'
);
select is(
  pg_temp.rows_affected_by($$
    update public.movement_profiles set goals = '["build_muscle"]'
    where user_id = 'bbbbbbbb-0000-4000-8000-000000000002'
  $$),
  0,
  'a user''s update of another user''s profile touches no row'
);
select is(
  pg_temp.rows_affected_by($$
    update public.movement_profiles set goals = '["general_health"]'
    where user_id = 'bbbbbbbb-0000-4000-8000-000000000001'
  $$),
  1,
  'a user can update their own profile'
);
select throws_ok(
  $$
    insert into public.movement_profiles (user_id, training_preferences, goals)
    values ('bbbbbbbb-0000-4000-8000-000000000003', '["yoga"]', '["rehab"]')
  $$,
  '42501',
  'new row violates row-level security policy for table "movement_profiles"',
  'a user cannot create a profile for another user'
);
select throws_ok(
  $$ insert into public.movement_profiles (training_preferences, goals) values ('["yoga"]', '["rehab"]') $$,
  '23505',
  'duplicate key value violates unique constraint "movement_profiles_user_id_key"',
  'a user cannot create a second profile'
);

-- The columns the database owns are out of reach, even on the user's own row.
select throws_ok(
  $$
    update public.movement_profiles set user_id = 'bbbbbbbb-0000-4000-8000-000000000003'
    where user_id = 'bbbbbbbb-0000-4000-8000-000000000001'
  $$,
  '42501',
  'permission denied for table movement_profiles',
  'a user cannot hand their profile to another user (update user_id)'
);
select throws_ok(
  $$
    update public.movement_profiles set id = gen_random_uuid()
    where user_id = 'bbbbbbbb-0000-4000-8000-000000000001'
  $$,
  '42501',
  'permission denied for table movement_profiles',
  'a user cannot change the id of their profile'
);
select throws_ok(
  $$
    update public.movement_profiles set created_at = '2000-01-01'
    where user_id = 'bbbbbbbb-0000-4000-8000-000000000001'
  $$,
  '42501',
  'permission denied for table movement_profiles',
  'a user cannot change created_at'
);
select throws_ok(
  $$
    update public.movement_profiles set updated_at = '2000-01-01'
    where user_id = 'bbbbbbbb-0000-4000-8000-000000000001'
  $$,
  '42501',
  'permission denied for table movement_profiles',
  'a user cannot change updated_at'
);

-- Users cannot delete at all: no delete grant, so Postgres refuses before RLS is even asked.
select throws_ok(
  $$ delete from public.movement_profiles where user_id = 'bbbbbbbb-0000-4000-8000-000000000001' $$,
  '42501',
  'permission denied for table movement_profiles',
  'a user cannot delete their own profile'
);
select throws_ok(
  $$ delete from public.movement_profiles where user_id = 'bbbbbbbb-0000-4000-8000-000000000002' $$,
  '42501',
  'permission denied for table movement_profiles',
  'a user cannot delete another user''s profile'
);

-- Linus, signed in, creates his profile; id, user_id and the timestamps are not his to choose.
set local request.jwt.claims = '{"sub": "bbbbbbbb-0000-4000-8000-000000000003", "role": "authenticated"}';

select throws_ok(
  $$
    insert into public.movement_profiles (id, training_preferences, goals)
    values ('bbbbbbbb-0000-4000-8000-0000000000ff', '["yoga"]', '["rehab"]')
  $$,
  '42501',
  'permission denied for table movement_profiles',
  'a user cannot choose the id of a new profile'
);
select throws_ok(
  $$
    insert into public.movement_profiles (training_preferences, goals, created_at)
    values ('["yoga"]', '["rehab"]', '2000-01-01')
  $$,
  '42501',
  'permission denied for table movement_profiles',
  'a user cannot backdate created_at of a new profile'
);
select throws_ok(
  $$
    insert into public.movement_profiles (training_preferences, goals, updated_at)
    values ('["yoga"]', '["rehab"]', '2000-01-01')
  $$,
  '42501',
  'permission denied for table movement_profiles',
  'a user cannot set updated_at of a new profile'
);
select lives_ok(
  $$ insert into public.movement_profiles (training_preferences, goals) values ('["yoga"]', '["rehab"]') $$,
  'a user can create their own profile'
);
select results_eq(
  $$ select user_id from public.movement_profiles $$,
  $$ values ('bbbbbbbb-0000-4000-8000-000000000003'::uuid) $$,
  'the new profile belongs to its creator (user_id defaults to auth.uid()) and is all they see'
);
select lives_ok(
  $$
    insert into public.movement_profiles (user_id, training_preferences, goals)
    values ('bbbbbbbb-0000-4000-8000-000000000003', '["yoga"]', '["rehab"]')
    on conflict (user_id) do nothing
  $$,
  'naming one''s own user_id explicitly is allowed (the conflict is ignored here)'
);

-- A JWT without a subject (auth.uid() is null) matches no row.
set local request.jwt.claims = '{"role": "authenticated"}';
select is_empty(
  $$ select * from public.movement_profiles $$,
  'a signed-in role without a subject reads no profile'
);
select throws_ok(
  $$ insert into public.movement_profiles (training_preferences, goals) values ('["yoga"]', '["rehab"]') $$,
  '42501',
  'new row violates row-level security policy for table "movement_profiles"',
  'a signed-in role without a subject cannot create a profile'
);

-- What Ada's and Grace's profiles look like now: only Ada's own update went through.
reset role;
select results_eq(
  $$
    select user_id, goals
    from public.movement_profiles
    where user_id in ('bbbbbbbb-0000-4000-8000-000000000001', 'bbbbbbbb-0000-4000-8000-000000000002')
    order by user_id
  $$,
  $$
    values
      ('bbbbbbbb-0000-4000-8000-000000000001'::uuid, '["general_health"]'::public.movement_profile_goal_list),
      ('bbbbbbbb-0000-4000-8000-000000000002'::uuid, '["lose_fat"]'::public.movement_profile_goal_list)
  $$,
  'Ada''s attempt on Grace''s profile left it unchanged; her own update is stored'
);

-- anon (the public key, nobody signed in) reads and writes nothing.
set local role anon;
set local request.jwt.claims = '{"role": "anon"}';

select throws_ok(
  $$ select * from public.movement_profiles $$,
  '42501',
  'permission denied for table movement_profiles',
  'anon cannot read profiles'
);
select throws_ok(
  $$
    insert into public.movement_profiles (user_id, training_preferences, goals)
    values ('bbbbbbbb-0000-4000-8000-000000000003', '["yoga"]', '["rehab"]')
  $$,
  '42501',
  'permission denied for table movement_profiles',
  'anon cannot create profiles'
);
select throws_ok(
  $$ update public.movement_profiles set goals = '["rehab"]' $$,
  '42501',
  'permission denied for table movement_profiles',
  'anon cannot update profiles'
);
select throws_ok(
  $$ delete from public.movement_profiles $$,
  '42501',
  'permission denied for table movement_profiles',
  'anon cannot delete profiles'
);
select lives_ok(
  $$ select public.movement_profile_options() $$,
  'anon can still read the allowed values, to build a sign-up form'
);
select throws_ok(
  $$ select movement_profiles_internal.assert_option_array('goals', '["rehab"]', array['rehab']) $$,
  '42501',
  'permission denied for function assert_option_array',
  'anon cannot call the validation helpers'
);

-- service_role (BYPASSRLS) sees and changes everything.
set local role service_role;
set local request.jwt.claims = '{"role": "service_role"}';

select is(
  (select count(*) from public.movement_profiles),
  current_setting('rls_test.all_profiles')::bigint + 1,
  'service_role reads every profile (those that existed plus Linus''s new one)'
);
select results_eq(
  $$
    select user_id
    from public.movement_profiles
    where user_id::text like 'bbbbbbbb-%'
    order by user_id
  $$,
  $$
    values
      ('bbbbbbbb-0000-4000-8000-000000000001'::uuid),
      ('bbbbbbbb-0000-4000-8000-000000000002'::uuid),
      ('bbbbbbbb-0000-4000-8000-000000000003'::uuid)
  $$,
  'service_role reads the profiles of every user'
);
select is(
  pg_temp.rows_affected_by($$
    update public.movement_profiles set goals = '["build_muscle"]'
    where user_id = 'bbbbbbbb-0000-4000-8000-000000000002'
  $$),
  1,
  'service_role can update any user''s profile'
);
select is(
  pg_temp.rows_affected_by($$
    update public.movement_profiles set user_id = 'bbbbbbbb-0000-4000-8000-000000000003'
    where user_id = 'bbbbbbbb-0000-4000-8000-000000000003'
  $$),
  1,
  'service_role may write user_id: no column grant holds admins back'
);
select is(
  pg_temp.rows_affected_by($$
    delete from public.movement_profiles where user_id = 'bbbbbbbb-0000-4000-8000-000000000002'
  $$),
  1,
  'service_role can delete any user''s profile'
);
select is(
  pg_temp.rows_affected_by($$
    insert into public.movement_profiles (user_id, training_preferences, goals)
    values ('bbbbbbbb-0000-4000-8000-000000000002', '["sports"]', '["general_health"]')
  $$),
  1,
  'service_role can create a profile for any user'
);
select throws_ok(
  $$
    insert into public.movement_profiles (training_preferences, goals)
    values ('["sports"]', '["general_health"]')
  $$,
  '23502',
  null,
  'service_role must name the user: there is no caller to default user_id to'
);

-- The role attributes the tests above rely on, as on hosted Supabase.
reset role;
select ok(
  not (select rolbypassrls from pg_catalog.pg_roles where rolname = 'authenticated')
    and not (select rolbypassrls from pg_catalog.pg_roles where rolname = 'anon'),
  'neither anon nor authenticated bypasses row-level security'
);
select ok(
  (select rolbypassrls from pg_catalog.pg_roles where rolname = 'service_role'),
  'service_role bypasses row-level security, as on hosted Supabase'
);
select * from finish();
rollback;
