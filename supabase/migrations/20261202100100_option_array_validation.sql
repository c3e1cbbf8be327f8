-- A plain CHECK only says "violates check constraint". This function raises the same SQLSTATE
-- (23514, which PostgREST answers with 400) but says which field failed and why, lists the allowed
-- values in `details`, and puts the column name alone in `hint` so a frontend can place the message
-- next to the right input. It lives in a schema PostgREST does not expose.

create schema if not exists private;
comment on schema private is 'Helpers of movement-profiles that the API does not expose.';
-- The CHECKs and the trigger call these helpers as whichever role writes the row.
revoke all on schema private from public;
grant usage on schema private to authenticated, service_role;

create function private.quote_for_message(value text)
returns text
language sql
immutable
set search_path = ''
as $$
  select pg_catalog.to_jsonb(
    case when pg_catalog.length(value) > 64 then pg_catalog.left(value, 64) || '…' else value end
  )::text
$$;
comment on function private.quote_for_message(text) is
  'User input as a JSON string of at most 64 characters, safe to echo in an error message.';

-- Every write pays for this function, so it walks the array by position (no set-returning calls,
-- no queries) and builds the list of allowed values only when there is an error to report. The
-- order of the checks decides which message a value that breaks several rules gets; the SDK's
-- validator follows the same order, and a differential test holds the two to each other.
create function private.assert_option_array(column_name text, value jsonb, allowed_values text[])
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
comment on function private.assert_option_array(text, jsonb, text[]) is
  'True when value is a non-empty JSON array of distinct strings from allowed_values; otherwise '
  'raises 23514 with the field in message and hint and the allowed values in detail.';
