-- The catalogue: anyone reads it, only the service role changes it, and every change is validated
-- by the database at once, with the same error shape as the built-in fields, and recorded.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions;

select plan(30);

-- The error a statement raises, as PostgREST would report it.
create function pg_temp.error_of(statement text) returns jsonb
language plpgsql
as $$
declare
  code text;
  message text;
  detail text;
  hint text;
begin
  execute statement;
  return null;
exception when others then
  get stacked diagnostics code = returned_sqlstate, message = message_text,
    detail = pg_exception_detail, hint = pg_exception_hint;
  return pg_catalog.jsonb_build_object('code', code, 'message', message, 'detail', detail, 'hint', hint);
end
$$;
grant execute on function pg_temp.error_of(text) to anon, authenticated, service_role;

-- Row level security and grants, as for the profiles --------------------------------------------

select ok(
  (select pg_catalog.bool_and(relrowsecurity) from pg_catalog.pg_class
   where relnamespace = 'movement_profiles_internal'::regnamespace and relkind = 'r'),
  'row level security is on for every catalogue table'
);
select table_privs_are(
  'movement_profiles_internal', 'catalogue_fields', 'anon', array['SELECT'], 'anon only reads the fields'
);
select table_privs_are(
  'movement_profiles_internal', 'catalogue_values', 'authenticated', array['SELECT'],
  'authenticated only reads the values'
);
select table_privs_are(
  'movement_profiles_internal', 'catalogue_changes', 'authenticated', array[]::text[],
  'authenticated cannot read the history'
);
select ok(
  not pg_catalog.has_function_privilege('anon', 'public.movement_profile_add_field(text,text,text,boolean,text[])', 'EXECUTE')
  and not pg_catalog.has_function_privilege('authenticated', 'public.movement_profile_add_value(text,text,text,text)', 'EXECUTE')
  and not pg_catalog.has_function_privilege('authenticated', 'public.movement_profile_apply_catalogue(jsonb,text)', 'EXECUTE')
  and pg_catalog.has_function_privilege('service_role', 'public.movement_profile_retire_value(text,text,text,text)', 'EXECUTE'),
  'the catalogue''s changes are the service role''s alone'
);

insert into auth.users (id, email) values
  ('cccccccc-0000-4000-8000-000000000001', 'one@catalogue.test'),
  ('cccccccc-0000-4000-8000-000000000002', 'two@catalogue.test'),
  ('cccccccc-0000-4000-8000-000000000003', 'three@catalogue.test');

set local role authenticated;
set local request.jwt.claims = '{"sub": "cccccccc-0000-4000-8000-000000000001", "role": "authenticated"}';
select is(
  pg_temp.error_of($$ select public.movement_profile_add_field('injuries', 'Injuries') $$) ->> 'code',
  '42501', 'a signed-in user cannot add a field'
);
select is(
  pg_temp.error_of($$ insert into movement_profiles_internal.catalogue_values (field, value, label, position) values ('goals', 'x', 'X', 9) $$) ->> 'code',
  '42501', 'nor write the catalogue''s tables'
);
select is(
  (public.movement_profile_catalogue() -> 'fields' -> 0 ->> 'label'), 'Training preferences',
  'a signed-in user reads the catalogue, with labels'
);
reset role;
set local role anon;
set local request.jwt.claims = '{"role": "anon"}';
select is(
  pg_temp.error_of($$ select public.movement_profile_retire_value('goals', 'rehab', 'remove') $$) ->> 'code',
  '42501', 'anon cannot retire a value'
);
select is(
  pg_catalog.jsonb_array_length(public.movement_profile_catalogue() -> 'fields'), 2,
  'anon reads the catalogue: the two built-in fields'
);
reset role;

-- Adding a field: validated at once, with the built-in fields' error shape -----------------------

set local role service_role;
set local request.jwt.claims = '{"role": "service_role"}';
select is(
  public.movement_profile_add_field('injuries', 'Injuries', 'Anything that hurts.', false, '{knee,shoulder}') -> 'values' -> 1,
  '{"value": "shoulder", "label": "Shoulder", "description": ""}'::jsonb,
  'the service role adds a field with values, labelled from their names'
);
select is(
  public.movement_profile_options() -> 'injuries', '["knee", "shoulder"]'::jsonb,
  'options() lists the new field''s values'
);
insert into public.movement_profiles (user_id, training_preferences, goals, custom_fields) values
  ('cccccccc-0000-4000-8000-000000000001', '["yoga"]', '["rehab"]', '{"injuries": ["knee"]}');
select is(
  pg_temp.error_of($$
    insert into public.movement_profiles (user_id, training_preferences, goals, custom_fields)
    values ('cccccccc-0000-4000-8000-000000000002', '["yoga"]', '["rehab"]', '{"injuries": ["elbow"]}')
  $$),
  '{"code": "23514", "message": "injuries contains an invalid value: \"elbow\"", "detail": "Allowed values: knee, shoulder", "hint": "injuries"}'::jsonb,
  'a value the field does not allow: 23514, the field in hint, its values in detail'
);
select is(
  pg_temp.error_of($$
    insert into public.movement_profiles (user_id, training_preferences, goals, custom_fields)
    values ('cccccccc-0000-4000-8000-000000000002', '["yoga"]', '["rehab"]', '{"injury": ["knee"]}')
  $$),
  '{"code": "23514", "message": "custom_fields contains an unknown field: \"injury\"", "detail": "Fields: injuries", "hint": "custom_fields"}'::jsonb,
  'a field the catalogue does not have: 23514 naming it'
);
select is(
  pg_temp.error_of($$
    insert into public.movement_profiles (user_id, training_preferences, goals, custom_fields)
    values ('cccccccc-0000-4000-8000-000000000002', '["pilates"]', '["rehab"]', '{}')
  $$) ->> 'message',
  'training_preferences contains an invalid value: "pilates"',
  'pilates is not a training preference yet'
);
select is(
  public.movement_profile_add_value('training_preferences', 'pilates', 'Pilates') -> 'values' -> -1 ->> 'label',
  'Pilates', 'the service role adds a value to a built-in field'
);
select lives_ok(
  $$
    insert into public.movement_profiles (user_id, training_preferences, goals, custom_fields)
    values ('cccccccc-0000-4000-8000-000000000002', '["pilates"]', '["rehab"]', '{"injuries": []}')
  $$,
  'and from that moment the database accepts it'
);
select is(
  (select pg_catalog.count(*)::integer from public.movement_profiles where custom_fields @> '{"injuries": ["knee"]}'),
  1, 'a filter on a later field finds its profiles'
);

-- Retiring and removing: nothing invalid stays, nothing is lost unasked --------------------------

select is(
  pg_temp.error_of($$ select public.movement_profile_retire_value('injuries', 'knee') $$),
  '{"code": "23503", "message": "\"knee\" is held by 1 movement profile", "detail": "Say what to do with them: profiles => ''remove'' takes the value out of them, profiles => ''replace'' with a replacement puts another in its place.", "hint": "injuries"}'::jsonb,
  'retiring a value profiles hold is refused with their number'
);
select is(
  pg_temp.error_of($$ select public.movement_profile_retire_value('training_preferences', 'pilates', 'remove') $$) ->> 'message',
  '"pilates" is the only value of training_preferences in 1 movement profile',
  'removing the last value of a required field is refused'
);
select is(
  public.movement_profile_retire_value('training_preferences', 'pilates', 'replace', 'yoga'),
  '{"field": "training_preferences", "value": "pilates", "profiles_changed": 1}'::jsonb,
  'replacing it is done in the same call'
);
select is(
  (select training_preferences::jsonb from public.movement_profiles where user_id = 'cccccccc-0000-4000-8000-000000000002'),
  '["yoga"]'::jsonb, 'and the profile holds the replacement'
);
select is(
  pg_temp.error_of($$
    insert into public.movement_profiles (user_id, training_preferences, goals)
    values ('cccccccc-0000-4000-8000-000000000003', '["pilates"]', '["rehab"]')
  $$) ->> 'message',
  'training_preferences contains an invalid value: "pilates"',
  'a retired value is refused from then on'
);
select is(
  public.movement_profile_retire_value('injuries', 'knee', 'remove') ->> 'profiles_changed', '1',
  'retiring with profiles => remove takes it out of them'
);
select is(
  pg_temp.error_of($$ select public.movement_profile_remove_field('goals') $$) ->> 'code',
  '22023', 'a built-in field cannot be removed'
);
select is(
  public.movement_profile_add_value('injuries', 'knee') -> 'values' -> -1 ->> 'value', 'knee',
  'a retired value can be reinstated'
);
update public.movement_profiles set custom_fields = '{"injuries": ["shoulder"]}'
where user_id = 'cccccccc-0000-4000-8000-000000000001';
select is(
  pg_temp.error_of($$ select public.movement_profile_remove_field('injuries') $$) ->> 'message',
  'injuries is held by 1 movement profile', 'removing a field profiles hold is refused'
);
select is(
  public.movement_profile_remove_field('injuries', 'remove') ->> 'profiles_changed', '2',
  'unless the admin says so: the field goes from every profile (one had it empty)'
);
reset role;

-- Every change recorded ---------------------------------------------------------------------------

select results_eq(
  $$
    select action, field, coalesce(value, ''), profiles_changed::integer, changed_by
    from movement_profiles_internal.catalogue_changes order by id
  $$,
  $$
    values
      ('add_field', 'injuries', '', 0, 'service_role'),
      ('add_value', 'training_preferences', 'pilates', 0, 'service_role'),
      ('retire_value', 'training_preferences', 'pilates', 1, 'service_role'),
      ('retire_value', 'injuries', 'knee', 1, 'service_role'),
      ('add_value', 'injuries', 'knee', 0, 'service_role'),
      ('remove_field', 'injuries', '', 2, 'service_role')
  $$,
  'every change is recorded: what, by whom, how many profiles it changed; refused ones are not'
);
select is(
  pg_catalog.jsonb_array_length(public.movement_profile_catalogue() -> 'fields'), 2,
  'the catalogue is back to its two built-in fields'
);

select * from finish();
rollback;
