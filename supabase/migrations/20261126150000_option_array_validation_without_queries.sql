-- The CHECKs on movement_profiles are most of what validation costs a write (`make bench`, item 2:
-- +70 to +100 µs per row, mostly in these PL/pgSQL calls). Walking the array by position instead
-- of through `jsonb_array_elements` queries, and building the list of allowed values only when
-- there is an error to report, halves the function's own time. Same rules, same order of checks,
-- same messages: the SDK's differential test holds the two to each other.

create or replace function private.assert_option_array(
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
    for position in 0 .. entry_count - 1 loop
      if pg_catalog.jsonb_typeof(value -> position) <> 'string' then
        problem := ' must be a JSON array of strings';
        exit;
      end if;
    end loop;
    if problem is null and entry_count = 0 then
      problem := ' must contain at least one value';
    end if;
    if problem is null then
      for position in 0 .. entry_count - 1 loop
        entry := value ->> position;
        if not (entry = any (allowed_values)) then
          -- Quoted as JSON and cut short: the value is user input and may be huge or unprintable.
          problem := ' contains an invalid value: ' || private.quote_for_message(entry);
          exit;
        end if;
        if entry = any (seen) then
          problem := ' contains a duplicate value: ' || private.quote_for_message(entry);
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
