-- The types of the two option columns: a domain over jsonb each, whose CHECK does the validating.
-- The columns stay jsonb to every client (PostgREST, the generated types, the SDK): a domain is its
-- base type on the wire. PostgreSQL prepares a domain's constraints once per connection and applies
-- them only where a value of the column is written, so an update of goals leaves
-- training_preferences unchecked; a table CHECK would be prepared anew for every statement.
--
-- Each CHECK asks built-in jsonb operators first, and only when they say no calls
-- movement_profiles_internal.assert_option_array, which raises SQLSTATE 23514 (PostgREST: 400)
-- saying which field failed and why, with the allowed values in `details` and the column name
-- alone in `hint`, so a frontend can place the message next to the right input. A valid value
-- never enters PL/pgSQL. A missing value is NULL, which the operators cannot call valid either,
-- so it gets the same field-named error instead of a bare not-null violation.
--
-- No valid array is longer than its list of allowed values (an entry may not appear twice), so
-- both paths look at the array's length, which jsonb stores in its header, before any entry: a
-- body of 125,000 entries costs what parsing it costs and no more. Nor does either path descend
-- into an entry, so a value nested deep inside costs nothing beyond its parsing either.
--
-- The fast path for allowed values v1 .. vn, a CASE so that the length is read first (the
-- operands of AND may be evaluated in any order):
--   jsonb_typeof(value) = 'array'                 an array, not a scalar or an object
--   jsonb_array_length(value) between 1 and n     at least one entry, and no more than n
--   value <@ '["v1", ..., "vn"]'                  every entry is one of the allowed strings
--                                                 (a nested array or object is never contained)
--   jsonb_array_length(value) =                   no entry twice: as many entries as allowed
--       (value ? 'v1')::integer + ...             values present
-- It is written out from the enum by movement_profiles_internal.refresh_option_list_checks(), so
-- the enum stays the one list of allowed values. After `alter type ... add value`, the next
-- migration calls it; until then the new value fails the fast path and the slow path, which reads
-- the enum, accepts it: correct, only slower. supabase/tests checks that the constraints in place
-- are the ones the enums give.

create function movement_profiles_internal.quote_for_message(value text)
returns text
language sql
immutable
set search_path = ''
as $$
  select pg_catalog.to_jsonb(
    case when pg_catalog.length(value) > 64 then pg_catalog.left(value, 64) || '…' else value end
  )::text
$$;
comment on function movement_profiles_internal.quote_for_message(text) is
  'User input as a JSON string of at most 64 characters, safe to echo in an error message.';

-- Only reached when the fast path refused, so it may take its time, but never more than an array
-- as long as the list of allowed values takes: it walks the array by position only once its
-- length is known to be in range, and builds the list of allowed values only for the error. The
-- order of the checks decides which message a value that breaks several rules gets; the SDK's
-- validator follows the same order, and a differential test holds the two to each other.
create function movement_profiles_internal.assert_option_array(
  column_name text, value jsonb, allowed_values text[]
)
returns boolean
language plpgsql
immutable
set search_path = ''
as $$
declare
  entry_count integer;
  entry text;
  seen text[] := array[]::text[];
  problem text;
begin
  if value is null or pg_catalog.jsonb_typeof(value) <> 'array' then
    problem := ' must be a JSON array of strings';
  else
    entry_count := pg_catalog.jsonb_array_length(value);
    if entry_count = 0 then
      problem := ' must contain at least one value';
    elsif entry_count > pg_catalog.cardinality(allowed_values) then
      problem := ' contains more than ' || pg_catalog.cardinality(allowed_values) || ' values';
    end if;
    if problem is null then
      for position in 0 .. entry_count - 1 loop
        if pg_catalog.jsonb_typeof(value -> position) <> 'string' then
          problem := ' must be a JSON array of strings';
          exit;
        end if;
      end loop;
    end if;
    if problem is null then
      for position in 0 .. entry_count - 1 loop
        entry := value ->> position;
        if not (entry = any (allowed_values)) then
          -- Quoted as JSON and cut short: the value is user input and may be huge or unprintable.
          problem := ' contains an invalid value: '
            || movement_profiles_internal.quote_for_message(entry);
          exit;
        end if;
        if entry = any (seen) then
          problem := ' contains a duplicate value: '
            || movement_profiles_internal.quote_for_message(entry);
          exit;
        end if;
        seen := seen || entry;
      end loop;
    end if;
  end if;

  if problem is not null then
    raise exception using
      errcode = 'check_violation',
      message = column_name || problem,
      detail = 'Allowed values: ' || pg_catalog.array_to_string(allowed_values, ', '),
      hint = column_name;
  end if;
  return true;
end
$$;
comment on function movement_profiles_internal.assert_option_array(text, jsonb, text[]) is
  'True when value is a non-empty JSON array of distinct strings from allowed_values (so no longer '
  'than allowed_values); otherwise raises 23514 with the field in message and hint and the '
  'allowed values in detail.';

-- A domain's CHECK runs as the role that writes the value: the API's writers and `postgres`
-- (seed data, the host's own SQL). Granted explicitly, so a host that revoked PUBLIC's default
-- EXECUTE on new functions before installing still accepts writes.
revoke all on function movement_profiles_internal.quote_for_message(text) from public;
revoke all on function movement_profiles_internal.assert_option_array(text, jsonb, text[])
  from public;
grant execute on function movement_profiles_internal.quote_for_message(text)
  to authenticated, service_role, postgres;
grant execute on function movement_profiles_internal.assert_option_array(text, jsonb, text[])
  to authenticated, service_role, postgres;

create function movement_profiles_internal.option_list_fast_check_sql(
  value_expression text, allowed_values text[]
)
returns text
language sql
immutable
set search_path = ''
as $$
  select pg_catalog.format(
    'case when pg_catalog.jsonb_typeof(%1$s) operator(pg_catalog.<>) %2$L then false '
      'when pg_catalog.jsonb_array_length(%1$s) not between 1 and %3$s then false '
      'else %1$s operator(pg_catalog.<@) %4$L::jsonb '
      'and pg_catalog.jsonb_array_length(%1$s) operator(pg_catalog.=) %5$s end',
    value_expression,
    'array',
    pg_catalog.cardinality(allowed_values),
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
comment on function movement_profiles_internal.option_list_fast_check_sql(text, text[]) is
  'The fast path of an option list''s CHECK, as SQL: built-in jsonb operators only, the length '
  'first, true when value_expression is a non-empty JSON array of distinct strings from '
  'allowed_values.';

create domain public.movement_profile_training_preference_list as jsonb;
comment on domain public.movement_profile_training_preference_list is
  'A JSON array of distinct movement_profile_training_preference values, at least one.';
create domain public.movement_profile_goal_list as jsonb;
comment on domain public.movement_profile_goal_list is
  'A JSON array of distinct movement_profile_goal values, at least one.';

-- Each option list: its domain, the column (named in errors) and the enum of its values.
create function movement_profiles_internal.refresh_option_list_checks()
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
        ('public.movement_profile_training_preference_list'::regtype, 'training_preferences',
         'public.movement_profile_training_preference'::regtype),
        ('public.movement_profile_goal_list'::regtype, 'goals',
         'public.movement_profile_goal'::regtype)
    ) as lists (domain_type, column_name, enum_type)
  loop
    execute pg_catalog.format(
      'alter domain %1$s drop constraint if exists %2$I', option_list.domain_type,
      option_list.column_name || '_check'
    );
    execute pg_catalog.format(
      'alter domain %1$s add constraint %2$I check ((%3$s) or '
        'movement_profiles_internal.assert_option_array(%4$L, value, '
        'pg_catalog.enum_range(null::%5$s)::text[]))',
      option_list.domain_type,
      option_list.column_name || '_check',
      movement_profiles_internal.option_list_fast_check_sql(
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
comment on function movement_profiles_internal.refresh_option_list_checks() is
  'Rebuilds the CHECKs of the domains movement_profile_training_preference_list and '
  'movement_profile_goal_list from their enums. Call it in the migration after one that adds an '
  'allowed value.';

-- Migrations only: no API role ever builds or rebuilds a constraint.
revoke all on function movement_profiles_internal.option_list_fast_check_sql(text, text[])
  from public;
revoke all on function movement_profiles_internal.refresh_option_list_checks() from public;

select movement_profiles_internal.refresh_option_list_checks();
