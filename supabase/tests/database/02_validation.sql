-- Validation of training_preferences and goals: every way an array can be wrong is
-- rejected with SQLSTATE 23514 (PostgREST: 400), a message naming the field and the offending
-- value, the allowed values in detail and the bare column name in hint. Checked on insert and on
-- update, as a signed-in user writing through the API would, for both columns.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(72);

-- Ada already has a profile (the updates below target it); Grace has none yet (the inserts are hers).
insert into auth.users (id, email) values
  ('aaaaaaaa-0000-4000-8000-000000000001', 'ada@validation.test'),
  ('aaaaaaaa-0000-4000-8000-000000000002', 'grace@validation.test');
insert into public.movement_profiles (user_id, training_preferences, goals) values
  ('aaaaaaaa-0000-4000-8000-000000000001', '["yoga"]', '["rehab"]');

-- Every wrong value, per column, and the exact message it must produce. `bad_value` null is SQL
-- NULL (the column left empty); 'null'::jsonb is JSON null, which is not an array either.
create temporary table rejected_value (
  column_name text not null,
  problem text not null,
  bad_value jsonb,
  message text not null
) on commit drop;
insert into rejected_value (column_name, problem, bad_value, message)
select column_name, problem, bad_value, column_name || ' ' || message_suffix
from (values ('training_preferences'), ('goals')) as columns_ (column_name)
cross join lateral (
  values
    ('a value outside the allowed list',
      case column_name when 'goals' then '["improve_flexibility"]' else '["dance"]' end::jsonb,
      case column_name
        when 'goals' then 'contains an invalid value: "improve_flexibility"'
        else 'contains an invalid value: "dance"'
      end),
    ('an allowed value in the wrong case',
      case column_name when 'goals' then '["Rehab"]' else '["Yoga"]' end::jsonb,
      case column_name
        when 'goals' then 'contains an invalid value: "Rehab"'
        else 'contains an invalid value: "Yoga"'
      end),
    ('an empty array', '[]'::jsonb, 'must contain at least one value'),
    ('a string instead of an array',
      case column_name when 'goals' then '"rehab"' else '"yoga"' end::jsonb,
      'must be a JSON array of strings'),
    ('an object instead of an array', '{"yoga": true}'::jsonb, 'must be a JSON array of strings'),
    ('a number instead of an array', '1'::jsonb, 'must be a JSON array of strings'),
    ('JSON null instead of an array', 'null'::jsonb, 'must be a JSON array of strings'),
    ('a number as an element', '[1]'::jsonb, 'must be a JSON array of strings'),
    ('a null element', '[null]'::jsonb, 'must be a JSON array of strings'),
    ('a nested array',
      case column_name when 'goals' then '[["rehab"]]' else '[["yoga"]]' end::jsonb,
      'must be a JSON array of strings'),
    ('a duplicate value',
      case column_name
        when 'goals' then '["rehab", "lose_fat", "rehab"]'
        else '["yoga", "running", "yoga"]'
      end::jsonb,
      case column_name
        when 'goals' then 'contains a duplicate value: "rehab"'
        else 'contains a duplicate value: "yoga"'
      end),
    ('SQL null', null::jsonb, 'must be a JSON array of strings'),
    -- No valid array is longer than its list of allowed values: its length is judged before any
    -- entry, so these get the same message whatever their entries are.
    ('every allowed value and one of them again',
      case column_name
        when 'goals' then '["build_muscle", "lose_fat", "improve_endurance", "rehab", '
          '"general_health", "rehab"]'
        else '["strength_training", "running", "yoga", "crossfit", "sports", "mixed", "yoga"]'
      end::jsonb,
      case column_name
        when 'goals' then 'contains more than 5 values'
        else 'contains more than 6 values'
      end),
    ('more numbers than there are allowed values', '[1, 2, 3, 4, 5, 6, 7]'::jsonb,
      case column_name
        when 'goals' then 'contains more than 5 values'
        else 'contains more than 6 values'
      end)
) as cases (problem, bad_value, message_suffix);
-- The tests below read the cases as the signed-in user.
grant select on rejected_value to authenticated, service_role;

select is(
  (select count(*)::int from rejected_value), 28,
  'fourteen kinds of wrong value per column are tested'
);

-- Inserts, as Grace creating her own profile with one bad column and one good one.
set local role authenticated;
set local request.jwt.claims = '{"sub": "aaaaaaaa-0000-4000-8000-000000000002", "role": "authenticated"}';

select throws_ok(
  format(
    'insert into public.movement_profiles (training_preferences, goals) values (%L::jsonb, %L::jsonb)',
    case column_name when 'training_preferences' then bad_value else '["yoga"]' end,
    case column_name when 'goals' then bad_value else '["rehab"]' end
  ),
  '23514',
  message,
  format('insert: %s with %s is rejected, the field named', column_name, problem)
)
from rejected_value
order by column_name desc, problem;

select throws_ok(
  $$ insert into public.movement_profiles (training_preferences) values ('["yoga"]') $$,
  '23514',
  'goals must be a JSON array of strings',
  'insert: leaving goals out is rejected like any other missing array, naming goals'
);
select throws_ok(
  format(
    'insert into public.movement_profiles (training_preferences, goals) values (%L, %L)',
    '["' || repeat('x', 100) || '"]', '["rehab"]'
  ),
  '23514',
  'training_preferences contains an invalid value: "' || repeat('x', 64) || '…"',
  'insert: a huge invalid value is echoed cut to 64 characters, not whole'
);
select throws_ok(
  $$ insert into public.movement_profiles (training_preferences, goals) values ('["yo\"ga"]', '["rehab"]') $$,
  '23514',
  'training_preferences contains an invalid value: "yo\"ga"',
  'insert: an invalid value is echoed as a JSON string, quotes escaped'
);

-- Updates, as Ada changing one column of her own profile.
set local request.jwt.claims = '{"sub": "aaaaaaaa-0000-4000-8000-000000000001", "role": "authenticated"}';

select throws_ok(
  format(
    'update public.movement_profiles set %I = %L::jsonb where user_id = %L',
    column_name, bad_value, 'aaaaaaaa-0000-4000-8000-000000000001'
  ),
  '23514',
  message,
  format('update: %s with %s is rejected, the field named', column_name, problem)
)
from rejected_value
order by column_name desc, problem;

-- Which field failed travels in hint (PostgREST's error JSON has no constraint field), and detail
-- lists what would have been allowed. throws_ok sees neither, so catch the error here.
reset role;
create function pg_temp.error_raised_by(statement text)
returns table (error_code text, error_message text, error_detail text, error_hint text)
language plpgsql
as $$
begin
  execute statement;
exception when others then
  get stacked diagnostics
    error_code = returned_sqlstate,
    error_message = message_text,
    error_detail = pg_exception_detail,
    error_hint = pg_exception_hint;
  return next;
end
$$;
set local role authenticated;

select is_empty(
  $$
    select rejected_value.column_name, rejected_value.problem, error.error_hint
    from rejected_value
    cross join lateral pg_temp.error_raised_by(
      format(
        'update public.movement_profiles set %I = %L::jsonb where user_id = %L',
        column_name, bad_value, 'aaaaaaaa-0000-4000-8000-000000000001'
      )
    ) as error
    where error.error_hint is distinct from rejected_value.column_name
  $$,
  'update: every rejection carries exactly the column name as hint'
);
select is(
  (
    select count(*)::int
    from rejected_value
    cross join lateral pg_temp.error_raised_by(
      format(
        'update public.movement_profiles set %I = %L::jsonb where user_id = %L',
        column_name, bad_value, 'aaaaaaaa-0000-4000-8000-000000000001'
      )
    ) as error
  ),
  28,
  'update: every wrong value raised an error (so the hint check above saw them all)'
);

set local request.jwt.claims = '{"sub": "aaaaaaaa-0000-4000-8000-000000000002", "role": "authenticated"}';
select results_eq(
  $$
    select error_code, error_message, error_detail, error_hint
    from pg_temp.error_raised_by(
      'insert into public.movement_profiles (training_preferences, goals) '
      'values (''["dance"]'', ''["rehab"]'')'
    )
  $$,
  $$
    values (
      '23514',
      'training_preferences contains an invalid value: "dance"',
      'Allowed values: strength_training, running, yoga, crossfit, sports, mixed',
      'training_preferences'
    )
  $$,
  'insert: a bad training_preferences gives 23514, the allowed values in detail, the column in hint'
);
select results_eq(
  $$
    select error_code, error_message, error_detail, error_hint
    from pg_temp.error_raised_by(
      'insert into public.movement_profiles (training_preferences, goals) values (''["yoga"]'', ''[]'')'
    )
  $$,
  $$
    values (
      '23514',
      'goals must contain at least one value',
      'Allowed values: build_muscle, lose_fat, improve_endurance, rehab, general_health',
      'goals'
    )
  $$,
  'insert: a bad goals gives 23514, the allowed values in detail, the column in hint'
);
select results_eq(
  $$
    select error_code, error_message, error_detail, error_hint
    from pg_temp.error_raised_by(
      'insert into public.movement_profiles (training_preferences) values (''["yoga"]'')'
    )
  $$,
  $$
    values (
      '23514',
      'goals must be a JSON array of strings',
      'Allowed values: build_muscle, lose_fat, improve_endurance, rehab, general_health',
      'goals'
    )
  $$,
  'insert: a missing goals gives the same field-named 23514 as a wrong one, not a bare 23502'
);

-- Nothing of the rejected writes was stored.
reset role;
select is(
  (
    select count(*)::int
    from public.movement_profiles
    where user_id = 'aaaaaaaa-0000-4000-8000-000000000002'
  ),
  0,
  'no rejected insert left a profile behind'
);
select results_eq(
  $$
    select training_preferences, goals
    from public.movement_profiles
    where user_id = 'aaaaaaaa-0000-4000-8000-000000000001'
  $$,
  $$ values ('["yoga"]'::public.movement_profile_training_preference_list, '["rehab"]'::public.movement_profile_goal_list) $$,
  'no rejected update changed Ada''s profile'
);

-- The rules hold for every writer, not just the API's users.
set local role service_role;
select throws_ok(
  $$
    update public.movement_profiles set goals = '["rehab", "rehab"]'
    where user_id = 'aaaaaaaa-0000-4000-8000-000000000001'
  $$,
  '23514',
  'goals contains a duplicate value: "rehab"',
  'service_role is held to the same rules as users'
);

-- Valid input is accepted: every allowed value at once, and a single one.
set local role authenticated;
select lives_ok(
  $$
    insert into public.movement_profiles (training_preferences, goals) values (
      '["strength_training", "running", "yoga", "crossfit", "sports", "mixed"]',
      '["build_muscle", "lose_fat", "improve_endurance", "rehab", "general_health"]'
    )
  $$,
  'insert: a profile with every allowed value is accepted'
);
select results_eq(
  $$
    select user_id, training_preferences, goals
    from public.movement_profiles
    where user_id = 'aaaaaaaa-0000-4000-8000-000000000002'
  $$,
  $$
    values (
      'aaaaaaaa-0000-4000-8000-000000000002'::uuid,
      '["strength_training", "running", "yoga", "crossfit", "sports", "mixed"]'::public.movement_profile_training_preference_list,
      '["build_muscle", "lose_fat", "improve_endurance", "rehab", "general_health"]'::public.movement_profile_goal_list
    )
  $$,
  'the accepted profile is stored as sent, for the caller (user_id defaults to auth.uid())'
);

set local request.jwt.claims = '{"sub": "aaaaaaaa-0000-4000-8000-000000000001", "role": "authenticated"}';
select lives_ok(
  $$
    update public.movement_profiles
    set training_preferences = '["crossfit", "running"]', goals = '["lose_fat"]'
    where user_id = 'aaaaaaaa-0000-4000-8000-000000000001'
  $$,
  'update: replacing both arrays with valid values is accepted'
);
select results_eq(
  $$
    select training_preferences, goals
    from public.movement_profiles
    where user_id = 'aaaaaaaa-0000-4000-8000-000000000001'
  $$,
  $$ values ('["crossfit", "running"]'::public.movement_profile_training_preference_list, '["lose_fat"]'::public.movement_profile_goal_list) $$,
  'the update is stored, order of the entries kept'
);

select * from finish();
rollback;
