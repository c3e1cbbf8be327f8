-- Validation at the price of a constraint.
--
-- Until now each write ran two table CHECKs that called PL/pgSQL, which read the enum's values
-- from the catalog for every row, and a PL/pgSQL trigger. A table CHECK is also prepared anew for
-- every statement (its stored expression is read back and simplified each time), so for the API's
-- one-row requests even a CHECK made of built-in operators costs more than the row it checks,
-- and it runs for columns the statement does not touch.
--
-- So the two columns now have a type each: a domain over jsonb whose CHECK constraint does the
-- validating. PostgreSQL prepares a domain's constraints once per connection, and applies them
-- only where a value of the column is written: an update of goals leaves training_preferences
-- unchecked, because it is unchanged. The columns stay jsonb to every client (PostgREST, the
-- generated types, the SDK): a domain is its base type on the wire.
--
-- Each domain CHECK asks built-in jsonb operators first and calls private.assert_option_array
-- only when they say no, to raise the same error as before (SQLSTATE 23514, the field in message
-- and hint, the allowed values in detail). A valid value never enters PL/pgSQL. A missing value
-- is NULL, which the operators cannot call valid either, so it also gets the field-named error:
-- the insert trigger that existed for that alone is gone.
--
-- The fast path for allowed values v1 .. vn:
--   jsonb_typeof(value) = 'array'                 an array, not a scalar or an object
--   and value <@ '["v1", ..., "vn"]'              every entry is one of the allowed strings
--                                                 (a nested array or object is never contained)
--   and jsonb_array_length(value) > 0             at least one entry
--   and jsonb_array_length(value) =               no entry twice: as many entries as allowed
--       (value ? 'v1')::integer + ...             values present
-- It is written out from the enum by private.refresh_option_list_checks(), so the enum stays the
-- one list of allowed values. After `alter type ... add value`, the next migration calls
-- private.refresh_option_list_checks(); until then the new value fails the fast path and the
-- slow path, which reads the enum, accepts it: correct, only slower. supabase/tests checks that
-- the constraints in place are the ones the enums give.

create domain public.training_preference_list as jsonb;
comment on domain public.training_preference_list is
  'A JSON array of distinct training_preference values, at least one.';
create domain public.goal_list as jsonb;
comment on domain public.goal_list is 'A JSON array of distinct goal values, at least one.';

-- A domain without constraints is binary compatible with jsonb: no table rewrite, the indexes
-- are kept. Its constraints come below, checking every existing row once.
alter table public.movement_profiles
  drop constraint movement_profiles_training_preferences_check,
  drop constraint movement_profiles_goals_check,
  alter column training_preferences type public.training_preference_list,
  alter column goals type public.goal_list;

create function private.option_list_fast_check_sql(value_expression text, allowed_values text[])
returns text
language sql
immutable
set search_path = ''
as $$
  select pg_catalog.format(
    'pg_catalog.jsonb_typeof(%1$s) = %2$L and %1$s operator(pg_catalog.<@) %3$L::jsonb '
      'and pg_catalog.jsonb_array_length(%1$s) > 0 and pg_catalog.jsonb_array_length(%1$s) = %4$s',
    value_expression,
    'array',
    pg_catalog.to_jsonb(allowed_values)::text,
    (
      select pg_catalog.string_agg(
        pg_catalog.format('(%s operator(pg_catalog.?) %L)::integer', value_expression, allowed_value),
        ' + ' order by position
      )
      from pg_catalog.unnest(allowed_values) with ordinality as allowed(allowed_value, position)
    )
  )
$$;
comment on function private.option_list_fast_check_sql(text, text[]) is
  'The fast path of an option list''s CHECK, as SQL: built-in jsonb operators only, true when '
  'value_expression is a non-empty JSON array of distinct strings from allowed_values.';

-- Each option list: its domain, the column (named in errors) and the enum of its values.
create function private.refresh_option_list_checks()
returns void
language plpgsql
set search_path = ''
as $$
declare
  option_list record;
begin
  for option_list in
    select *
    from (
      values
        ('public.training_preference_list'::regtype, 'training_preferences',
         'public.training_preference'::regtype),
        ('public.goal_list'::regtype, 'goals', 'public.goal'::regtype)
    ) as lists (domain_type, column_name, enum_type)
  loop
    execute pg_catalog.format(
      'alter domain %1$s drop constraint if exists %2$I', option_list.domain_type,
      option_list.column_name || '_check'
    );
    execute pg_catalog.format(
      'alter domain %1$s add constraint %2$I check ((%3$s) or private.assert_option_array(%4$L, '
        'value, pg_catalog.enum_range(null::%5$s)::text[]))',
      option_list.domain_type,
      option_list.column_name || '_check',
      private.option_list_fast_check_sql(
        'value',
        (
          select pg_catalog.array_agg(enumlabel::text order by enumsortorder)
          from pg_catalog.pg_enum
          where enumtypid = option_list.enum_type
        )
      ),
      option_list.column_name,
      option_list.enum_type
    );
  end loop;
end
$$;
comment on function private.refresh_option_list_checks() is
  'Rebuilds the CHECKs of the domains training_preference_list and goal_list from their enums. '
  'Call it in the migration after one that adds an allowed value.';
revoke all on function private.refresh_option_list_checks() from public;

select private.refresh_option_list_checks();

-- Updates still need a trigger: updated_at is the optimistic-concurrency token and created_at
-- must not move. Inserts take both from their defaults and need none.
drop trigger movement_profiles_before_write on public.movement_profiles;
drop function private.movement_profiles_before_write();

create function private.movement_profiles_before_update()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.created_at := old.created_at;
  -- Wall-clock time, and strictly later than before: two writes in one transaction (now() is
  -- fixed there) must still give different tokens.
  new.updated_at := greatest(pg_catalog.clock_timestamp(), old.updated_at + interval '1 microsecond');
  return new;
end
$$;
comment on function private.movement_profiles_before_update() is
  'Before update on movement_profiles: keeps created_at and sets updated_at.';

create trigger movement_profiles_before_update
  before update on public.movement_profiles
  for each row execute function private.movement_profiles_before_update();
