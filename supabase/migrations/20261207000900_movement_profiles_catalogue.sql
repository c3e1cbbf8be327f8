-- The catalogue: the multi-select fields of a movement profile and their allowed values, as data.
--
-- An admin adds a field or a value, relabels one, retires one, with one SQL call (or the API with
-- the service key); no migration, no client release. The database still validates every write:
-- each change rebuilds the CHECKs of the profile's domains from the catalogue, as constants, so a
-- write pays what it paid when the values were an enum (built-in jsonb operators, no lookup).
--
-- training_preferences and goals are built-in fields: they keep their columns, domains, rules and
-- messages, and their values now come from here (the enums that held them are dropped: one source
-- of truth). Every later field lives in one column, custom_fields, a JSON object of field name to
-- JSON array of values, with a domain of its own: no ALTER TABLE per field, and one GIN index
-- answers a filter on any of them.
--
-- Concurrency: changes are serialized by a lock on catalogue_fields. A change that narrows what is
-- allowed (retiring a value, removing a field, making a field required) first locks the profiles
-- table against writes, so the profiles it counts and updates are all there are, and then rebuilds
-- the CHECKs with validation; a writer that waited sees the new CHECKs. A change that only widens
-- (adding) rebuilds them without rescanning the table: every row the old CHECKs allowed, the new
-- ones allow.

create table movement_profiles_internal.catalogue_fields (
  name text primary key
    constraint catalogue_fields_name_check check (name ~ '^[a-z][a-z0-9_]{0,47}$'),
  label text not null
    constraint catalogue_fields_label_check check (pg_catalog.length(label) between 1 and 200),
  description text not null default ''
    constraint catalogue_fields_description_check check (pg_catalog.length(description) <= 2000),
  required boolean not null default false,
  built_in boolean not null default false,
  position integer not null
);
comment on table movement_profiles_internal.catalogue_fields is
  'The multi-select fields of a movement profile, in display order. Built-in fields are columns '
  'of movement_profiles; the others are keys of movement_profiles.custom_fields. Change it with '
  'the movement_profile_* catalogue functions, which keep the CHECKs in step.';

create table movement_profiles_internal.catalogue_values (
  field text not null
    references movement_profiles_internal.catalogue_fields (name) on delete cascade,
  value text not null
    constraint catalogue_values_value_check check (value ~ '^[a-z][a-z0-9_]{0,62}$'),
  label text not null
    constraint catalogue_values_label_check check (pg_catalog.length(label) between 1 and 200),
  description text not null default ''
    constraint catalogue_values_description_check check (pg_catalog.length(description) <= 2000),
  position integer not null,
  -- A retired value is no longer allowed; its row stays, so it can be reinstated and read back.
  retired_at timestamptz,
  primary key (field, value)
);
comment on table movement_profiles_internal.catalogue_values is
  'The values of each catalogue field, in display order; retired values are kept but not allowed.';

create table movement_profiles_internal.catalogue_changes (
  id bigint generated always as identity primary key,
  changed_at timestamptz not null default pg_catalog.clock_timestamp(),
  changed_by text not null,
  action text not null,
  field text not null,
  value text,
  before jsonb,
  after jsonb,
  profiles_changed bigint not null default 0
);
comment on table movement_profiles_internal.catalogue_changes is
  'Every change of the catalogue: who (the token''s role and sub, or the database user; with the '
  'X-Movement-Profiles-Actor header when one was sent), when, what, and how many profiles it '
  'changed.';

alter table movement_profiles_internal.catalogue_fields enable row level security;
alter table movement_profiles_internal.catalogue_values enable row level security;
alter table movement_profiles_internal.catalogue_changes enable row level security;

create policy "Anyone can read the catalogue's fields"
  on movement_profiles_internal.catalogue_fields for select
  to anon, authenticated, service_role
  using (true);
create policy "Anyone can read the catalogue's values"
  on movement_profiles_internal.catalogue_values for select
  to anon, authenticated, service_role
  using (true);
create policy "The service role reads the catalogue's history"
  on movement_profiles_internal.catalogue_changes for select
  to service_role
  using (true);

revoke all on table movement_profiles_internal.catalogue_fields from public, anon, authenticated, service_role;
revoke all on table movement_profiles_internal.catalogue_values from public, anon, authenticated, service_role;
revoke all on table movement_profiles_internal.catalogue_changes from public, anon, authenticated, service_role;
grant select on table movement_profiles_internal.catalogue_fields to anon, authenticated, service_role;
grant select on table movement_profiles_internal.catalogue_values to anon, authenticated, service_role;
grant select on table movement_profiles_internal.catalogue_changes to service_role;

insert into movement_profiles_internal.catalogue_fields
  (name, label, description, required, built_in, position)
values
  ('training_preferences', 'Training preferences', 'How you like to train.', true, true, 1),
  ('goals', 'Goals', 'What you train for.', true, true, 2);

insert into movement_profiles_internal.catalogue_values (field, value, label, position)
select 'training_preferences', value::text, label, position
from rows from (
  pg_catalog.unnest(pg_catalog.enum_range(null::public.movement_profile_training_preference)),
  pg_catalog.unnest(array['Strength training', 'Running', 'Yoga', 'CrossFit', 'Sports', 'Mixed'])
) with ordinality as shipped (value, label, position)
union all
select 'goals', value::text, label, position
from rows from (
  pg_catalog.unnest(pg_catalog.enum_range(null::public.movement_profile_goal)),
  pg_catalog.unnest(array['Build muscle', 'Lose fat', 'Improve endurance', 'Rehab', 'General health'])
) with ordinality as shipped (value, label, position);

-- The column for every field added later. The domain carries the default too: PostgREST before
-- 12.2.4 takes a domain-typed column's default from its domain (Prefer: missing=default).
create domain public.movement_profile_custom_fields as jsonb default '{}';
comment on domain public.movement_profile_custom_fields is
  'A JSON object: each key a field of the catalogue that is not built in, each value a JSON array '
  'of distinct allowed values (a required field present with at least one).';

alter table public.movement_profiles
  add column custom_fields public.movement_profile_custom_fields not null default '{}';
comment on column public.movement_profiles.custom_fields is
  'The fields added to the catalogue after release: {"field": ["value", ...]}; see '
  'movement_profile_catalogue().';
create index movement_profiles_custom_fields_idx
  on public.movement_profiles using gin (custom_fields jsonb_path_ops);
grant insert (custom_fields), update (custom_fields) on table public.movement_profiles to authenticated;

-- The active values of a field, in display order.
create function movement_profiles_internal.catalogue_allowed_values(field_name text)
returns text[]
language sql
stable
set search_path = ''
as $$
  select coalesce(pg_catalog.array_agg(value order by position), '{}')
  from movement_profiles_internal.catalogue_values
  where field = field_name and retired_at is null
$$;

-- An option list's fast CHECK as SQL: built-in jsonb operators and constants only. True when
-- value_expression is a JSON array of at least `minimum` distinct strings from allowed_values;
-- false sends the value to the assert function, which names what is wrong.
create function movement_profiles_internal.option_list_check_sql(
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
      'else %1$s operator(pg_catalog.<@) %5$L::jsonb '
      'and pg_catalog.jsonb_array_length(%1$s) operator(pg_catalog.=) %6$s end',
    value_expression,
    'array',
    minimum,
    pg_catalog.cardinality(allowed_values),
    pg_catalog.to_jsonb(allowed_values)::text,
    coalesce(
      (
        select pg_catalog.string_agg(
          pg_catalog.format('(%s operator(pg_catalog.?) %L)::integer', value_expression, allowed_value),
          ' + ' order by position
        )
        from pg_catalog.unnest(allowed_values) with ordinality as allowed (allowed_value, position)
      ),
      '0'
    )
  )
$$;

-- custom_fields' fast CHECK as SQL, from the catalogue's custom fields in display order
-- ([{"name", "required", "values"}, ...]): a JSON object with no other keys, each field absent
-- (unless required) or an option list of its values. Built-in operators and constants only.
create function movement_profiles_internal.custom_fields_check_sql(custom jsonb)
returns text
language sql
immutable
set search_path = ''
as $$
  select pg_catalog.format(
    'case when pg_catalog.jsonb_typeof(value) operator(pg_catalog.<>) %1$L then false '
      'when (value operator(pg_catalog.-) %2$L::text[]) operator(pg_catalog.<>) %3$L::jsonb then false '
      'else %4$s end',
    'object',
    array(select field ->> 'name' from pg_catalog.jsonb_array_elements(custom) as f (field)),
    '{}',
    coalesce(
      pg_catalog.string_agg(
        pg_catalog.format(
          case when (field ->> 'required')::boolean
            then '((value operator(pg_catalog.?) %1$L) and (%2$s))'
            else '((not (value operator(pg_catalog.?) %1$L)) or (%2$s))'
          end,
          field ->> 'name',
          movement_profiles_internal.option_list_check_sql(
            pg_catalog.format('(value operator(pg_catalog.->) %L)', field ->> 'name'),
            array(select pg_catalog.jsonb_array_elements_text(field -> 'values')),
            case when (field ->> 'required')::boolean then 1 else 0 end
          )
        ),
        ' and ' order by position
      ),
      'true'
    )
  )
  from pg_catalog.jsonb_array_elements(custom) with ordinality as f (field, position)
$$;

-- The slow path of custom_fields' CHECK: raises 23514 naming the field, as assert_option_array
-- does for a built-in one. `fields` is the catalogue's custom fields in display order, as the
-- CHECK holds them: [{"name": ..., "required": ..., "values": [...]}, ...].
create function movement_profiles_internal.assert_custom_fields(value jsonb, fields jsonb)
returns boolean
language plpgsql
immutable
set search_path = ''
as $$
declare
  field_names text[] := array(
    select f.field ->> 'name'
    from pg_catalog.jsonb_array_elements(fields) with ordinality as f (field, position)
    order by f.position
  );
  fields_detail text := 'Fields: ' || coalesce(nullif(pg_catalog.array_to_string(field_names, ', '), ''), 'none');
  entry jsonb;
  field_name text;
  key text;
begin
  if value is null or pg_catalog.jsonb_typeof(value) <> 'object' then
    raise exception using
      errcode = 'check_violation',
      message = 'custom_fields must be a JSON object',
      detail = fields_detail,
      hint = 'custom_fields';
  end if;
  for key in select pg_catalog.jsonb_object_keys(value) loop
    if not key = any (field_names) then
      raise exception using
        errcode = 'check_violation',
        message = 'custom_fields contains an unknown field: '
          || movement_profiles_internal.quote_for_message(key),
        detail = fields_detail,
        hint = 'custom_fields';
    end if;
  end loop;
  for entry in
    select f.field from pg_catalog.jsonb_array_elements(fields) with ordinality as f (field, position)
    order by f.position
  loop
    field_name := entry ->> 'name';
    if value ? field_name then
      -- An optional field may be present and empty; everything else is an option list's rules.
      if (entry ->> 'required')::boolean or value -> field_name <> '[]'::jsonb then
        perform movement_profiles_internal.assert_option_array(
          field_name, value -> field_name,
          array(select pg_catalog.jsonb_array_elements_text(entry -> 'values'))
        );
      end if;
    elsif (entry ->> 'required')::boolean then
      raise exception using
        errcode = 'check_violation',
        message = field_name || ' must contain at least one value',
        detail = 'Allowed values: ' || pg_catalog.array_to_string(
          array(select pg_catalog.jsonb_array_elements_text(entry -> 'values')), ', '
        ),
        hint = field_name;
    end if;
  end loop;
  return true;
end
$$;
comment on function movement_profiles_internal.assert_custom_fields(jsonb, jsonb) is
  'True when value is a JSON object of the given custom fields, each a list of their allowed '
  'values (required ones present, not empty); otherwise raises 23514 naming the field in hint.';

-- Rebuilds every domain CHECK of the profile from the catalogue. `validate`: recheck the stored
-- rows too (after a narrowing change); without it the new CHECKs apply to writes from now on,
-- which is enough when they allow everything the old ones did.
create or replace function movement_profiles_internal.refresh_option_list_checks(validate boolean default true)
returns void
language plpgsql
set search_path = ''
as $$
declare
  built_in_field record;
  allowed text[];
  custom jsonb;
  not_valid text := case when validate then '' else ' not valid' end;
begin
  for built_in_field in
    select name,
           case name
             when 'training_preferences' then 'public.movement_profile_training_preference_list'::regtype
             when 'goals' then 'public.movement_profile_goal_list'::regtype
           end as domain_type
    from movement_profiles_internal.catalogue_fields
    where catalogue_fields.built_in
  loop
    allowed := movement_profiles_internal.catalogue_allowed_values(built_in_field.name);
    execute pg_catalog.format(
      'alter domain %s drop constraint if exists %I', built_in_field.domain_type, built_in_field.name || '_check'
    );
    execute pg_catalog.format(
      'alter domain %1$s add constraint %2$I check ((%3$s) or '
        'movement_profiles_internal.assert_option_array(%4$L, value, %5$L::text[]))%6$s',
      built_in_field.domain_type,
      built_in_field.name || '_check',
      movement_profiles_internal.option_list_check_sql('value', allowed, 1),
      built_in_field.name,
      allowed,
      not_valid
    );
  end loop;

  select coalesce(
           pg_catalog.jsonb_agg(
             pg_catalog.jsonb_build_object(
               'name', name, 'required', required,
               'values', movement_profiles_internal.catalogue_allowed_values(name)
             )
             order by position
           ),
           '[]'
         )
  into custom
  from movement_profiles_internal.catalogue_fields
  where not catalogue_fields.built_in;
  execute 'alter domain public.movement_profile_custom_fields drop constraint if exists custom_fields_check';
  execute pg_catalog.format(
    'alter domain public.movement_profile_custom_fields add constraint custom_fields_check check '
      '((%1$s) or movement_profiles_internal.assert_custom_fields(value, %2$L::jsonb))%3$s',
    movement_profiles_internal.custom_fields_check_sql(custom),
    custom,
    not_valid
  );
end
$$;
comment on function movement_profiles_internal.refresh_option_list_checks(boolean) is
  'Rebuilds the CHECKs of the domains movement_profile_training_preference_list, '
  'movement_profile_goal_list and movement_profile_custom_fields from the catalogue; the '
  'catalogue functions call it after each change.';
revoke all on function movement_profiles_internal.refresh_option_list_checks(boolean) from public;

-- The old signature built the CHECKs from the enums, which go now.
drop function movement_profiles_internal.refresh_option_list_checks();
drop function movement_profiles_internal.option_list_fast_check_sql(text, text[]);
select movement_profiles_internal.refresh_option_list_checks(true);

-- options() read the enums: it reads the catalogue now, every field, the same shape.
create or replace function public.movement_profile_options()
returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce(
    pg_catalog.jsonb_object_agg(
      name, pg_catalog.to_jsonb(movement_profiles_internal.catalogue_allowed_values(name))
      order by position
    ),
    '{}'
  )
  from movement_profiles_internal.catalogue_fields
$$;
comment on function public.movement_profile_options() is
  'The allowed values of every field of the catalogue, {"field": ["value", ...]}, in display order.';

drop type public.movement_profile_training_preference;
drop type public.movement_profile_goal;

-- A field as movement_profile_catalogue() lists it.
create function movement_profiles_internal.catalogue_field_entry(field_name text)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select pg_catalog.jsonb_build_object(
    'name', field.name,
    'label', field.label,
    'description', field.description,
    'required', field.required,
    'built_in', field.built_in,
    'values', coalesce(
      (
        select pg_catalog.jsonb_agg(
          pg_catalog.jsonb_build_object(
            'value', value.value, 'label', value.label, 'description', value.description
          )
          order by value.position
        )
        from movement_profiles_internal.catalogue_values as value
        where value.field = field.name and value.retired_at is null
      ),
      '[]'
    )
  )
  from movement_profiles_internal.catalogue_fields as field
  where field.name = field_name
$$;

create function public.movement_profile_catalogue()
returns jsonb
language sql
stable
set search_path = ''
as $$
  select pg_catalog.jsonb_build_object(
    'fields',
    coalesce(
      pg_catalog.jsonb_agg(movement_profiles_internal.catalogue_field_entry(name) order by position),
      '[]'
    )
  )
  from movement_profiles_internal.catalogue_fields
$$;
comment on function public.movement_profile_catalogue() is
  'The fields of a movement profile and their allowed values, with labels and descriptions, in '
  'display order: {"fields": [{"name", "label", "description", "required", "built_in", '
  '"values": [{"value", "label", "description"}]}]}.';

-- Who changes the catalogue: through the API, the token's role (and user); in SQL, the database
-- user. An admin tool may name the person in the X-Movement-Profiles-Actor header; it is recorded
-- beside the role, not instead of it (anyone holding the key can send it).
create function movement_profiles_internal.catalogue_actor()
returns text
language sql
stable
set search_path = ''
as $$
  select coalesce(
    nullif(
      coalesce(claims ->> 'role', '')
        || coalesce(':' || (claims ->> 'sub'), '')
        || coalesce(
             ' (' || pg_catalog.left(
               nullif(pg_catalog.current_setting('request.headers', true), '')::jsonb
                 ->> 'x-movement-profiles-actor',
               200
             ) || ')',
             ''
           ),
      ''
    ),
    session_user::text
  )
  from (
    select nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb as claims
  ) as request
$$;

create function movement_profiles_internal.record_catalogue_change(
  action text, field text, value text, before jsonb, after jsonb, profiles_changed bigint
)
returns void
language sql
set search_path = ''
as $$
  insert into movement_profiles_internal.catalogue_changes
    (changed_by, action, field, value, before, after, profiles_changed)
  values
    (movement_profiles_internal.catalogue_actor(), action, field, value, before, after, profiles_changed)
$$;

-- The field named, locked for the change, or 22023.
create function movement_profiles_internal.catalogue_field(field_name text)
returns movement_profiles_internal.catalogue_fields
language plpgsql
set search_path = ''
as $$
declare
  chosen movement_profiles_internal.catalogue_fields;
begin
  select * into chosen from movement_profiles_internal.catalogue_fields where name = field_name;
  if not found then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = 'no field ' || movement_profiles_internal.quote_for_message(field_name)
        || ' in the catalogue',
      hint = 'movement_profile_catalogue() lists the fields.';
  end if;
  return chosen;
end
$$;

-- Changes are serialized; a narrowing one also stops writes to the profiles until it commits.
create function movement_profiles_internal.lock_catalogue(narrowing boolean)
returns void
language plpgsql
set search_path = ''
as $$
begin
  lock table movement_profiles_internal.catalogue_fields in share row exclusive mode;
  if narrowing then
    lock table public.movement_profiles in share row exclusive mode;
  end if;
end
$$;

-- How a field's values are read in a profile: its column, or its key of custom_fields.
create function movement_profiles_internal.field_expression(field movement_profiles_internal.catalogue_fields)
returns text
language sql
immutable
set search_path = ''
as $$
  select case when field.built_in
    then pg_catalog.format('%I', field.name)
    else pg_catalog.format('coalesce(custom_fields operator(pg_catalog.->) %L, %L::jsonb)', field.name, '[]')
  end
$$;

-- The statement that sets a field's values in a profile to `new_values` (an SQL expression).
create function movement_profiles_internal.field_assignment(
  field movement_profiles_internal.catalogue_fields, new_values text
)
returns text
language sql
immutable
set search_path = ''
as $$
  select case when field.built_in
    then pg_catalog.format('%I = %s', field.name, new_values)
    else pg_catalog.format(
      'custom_fields = pg_catalog.jsonb_set(custom_fields, %L::text[], %s)',
      array[field.name], new_values
    )
  end
$$;

create function movement_profiles_internal.count_profiles(condition text)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
  counted bigint;
begin
  execute 'select pg_catalog.count(*) from public.movement_profiles where ' || condition into counted;
  return counted;
end
$$;

create function movement_profiles_internal.update_profiles(assignment text, condition text)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
  changed bigint;
begin
  execute 'update public.movement_profiles set ' || assignment || ' where ' || condition;
  get diagnostics changed = row_count;
  return changed;
end
$$;

create function movement_profiles_internal.profile_count(counted bigint)
returns text
language sql
immutable
set search_path = ''
as $$
  select counted || case when counted = 1 then ' movement profile' else ' movement profiles' end
$$;

create function movement_profiles_internal.check_catalogue_name(kind text, name text, pattern text)
returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
  if name is null or name !~ pattern then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = kind || ' names are lower-case letters, digits and underscores, starting with a '
        || 'letter: ' || coalesce(movement_profiles_internal.quote_for_message(name), 'null'),
      hint = case kind when 'field' then 'At most 48 characters.' else 'At most 63 characters.' end;
  end if;
end
$$;

create function movement_profiles_internal.default_label(name text)
returns text
language sql
immutable
set search_path = ''
as $$
  select pg_catalog.upper(pg_catalog.left(name, 1)) || pg_catalog.replace(pg_catalog.substr(name, 2), '_', ' ')
$$;

-- Inserts or reinstates a value (last in display order unless `at` is given); true when that
-- changed anything.
create function movement_profiles_internal.put_value(
  field_name text, value_name text, value_label text, value_description text, at integer
)
returns boolean
language plpgsql
set search_path = ''
as $$
declare
  existing movement_profiles_internal.catalogue_values;
  next_position integer := coalesce(
    at,
    (select pg_catalog.max(position) + 1 from movement_profiles_internal.catalogue_values where field = field_name),
    1
  );
begin
  perform movement_profiles_internal.check_catalogue_name('value', value_name, '^[a-z][a-z0-9_]{0,62}$');
  select * into existing from movement_profiles_internal.catalogue_values
  where field = field_name and value = value_name;
  if not found then
    insert into movement_profiles_internal.catalogue_values (field, value, label, description, position)
    values (
      field_name, value_name,
      coalesce(value_label, movement_profiles_internal.default_label(value_name)),
      coalesce(value_description, ''), next_position
    );
    return true;
  end if;
  if existing.retired_at is null and at is null then
    raise exception using
      errcode = 'unique_violation',
      message = 'value ' || movement_profiles_internal.quote_for_message(value_name)
        || ' already exists in ' || field_name,
      hint = field_name;
  end if;
  update movement_profiles_internal.catalogue_values
  set retired_at = null,
      label = coalesce(value_label, existing.label),
      description = coalesce(value_description, existing.description),
      position = case when existing.retired_at is null then coalesce(at, existing.position) else next_position end
  where field = field_name and value = value_name
    and (retired_at, label, description, position) is distinct from (
      null::timestamptz, coalesce(value_label, existing.label),
      coalesce(value_description, existing.description),
      case when existing.retired_at is null then coalesce(at, existing.position) else next_position end
    );
  return found;
end
$$;

create function public.movement_profile_add_field(
  field text,
  label text,
  description text default '',
  required boolean default false,
  allowed_values text[] default '{}'
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  added_value text;
  profiles bigint;
begin
  perform movement_profiles_internal.check_catalogue_name('field', field, '^[a-z][a-z0-9_]{0,47}$');
  perform movement_profiles_internal.lock_catalogue(narrowing => coalesce(required, false));
  if exists (select from movement_profiles_internal.catalogue_fields where name = field)
     or exists (
       select from pg_catalog.pg_attribute
       where attrelid = 'public.movement_profiles'::regclass and attname = field and attnum > 0
     ) then
    raise exception using
      errcode = 'unique_violation',
      message = 'field ' || movement_profiles_internal.quote_for_message(field) || ' already exists',
      hint = field;
  end if;
  if required then
    profiles := movement_profiles_internal.count_profiles('true');
    if profiles > 0 then
      raise exception using
        errcode = 'invalid_parameter_value',
        message = 'a new field cannot be required: '
          || movement_profiles_internal.profile_count(profiles) || ' have no value for it',
        hint = 'Add it as optional; set its values in the profiles first.';
    end if;
  end if;
  insert into movement_profiles_internal.catalogue_fields (name, label, description, required, position)
  values (
    field, label, coalesce(description, ''), coalesce(required, false),
    (select coalesce(pg_catalog.max(position), 0) + 1 from movement_profiles_internal.catalogue_fields)
  );
  foreach added_value in array coalesce(allowed_values, '{}') loop
    perform movement_profiles_internal.put_value(field, added_value, null, null, null);
  end loop;
  perform movement_profiles_internal.refresh_option_list_checks(validate => coalesce(required, false));
  perform movement_profiles_internal.record_catalogue_change(
    'add_field', field, null, null, movement_profiles_internal.catalogue_field_entry(field), 0
  );
  return movement_profiles_internal.catalogue_field_entry(field);
end
$$;
comment on function public.movement_profile_add_field(text, text, text, boolean, text[]) is
  'Adds a field to the catalogue (stored in movement_profiles.custom_fields), with its values in '
  'display order. Service role only.';

create function public.movement_profile_add_value(
  field text, value text, label text default null, description text default ''
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  before jsonb;
begin
  perform movement_profiles_internal.lock_catalogue(narrowing => false);
  perform movement_profiles_internal.catalogue_field(field);
  before := movement_profiles_internal.catalogue_field_entry(field);
  perform movement_profiles_internal.put_value(field, value, label, description, null);
  perform movement_profiles_internal.refresh_option_list_checks(validate => false);
  perform movement_profiles_internal.record_catalogue_change(
    'add_value', field, value, before, movement_profiles_internal.catalogue_field_entry(field), 0
  );
  return movement_profiles_internal.catalogue_field_entry(field);
end
$$;
comment on function public.movement_profile_add_value(text, text, text, text) is
  'Adds a value to a field (last in display order), or reinstates a retired one. Service role only.';

create function public.movement_profile_relabel(
  field text, label text, value text default null, description text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  before jsonb;
begin
  perform movement_profiles_internal.lock_catalogue(narrowing => false);
  perform movement_profiles_internal.catalogue_field(field);
  before := movement_profiles_internal.catalogue_field_entry(field);
  if movement_profile_relabel.value is null then
    update movement_profiles_internal.catalogue_fields as f
    set label = coalesce(movement_profile_relabel.label, f.label),
        description = coalesce(movement_profile_relabel.description, f.description)
    where f.name = movement_profile_relabel.field;
  else
    update movement_profiles_internal.catalogue_values as v
    set label = coalesce(movement_profile_relabel.label, v.label),
        description = coalesce(movement_profile_relabel.description, v.description)
    where v.field = movement_profile_relabel.field and v.value = movement_profile_relabel.value
      and v.retired_at is null;
    if not found then
      raise exception using
        errcode = 'invalid_parameter_value',
        message = 'no value ' || movement_profiles_internal.quote_for_message(movement_profile_relabel.value)
          || ' in ' || movement_profile_relabel.field,
        hint = movement_profile_relabel.field;
    end if;
  end if;
  perform movement_profiles_internal.record_catalogue_change(
    'relabel', field, value, before, movement_profiles_internal.catalogue_field_entry(field), 0
  );
  return movement_profiles_internal.catalogue_field_entry(field);
end
$$;
comment on function public.movement_profile_relabel(text, text, text, text) is
  'Changes the label (and description, when given) of a field, or of one of its values when value '
  'is given. Service role only.';

-- Takes `value` out of every profile holding it: removed, or replaced by `replacement` (kept once,
-- where the profile already holds it). Refuses when that is not what the admin asked for, or would
-- leave a required field empty. The number of profiles changed.
create function movement_profiles_internal.take_value_out(
  field movement_profiles_internal.catalogue_fields, value text, profiles text, replacement text
)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
  current_values text := movement_profiles_internal.field_expression(field);
  holds text := pg_catalog.format('%s operator(pg_catalog.@>) %L::jsonb', current_values, pg_catalog.jsonb_build_array(value));
  held bigint := movement_profiles_internal.count_profiles(holds);
  held_alone bigint;
begin
  if held = 0 then
    return 0;
  end if;
  if profiles = 'refuse' then
    raise exception using
      errcode = 'foreign_key_violation',
      message = movement_profiles_internal.quote_for_message(value) || ' is held by '
        || movement_profiles_internal.profile_count(held),
      detail = 'Say what to do with them: profiles => ''remove'' takes the value out of them, '
        || 'profiles => ''replace'' with a replacement puts another in its place.',
      hint = field.name;
  end if;
  if profiles = 'remove' then
    if field.required then
      held_alone := movement_profiles_internal.count_profiles(
        pg_catalog.format('%s operator(pg_catalog.=) %L::jsonb', current_values, pg_catalog.jsonb_build_array(value))
      );
      if held_alone > 0 then
        raise exception using
          errcode = 'foreign_key_violation',
          message = movement_profiles_internal.quote_for_message(value) || ' is the only value of '
            || field.name || ' in ' || movement_profiles_internal.profile_count(held_alone),
          detail = field.name || ' is required: replace the value instead (profiles => ''replace'').',
          hint = field.name;
      end if;
    end if;
    return movement_profiles_internal.update_profiles(
      movement_profiles_internal.field_assignment(
        field, pg_catalog.format('%s operator(pg_catalog.-) %L', current_values, value)
      ),
      holds
    );
  end if;
  if profiles = 'replace' then
    if replacement is null or replacement = value
       or not replacement = any (movement_profiles_internal.catalogue_allowed_values(field.name)) then
      raise exception using
        errcode = 'invalid_parameter_value',
        message = 'the replacement must be another active value of ' || field.name || ': '
          || coalesce(movement_profiles_internal.quote_for_message(replacement), 'none given'),
        hint = field.name;
    end if;
    return movement_profiles_internal.update_profiles(
      movement_profiles_internal.field_assignment(
        field,
        pg_catalog.format(
          'case when %1$s operator(pg_catalog.@>) %2$L::jsonb then %1$s operator(pg_catalog.-) %3$L '
            'else (%1$s operator(pg_catalog.-) %3$L) operator(pg_catalog.||) %2$L::jsonb end',
          current_values, pg_catalog.jsonb_build_array(replacement), value
        )
      ),
      holds
    );
  end if;
  raise exception using
    errcode = 'invalid_parameter_value',
    message = 'profiles must be refuse, remove or replace: '
      || coalesce(movement_profiles_internal.quote_for_message(profiles), 'null');
end
$$;

create function movement_profiles_internal.retire_value(
  field_name text, value_name text, profiles text, replacement text
)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
  target movement_profiles_internal.catalogue_fields := movement_profiles_internal.catalogue_field(field_name);
  changed bigint;
begin
  if not value_name = any (movement_profiles_internal.catalogue_allowed_values(field_name)) then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = 'no active value ' || coalesce(movement_profiles_internal.quote_for_message(value_name), 'null')
        || ' in ' || field_name,
      hint = field_name;
  end if;
  if target.required and pg_catalog.cardinality(movement_profiles_internal.catalogue_allowed_values(field_name)) = 1 then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = value_name || ' is the last value of ' || field_name || ', which is required',
      hint = field_name;
  end if;
  changed := movement_profiles_internal.take_value_out(target, value_name, profiles, replacement);
  update movement_profiles_internal.catalogue_values
  set retired_at = pg_catalog.now()
  where field = field_name and value = value_name;
  return changed;
end
$$;

create function public.movement_profile_retire_value(
  field text, value text, profiles text default 'refuse', replacement text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  before jsonb;
  changed bigint;
begin
  perform movement_profiles_internal.lock_catalogue(narrowing => true);
  perform movement_profiles_internal.catalogue_field(field);
  before := movement_profiles_internal.catalogue_field_entry(field);
  changed := movement_profiles_internal.retire_value(field, value, profiles, replacement);
  perform movement_profiles_internal.refresh_option_list_checks(validate => true);
  perform movement_profiles_internal.record_catalogue_change(
    'retire_value', field, value, before,
    movement_profiles_internal.catalogue_field_entry(field)
      || pg_catalog.jsonb_build_object('profiles', profiles, 'replacement', replacement),
    changed
  );
  return pg_catalog.jsonb_build_object('field', field, 'value', value, 'profiles_changed', changed);
end
$$;
comment on function public.movement_profile_retire_value(text, text, text, text) is
  'Retires a value: no longer allowed, no longer listed. Refused while profiles hold it unless '
  'profiles is ''remove'' (taken out of them) or ''replace'' (replacement put in its place), all '
  'in this one transaction. Service role only.';

create function movement_profiles_internal.remove_field(field_name text, profiles text)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
  target movement_profiles_internal.catalogue_fields := movement_profiles_internal.catalogue_field(field_name);
  holds text := pg_catalog.format('custom_fields operator(pg_catalog.?) %L', field_name);
  -- A profile holding the field as an empty list holds no value of it.
  holds_values text := holds || pg_catalog.format(
    ' and custom_fields operator(pg_catalog.->) %L operator(pg_catalog.<>) %L::jsonb', field_name, '[]'
  );
  held bigint;
  changed bigint := 0;
begin
  if target.built_in then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = field_name || ' is a column of movement_profiles and cannot be removed',
      hint = field_name;
  end if;
  held := movement_profiles_internal.count_profiles(holds_values);
  if movement_profiles_internal.count_profiles(holds) > 0 then
    if profiles = 'remove' then
      changed := movement_profiles_internal.update_profiles(
        pg_catalog.format('custom_fields = custom_fields operator(pg_catalog.-) %L', field_name), holds
      );
    elsif profiles = 'refuse' and held = 0 then
      -- Only empty lists: nothing is lost, so they go without being asked.
      changed := movement_profiles_internal.update_profiles(
        pg_catalog.format('custom_fields = custom_fields operator(pg_catalog.-) %L', field_name), holds
      );
    elsif profiles = 'refuse' then
      raise exception using
        errcode = 'foreign_key_violation',
        message = field_name || ' is held by ' || movement_profiles_internal.profile_count(held),
        detail = 'Remove it anyway with profiles => ''remove'', which takes it out of them.',
        hint = field_name;
    else
      raise exception using
        errcode = 'invalid_parameter_value',
        message = 'profiles must be refuse or remove: '
          || coalesce(movement_profiles_internal.quote_for_message(profiles), 'null');
    end if;
  end if;
  delete from movement_profiles_internal.catalogue_fields where name = field_name;
  return changed;
end
$$;

create function public.movement_profile_remove_field(field text, profiles text default 'refuse')
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  before jsonb;
  changed bigint;
begin
  perform movement_profiles_internal.lock_catalogue(narrowing => true);
  perform movement_profiles_internal.catalogue_field(field);
  before := movement_profiles_internal.catalogue_field_entry(field);
  changed := movement_profiles_internal.remove_field(field, profiles);
  perform movement_profiles_internal.refresh_option_list_checks(validate => true);
  perform movement_profiles_internal.record_catalogue_change(
    'remove_field', field, null, before, pg_catalog.jsonb_build_object('profiles', profiles), changed
  );
  return pg_catalog.jsonb_build_object('field', field, 'profiles_changed', changed);
end
$$;
comment on function public.movement_profile_remove_field(text, text) is
  'Removes a field that is not built in. Refused while profiles hold values for it unless '
  'profiles is ''remove''. Service role only.';

-- Brings this catalogue to `catalogue` (the shape of movement_profile_catalogue()): what another
-- environment's export applies. Fields and values are added, relabelled, reordered, and those not
-- listed retired or removed, refused while profiles hold them unless profiles => 'remove'.
create function public.movement_profile_apply_catalogue(catalogue jsonb, profiles text default 'refuse')
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  wanted record;
  wanted_value record;
  existing movement_profiles_internal.catalogue_fields;
  stale record;
  changes bigint := 0;
  changed bigint;
  narrowed boolean := false;
  before jsonb;
begin
  if pg_catalog.jsonb_typeof(catalogue -> 'fields') is distinct from 'array' then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = 'catalogue must be {"fields": [...]}, as movement_profile_catalogue() returns it';
  end if;
  if profiles not in ('refuse', 'remove') then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = 'profiles must be refuse or remove: '
        || coalesce(movement_profiles_internal.quote_for_message(profiles), 'null');
  end if;
  perform movement_profiles_internal.lock_catalogue(narrowing => true);

  for wanted in
    select entry ->> 'name' as name, entry ->> 'label' as label,
           coalesce(entry ->> 'description', '') as description,
           coalesce((entry ->> 'required')::boolean, false) as required,
           coalesce(entry -> 'values', '[]') as allowed, position::integer
    from pg_catalog.jsonb_array_elements(catalogue -> 'fields') with ordinality as f (entry, position)
  loop
    before := movement_profiles_internal.catalogue_field_entry(wanted.name);
    select * into existing from movement_profiles_internal.catalogue_fields where name = wanted.name;
    if not found then
      perform movement_profiles_internal.check_catalogue_name('field', wanted.name, '^[a-z][a-z0-9_]{0,47}$');
      if wanted.required and movement_profiles_internal.count_profiles('true') > 0 then
        raise exception using
          errcode = 'invalid_parameter_value',
          message = 'a new field cannot be required while movement profiles exist: ' || wanted.name,
          hint = wanted.name;
      end if;
      insert into movement_profiles_internal.catalogue_fields (name, label, description, required, position)
      values (wanted.name, wanted.label, wanted.description, wanted.required, wanted.position);
    else
      if wanted.required and not existing.required then
        changed := movement_profiles_internal.count_profiles(pg_catalog.format(
          '%s operator(pg_catalog.=) %L::jsonb', movement_profiles_internal.field_expression(existing), '[]'
        ));
        if changed > 0 then
          raise exception using
            errcode = 'foreign_key_violation',
            message = wanted.name || ' cannot become required: '
              || movement_profiles_internal.profile_count(changed) || ' have no value for it',
            hint = wanted.name;
        end if;
        narrowed := true;
      end if;
      if existing.built_in and not wanted.required then
        raise exception using
          errcode = 'invalid_parameter_value',
          message = wanted.name || ' is built in and stays required',
          hint = wanted.name;
      end if;
      update movement_profiles_internal.catalogue_fields
      set label = wanted.label, description = wanted.description, required = wanted.required,
          position = wanted.position
      where name = wanted.name
        and (label, description, required, position)
          is distinct from (wanted.label, wanted.description, wanted.required, wanted.position);
    end if;

    for wanted_value in
      select entry ->> 'value' as value, entry ->> 'label' as label,
             coalesce(entry ->> 'description', '') as description, position::integer
      from pg_catalog.jsonb_array_elements(wanted.allowed) with ordinality as v (entry, position)
    loop
      perform movement_profiles_internal.put_value(
        wanted.name, wanted_value.value, wanted_value.label, wanted_value.description,
        wanted_value.position
      );
    end loop;

    for stale in
      select value from movement_profiles_internal.catalogue_values
      where field = wanted.name and retired_at is null
        and not value = any (array(select pg_catalog.jsonb_array_elements(wanted.allowed) ->> 'value'))
    loop
      changed := movement_profiles_internal.retire_value(wanted.name, stale.value, profiles, null);
      narrowed := true;
      perform movement_profiles_internal.record_catalogue_change(
        'retire_value', wanted.name, stale.value, null, pg_catalog.jsonb_build_object('profiles', profiles), changed
      );
    end loop;

    if before is distinct from movement_profiles_internal.catalogue_field_entry(wanted.name) then
      changes := changes + 1;
      perform movement_profiles_internal.record_catalogue_change(
        'apply_field', wanted.name, null, before, movement_profiles_internal.catalogue_field_entry(wanted.name), 0
      );
    end if;
  end loop;

  for stale in
    select name from movement_profiles_internal.catalogue_fields
    where not name = any (array(select pg_catalog.jsonb_array_elements(catalogue -> 'fields') ->> 'name'))
  loop
    before := movement_profiles_internal.catalogue_field_entry(stale.name);
    changed := movement_profiles_internal.remove_field(stale.name, profiles);
    narrowed := true;
    changes := changes + 1;
    perform movement_profiles_internal.record_catalogue_change(
      'remove_field', stale.name, null, before, pg_catalog.jsonb_build_object('profiles', profiles), changed
    );
  end loop;

  if changes > 0 then
    perform movement_profiles_internal.refresh_option_list_checks(validate => narrowed);
  end if;
  return pg_catalog.jsonb_build_object('changes', changes);
end
$$;
comment on function public.movement_profile_apply_catalogue(jsonb, text) is
  'Brings the catalogue to the one given (the shape of movement_profile_catalogue()), in one '
  'transaction: what movement_profile_catalogue_sql() of another environment runs. Service role only.';

create function public.movement_profile_catalogue_sql()
returns text
language sql
stable
set search_path = ''
as $$
  select pg_catalog.format(
    E'-- The catalogue of movement-profiles\' fields and values, exported %s.\n'
    '-- Applied (supabase db push, or psql), it brings that database''s catalogue to this one:\n'
    '-- fields and values added, relabelled, reordered; those not listed retired, refused while\n'
    '-- profiles hold them.\n'
    'select public.movement_profile_apply_catalogue(\n  %s::jsonb\n);\n',
    pg_catalog.to_char(pg_catalog.now() at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'),
    pg_catalog.quote_literal(pg_catalog.jsonb_pretty(public.movement_profile_catalogue()))
  )
$$;
comment on function public.movement_profile_catalogue_sql() is
  'The catalogue as SQL another environment applies (a migration file''s content). Service role only.';

create function public.movement_profile_catalogue_changes(max_rows integer default 100)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(change) order by change.id desc), '[]')
  from (
    select * from movement_profiles_internal.catalogue_changes
    order by id desc
    limit greatest(least(max_rows, 10000), 0)
  ) as change
$$;
comment on function public.movement_profile_catalogue_changes(integer) is
  'The catalogue''s history, newest first: who changed what, when, and how many profiles it '
  'changed. Service role only.';

comment on function movement_profiles_internal.catalogue_allowed_values(text) is
  'The active values of a catalogue field, in display order.';
comment on function movement_profiles_internal.option_list_check_sql(text, text[], integer) is
  'The fast path of an option list''s CHECK, as SQL: built-in jsonb operators and constants only, the length first; true when value_expression is a JSON array of at least minimum distinct strings from allowed_values.';
comment on function movement_profiles_internal.custom_fields_check_sql(jsonb) is
  'The fast path of custom_fields'' CHECK, as SQL, for the given custom fields: built-in jsonb operators and constants only; false sends the value to assert_custom_fields, which names what is wrong.';
comment on function movement_profiles_internal.catalogue_field_entry(text) is
  'A catalogue field as movement_profile_catalogue() lists it, with its active values.';
comment on function movement_profiles_internal.catalogue_actor() is
  'Who is changing the catalogue: the token''s role and sub (and the X-Movement-Profiles-Actor header) through the API, else the database user.';
comment on function movement_profiles_internal.record_catalogue_change(text, text, text, jsonb, jsonb, bigint) is
  'Appends a change to movement_profiles_internal.catalogue_changes.';
comment on function movement_profiles_internal.catalogue_field(text) is
  'The catalogue field of that name, or 22023.';
comment on function movement_profiles_internal.lock_catalogue(boolean) is
  'Serializes catalogue changes; a narrowing one also holds off writes to movement_profiles until it commits.';
comment on function movement_profiles_internal.field_expression(movement_profiles_internal.catalogue_fields) is
  'SQL that reads a field''s values in a profile: its column, or its key of custom_fields (an empty list when absent).';
comment on function movement_profiles_internal.field_assignment(movement_profiles_internal.catalogue_fields, text) is
  'SQL that sets a field''s values in a profile to the given SQL expression.';
comment on function movement_profiles_internal.count_profiles(text) is
  'How many movement profiles meet an SQL condition the catalogue functions build.';
comment on function movement_profiles_internal.update_profiles(text, text) is
  'Applies an SQL assignment the catalogue functions build to the profiles meeting a condition; how many changed.';
comment on function movement_profiles_internal.profile_count(bigint) is
  '1 movement profile, 2 movement profiles: for messages.';
comment on function movement_profiles_internal.check_catalogue_name(text, text, text) is
  '22023 unless the field or value name matches its pattern.';
comment on function movement_profiles_internal.default_label(text) is
  'A label for a value given none: underscores as spaces, the first letter upper-case.';
comment on function movement_profiles_internal.put_value(text, text, text, text, integer) is
  'Adds, reinstates or updates a value of a field; true when anything changed.';
comment on function movement_profiles_internal.take_value_out(movement_profiles_internal.catalogue_fields, text, text, text) is
  'Takes a value out of the profiles holding it (refuse, remove or replace); how many changed.';
comment on function movement_profiles_internal.retire_value(text, text, text, text) is
  'Retires an active value after taking it out of the profiles as asked; how many changed.';
comment on function movement_profiles_internal.remove_field(text, text) is
  'Removes a field that is not built in, after taking it out of the profiles as asked; how many changed.';

-- Privileges: reading the catalogue is for every API role; changing it for the service role (and
-- postgres, who owns the functions). The CHECKs call the assert functions as the writer. The
-- platform's default privileges grant new functions in public to the API roles: revoked by name.
revoke all on function movement_profiles_internal.catalogue_allowed_values(text) from public;
revoke all on function movement_profiles_internal.option_list_check_sql(text, text[], integer) from public;
revoke all on function movement_profiles_internal.custom_fields_check_sql(jsonb) from public;
revoke all on function movement_profiles_internal.assert_custom_fields(jsonb, jsonb) from public;
revoke all on function movement_profiles_internal.catalogue_field_entry(text) from public;
revoke all on function movement_profiles_internal.catalogue_actor() from public;
revoke all on function movement_profiles_internal.record_catalogue_change(text, text, text, jsonb, jsonb, bigint) from public;
revoke all on function movement_profiles_internal.catalogue_field(text) from public;
revoke all on function movement_profiles_internal.lock_catalogue(boolean) from public;
revoke all on function movement_profiles_internal.field_expression(movement_profiles_internal.catalogue_fields) from public;
revoke all on function movement_profiles_internal.field_assignment(movement_profiles_internal.catalogue_fields, text) from public;
revoke all on function movement_profiles_internal.count_profiles(text) from public;
revoke all on function movement_profiles_internal.update_profiles(text, text) from public;
revoke all on function movement_profiles_internal.check_catalogue_name(text, text, text) from public;
revoke all on function movement_profiles_internal.default_label(text) from public;
revoke all on function movement_profiles_internal.profile_count(bigint) from public;
revoke all on function movement_profiles_internal.put_value(text, text, text, text, integer) from public;
revoke all on function movement_profiles_internal.take_value_out(movement_profiles_internal.catalogue_fields, text, text, text) from public;
revoke all on function movement_profiles_internal.retire_value(text, text, text, text) from public;
revoke all on function movement_profiles_internal.remove_field(text, text) from public;

grant execute on function movement_profiles_internal.catalogue_allowed_values(text)
  to anon, authenticated, service_role;
grant execute on function movement_profiles_internal.catalogue_field_entry(text)
  to anon, authenticated, service_role;
grant execute on function movement_profiles_internal.assert_custom_fields(jsonb, jsonb)
  to authenticated, service_role, postgres;

revoke all on function public.movement_profile_catalogue()
  from public, anon, authenticated, service_role;
grant execute on function public.movement_profile_catalogue() to anon, authenticated, service_role;
revoke all on function public.movement_profile_add_field(text, text, text, boolean, text[])
  from public, anon, authenticated, service_role;
revoke all on function public.movement_profile_add_value(text, text, text, text)
  from public, anon, authenticated, service_role;
revoke all on function public.movement_profile_relabel(text, text, text, text)
  from public, anon, authenticated, service_role;
revoke all on function public.movement_profile_retire_value(text, text, text, text)
  from public, anon, authenticated, service_role;
revoke all on function public.movement_profile_remove_field(text, text)
  from public, anon, authenticated, service_role;
revoke all on function public.movement_profile_apply_catalogue(jsonb, text)
  from public, anon, authenticated, service_role;
revoke all on function public.movement_profile_catalogue_sql()
  from public, anon, authenticated, service_role;
revoke all on function public.movement_profile_catalogue_changes(integer)
  from public, anon, authenticated, service_role;
grant execute on function public.movement_profile_add_field(text, text, text, boolean, text[]) to service_role;
grant execute on function public.movement_profile_add_value(text, text, text, text) to service_role;
grant execute on function public.movement_profile_relabel(text, text, text, text) to service_role;
grant execute on function public.movement_profile_retire_value(text, text, text, text) to service_role;
grant execute on function public.movement_profile_remove_field(text, text) to service_role;
grant execute on function public.movement_profile_apply_catalogue(jsonb, text) to service_role;
grant execute on function public.movement_profile_catalogue_sql() to service_role;
grant execute on function public.movement_profile_catalogue_changes(integer) to service_role;

-- catalogue_sql() and catalogue_changes() run as the caller: the service role reads the history
-- through catalogue_changes' policy; the catalogue itself through its read policies.
