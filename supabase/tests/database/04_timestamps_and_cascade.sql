-- The columns the database keeps for itself: created_at never changes, updated_at moves on every
-- update whoever writes (the SDK's optimistic concurrency relies on it), and a profile lives
-- exactly as long as its auth user.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(15);

-- now() is frozen for the whole transaction, so a row written here would get the same timestamp
-- on insert and on update. The profiles therefore start in 2000 (only the insert path lets a
-- privileged writer set the timestamps): any update must visibly move updated_at away from it.
insert into auth.users (id, email) values
  ('cccccccc-0000-4000-8000-000000000001', 'ada@timestamps.test'),
  ('cccccccc-0000-4000-8000-000000000002', 'grace@timestamps.test'),
  ('cccccccc-0000-4000-8000-000000000003', 'linus@timestamps.test');
insert into public.movement_profiles (user_id, training_preferences, goals, created_at, updated_at)
select user_id, training_preferences, goals, '2000-01-01 00:00:00+00', '2000-01-01 00:00:00+00'
from (
  values
    ('cccccccc-0000-4000-8000-000000000001'::uuid, '["yoga"]'::jsonb, '["rehab"]'::jsonb),
    ('cccccccc-0000-4000-8000-000000000002'::uuid, '["running"]'::jsonb, '["lose_fat"]'::jsonb)
) as profile (user_id, training_preferences, goals);

-- Ada updates her goals.
set local role authenticated;
set local request.jwt.claims = '{"sub": "cccccccc-0000-4000-8000-000000000001", "role": "authenticated"}';
update public.movement_profiles set goals = '["general_health"]'
where user_id = 'cccccccc-0000-4000-8000-000000000001';

select cmp_ok(
  (select updated_at from public.movement_profiles where user_id = 'cccccccc-0000-4000-8000-000000000001'),
  '>=',
  now(),
  'a user''s update moves updated_at to the time of the write'
);
select cmp_ok(
  (select updated_at from public.movement_profiles where user_id = 'cccccccc-0000-4000-8000-000000000001'),
  '<=',
  clock_timestamp(),
  'updated_at is not set in the future'
);
select is(
  (select created_at from public.movement_profiles where user_id = 'cccccccc-0000-4000-8000-000000000001'),
  '2000-01-01 00:00:00+00'::timestamptz,
  'a user''s update leaves created_at alone'
);

-- An update that changes nothing is still a write: updated_at moves, so a stale copy is detectable.
reset role;
set local role service_role;
update public.movement_profiles set goals = goals
where user_id = 'cccccccc-0000-4000-8000-000000000002';
select isnt(
  (select updated_at from public.movement_profiles where user_id = 'cccccccc-0000-4000-8000-000000000002'),
  '2000-01-01 00:00:00+00'::timestamptz,
  'updated_at moves even when an update writes the same values'
);

-- Even service_role, which has every column privilege, cannot rewrite history.
update public.movement_profiles
set created_at = '1999-01-01 00:00:00+00', updated_at = '1999-01-01 00:00:00+00'
where user_id = 'cccccccc-0000-4000-8000-000000000001';
select is(
  (select created_at from public.movement_profiles where user_id = 'cccccccc-0000-4000-8000-000000000001'),
  '2000-01-01 00:00:00+00'::timestamptz,
  'service_role cannot change created_at: the trigger keeps the original'
);
select cmp_ok(
  (select updated_at from public.movement_profiles where user_id = 'cccccccc-0000-4000-8000-000000000001'),
  '>=',
  now(),
  'service_role cannot backdate updated_at: the trigger sets the time of the write'
);

-- A new profile is created and last written at the same moment.
set local role authenticated;
set local request.jwt.claims = '{"sub": "cccccccc-0000-4000-8000-000000000003", "role": "authenticated"}';
insert into public.movement_profiles (training_preferences, goals) values ('["mixed"]', '["build_muscle"]');
select results_eq(
  $$
    select created_at = updated_at, created_at = now()
    from public.movement_profiles
    where user_id = 'cccccccc-0000-4000-8000-000000000003'
  $$,
  $$ values (true, true) $$,
  'a new profile gets created_at = updated_at = the time of the insert'
);

-- A profile lives as long as its auth user.
reset role;
select is(
  (select count(*)::int from public.movement_profiles where user_id = 'cccccccc-0000-4000-8000-000000000001'),
  1,
  'Ada has a profile before her account is deleted'
);
select lives_ok(
  $$ delete from auth.users where id = 'cccccccc-0000-4000-8000-000000000001' $$,
  'an auth user with a profile can be deleted'
);
select is_empty(
  $$ select * from public.movement_profiles where user_id = 'cccccccc-0000-4000-8000-000000000001' $$,
  'deleting the auth user deletes their profile'
);
select is(
  (select count(*)::int from public.movement_profiles where user_id::text like 'cccccccc-%'),
  2,
  'the other users'' profiles stay'
);

set local role service_role;
select is(
  (
    select count(*)::int
    from public.movement_profiles
    where user_id = 'cccccccc-0000-4000-8000-000000000002'
  ),
  1,
  'Grace has a profile before it is deleted'
);
delete from public.movement_profiles where user_id = 'cccccccc-0000-4000-8000-000000000002';
reset role;
select isnt_empty(
  $$ select * from auth.users where id = 'cccccccc-0000-4000-8000-000000000002' $$,
  'deleting a profile leaves the auth user in place'
);

-- No profile without a user.
set local role service_role;
select throws_ok(
  $$
    insert into public.movement_profiles (user_id, training_preferences, goals)
    values ('cccccccc-0000-4000-8000-0000000000ff', '["yoga"]', '["rehab"]')
  $$,
  '23503',
  'insert or update on table "movement_profiles" violates foreign key constraint '
  '"movement_profiles_user_id_fkey"',
  'a profile cannot be created for a user that does not exist'
);
select throws_ok(
  $$
    update public.movement_profiles set user_id = 'cccccccc-0000-4000-8000-0000000000ff'
    where user_id = 'cccccccc-0000-4000-8000-000000000003'
  $$,
  '23503',
  'insert or update on table "movement_profiles" violates foreign key constraint '
  '"movement_profiles_user_id_fkey"',
  'a profile cannot be moved to a user that does not exist'
);

select * from finish();
rollback;
