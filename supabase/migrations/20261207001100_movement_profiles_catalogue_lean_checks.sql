-- The CHECKs' fast paths with fewer operators. PostgreSQL builds a CHECK's expression anew for
-- every statement that writes the column, and each function or operator in it costs a permission
-- check and a lookup then, evaluated or not. The fast paths counted distinct entries with three
-- operators per allowed value ((value ? 'a')::integer + ...), and custom_fields' repeated that,
-- with a `->` more, for each value of each field: about 180,000 instructions per update of
-- custom_fields with three fields of five or six values, before a single value was looked at.
--
-- Now the number of operators does not grow with the number of values. For a built-in field: a
-- JSON array, of a length in range (read from its header first, so an oversized array goes no
-- further), contained in the allowed values; then no value twice, counted as: the array's length
-- plus the number of allowed values it does not hold equals the number of allowed values. For
-- custom_fields: a JSON object contained in the catalogue's object of fields and values (which
-- refuses an unknown field, a value not allowed, anything that is not an array of strings), every
-- required field present and not empty, and the same count for each field present.
--
-- The values an array holds are read as a text[] from its JSON text (brackets to braces, quotes
-- dropped): only once containment has held, so every entry is a name of [a-z0-9_], which JSON
-- writes unescaped and an array literal reads as it is. CASE keeps that order.

-- The fast path's test that `value_expression` (an array of allowed names) holds no name twice.
create function movement_profiles_internal.no_repeated_value_sql(
  value_expression text, allowed_values text[]
)
returns text
language sql
immutable
set search_path = ''
as $$
  select pg_catalog.format(
    'pg_catalog.jsonb_array_length(%1$s) operator(pg_catalog.+) '
      'pg_catalog.jsonb_array_length(%2$L::jsonb operator(pg_catalog.-) '
      'pg_catalog.translate(%1$s::text, %3$L, %4$L)::text[]) operator(pg_catalog.=) %5$s',
    value_expression,
    pg_catalog.to_jsonb(allowed_values)::text,
    '[]"',
    '{}',
    pg_catalog.cardinality(allowed_values)
  )
$$;
comment on function movement_profiles_internal.no_repeated_value_sql(text, text[]) is
  'SQL true when value_expression, a JSON array of allowed values (containment tested first), '
  'holds none twice: its length plus the number of allowed values it lacks is their number.';
revoke all on function movement_profiles_internal.no_repeated_value_sql(text, text[]) from public;

create or replace function movement_profiles_internal.option_list_check_sql(
  value_expression text, allowed_values text[], minimum integer
)
returns text
language sql
immutable
set search_path = ''
as $$
  select pg_catalog.format(
    'case when pg_catalog.jsonb_typeof(%1$s) operator(pg_catalog.<>) %2$L then false '
      'when pg_catalog.jsonb_array_length(%1$s) not between %3$s and %4$s then false '
      'when not (%1$s operator(pg_catalog.<@) %5$L::jsonb) then false '
      'else %6$s end',
    value_expression,
    'array',
    minimum,
    pg_catalog.cardinality(allowed_values),
    pg_catalog.to_jsonb(allowed_values)::text,
    movement_profiles_internal.no_repeated_value_sql(value_expression, allowed_values)
  )
$$;

create or replace function movement_profiles_internal.custom_fields_check_sql(custom jsonb)
returns text
language sql
immutable
set search_path = ''
as $$
  select pg_catalog.format(
    'case when pg_catalog.jsonb_typeof(value) operator(pg_catalog.<>) %1$L then false '
      'when not (value operator(pg_catalog.<@) %2$L::jsonb) then false '
      'else %3$s end',
    'object',
    coalesce(
      (
        select pg_catalog.jsonb_object_agg(field ->> 'name', field -> 'values')
        from pg_catalog.jsonb_array_elements(custom) as f (field)
      ),
      '{}'
    )::text,
    coalesce(
      (
        select pg_catalog.string_agg(
          pg_catalog.format(
            case when (field ->> 'required')::boolean
              then '((value operator(pg_catalog.?) %1$L) and '
                '(value operator(pg_catalog.->) %1$L) operator(pg_catalog.<>) %3$L::jsonb and (%2$s))'
              else '((not (value operator(pg_catalog.?) %1$L)) or (%2$s))'
            end,
            field ->> 'name',
            movement_profiles_internal.no_repeated_value_sql(
              pg_catalog.format('(value operator(pg_catalog.->) %L)', field ->> 'name'),
              array(select pg_catalog.jsonb_array_elements_text(field -> 'values'))
            ),
            '[]'
          ),
          ' and ' order by position
        )
        from pg_catalog.jsonb_array_elements(custom) with ordinality as f (field, position)
      ),
      'true'
    )
  )
$$;

select movement_profiles_internal.refresh_option_list_checks(true);
