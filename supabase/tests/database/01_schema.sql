-- The shape of public.movement_profiles: columns, keys, indexes,
-- enums, the trigger, RLS and policies, grants, and the rules every function must follow.
-- Catalog checks only; what the shape does to real writes is in the files after this one.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(69);

-- The table and its columns.
select has_table('public', 'movement_profiles', 'the table public.movement_profiles exists');
select columns_are(
  'public', 'movement_profiles',
  array['id', 'user_id', 'training_preferences', 'goals', 'created_at', 'updated_at', 'custom_fields'],
  'movement_profiles has the six columns of the contract and custom_fields for the catalogue''s later fields'
);

select col_type_is('public', 'movement_profiles', 'id', 'uuid', 'id is a uuid');
select col_type_is('public', 'movement_profiles', 'user_id', 'uuid', 'user_id is a uuid');
-- The option columns are jsonb under a domain each, whose CHECK validates the values written.
select col_type_is(
  'public', 'movement_profiles', 'training_preferences',
  'movement_profile_training_preference_list',
  'training_preferences is a movement_profile_training_preference_list'
);
select col_type_is(
  'public', 'movement_profiles', 'goals', 'movement_profile_goal_list',
  'goals is a movement_profile_goal_list'
);
select domain_type_is(
  'public', 'movement_profile_training_preference_list', 'jsonb',
  'movement_profile_training_preference_list is a domain over jsonb'
);
select domain_type_is(
  'public', 'movement_profile_goal_list', 'jsonb', 'movement_profile_goal_list is a domain over jsonb'
);
-- The fast path of each domain's CHECK is written out from the catalogue: every catalogue change
-- rebuilds it (movement_profiles_internal.refresh_option_list_checks), and this says it matches.
select is_empty(
  $$
    select lists.domain_type
    from (
      values
        ('public.movement_profile_training_preference_list'::regtype, 'training_preferences'),
        ('public.movement_profile_goal_list'::regtype, 'goals')
    ) as lists (domain_type, field)
    cross join lateral (
      select movement_profiles_internal.catalogue_allowed_values(lists.field) as allowed
    ) as catalogue
    cross join lateral (
      select pg_catalog.pg_get_constraintdef(oid) as definition
      from pg_catalog.pg_constraint
      where contypid = lists.domain_type
    ) as domain_check
    -- The allowed values appear as a jsonb literal (containment) and as a text[] (the slow path).
    where pg_catalog.strpos(definition, pg_catalog.quote_literal(pg_catalog.to_jsonb(allowed)::text)) = 0
       or pg_catalog.strpos(definition, pg_catalog.quote_literal(allowed::text) || '::text[]') = 0
  $$,
  'the CHECK of each built-in option list names exactly the catalogue''s active values'
);
select col_type_is(
  'public', 'movement_profiles', 'custom_fields', 'movement_profile_custom_fields',
  'custom_fields is a movement_profile_custom_fields'
);
select col_type_is(
  'public', 'movement_profiles', 'created_at', 'timestamp with time zone', 'created_at is a timestamptz'
);
select col_type_is(
  'public', 'movement_profiles', 'updated_at', 'timestamp with time zone', 'updated_at is a timestamptz'
);

select col_not_null('public', 'movement_profiles', 'id', 'id is not null');
select col_not_null('public', 'movement_profiles', 'user_id', 'user_id is not null');
select col_not_null(
  'public', 'movement_profiles', 'training_preferences', 'training_preferences is not null'
);
select col_not_null('public', 'movement_profiles', 'goals', 'goals is not null');
select col_not_null('public', 'movement_profiles', 'created_at', 'created_at is not null');
select col_not_null('public', 'movement_profiles', 'updated_at', 'updated_at is not null');

select col_default_is(
  'public', 'movement_profiles', 'id', 'gen_random_uuid()', 'id defaults to gen_random_uuid()'
);
select col_default_is(
  'public', 'movement_profiles', 'user_id', 'auth.uid()',
  'user_id defaults to the calling user, auth.uid()'
);
select col_hasnt_default(
  'public', 'movement_profiles', 'training_preferences',
  'training_preferences has no default: a profile states its preferences'
);
select col_hasnt_default(
  'public', 'movement_profiles', 'goals', 'goals has no default: a profile states its goals'
);
select col_default_is('public', 'movement_profiles', 'created_at', 'now()', 'created_at defaults to now()');
select col_default_is('public', 'movement_profiles', 'updated_at', 'now()', 'updated_at defaults to now()');

-- Keys: one profile per user, owned by an auth user and gone with it.
select col_is_pk('public', 'movement_profiles', 'id', 'id is the primary key');
select col_is_unique(
  'public', 'movement_profiles', array['user_id'], 'user_id is unique: one profile per user'
);
select fk_ok(
  'public', 'movement_profiles', 'user_id', 'auth', 'users', 'id',
  'user_id references auth.users(id)'
);
select is(
  (
    select confdeltype::text
    from pg_catalog.pg_constraint
    where conrelid = 'public.movement_profiles'::regclass and contype = 'f'
  ),
  'c',
  'deleting an auth user cascades to their profile (on delete cascade)'
);

-- GIN indexes keep "profiles that include yoga and rehab" (@>) an index scan.
select has_index(
  'public', 'movement_profiles', 'movement_profiles_training_preferences_idx',
  'training_preferences'::name, 'training_preferences has an index'
);
select index_is_type(
  'public', 'movement_profiles', 'movement_profiles_training_preferences_idx', 'gin',
  'the training_preferences index is a GIN index'
);
select has_index(
  'public', 'movement_profiles', 'movement_profiles_goals_idx', 'goals'::name, 'goals has an index'
);
select index_is_type(
  'public', 'movement_profiles', 'movement_profiles_goals_idx', 'gin', 'the goals index is a GIN index'
);
-- Both GIN opclasses for jsonb answer @>; asserting it guards against an opclass that does not.
select is_empty(
  $$
    select index_class.relname
    from pg_catalog.pg_index as index_
    join pg_catalog.pg_class as index_class on index_class.oid = index_.indexrelid
    join pg_catalog.pg_opclass as opclass on opclass.oid = index_.indclass[0]
    join pg_catalog.pg_am as access_method on access_method.oid = opclass.opcmethod
    where index_.indrelid = 'public.movement_profiles'::regclass
      and access_method.amname = 'gin'
      and not exists (
        select
        from pg_catalog.pg_amop as operator_of_class
        where operator_of_class.amopfamily = opclass.opcfamily
          and operator_of_class.amopopr = '@>(jsonb,jsonb)'::regoperator
      )
  $$,
  'every GIN index on movement_profiles can answer the containment operator @>'
);

-- The allowed values, defined once in the catalogue; the release ships these, in this order.
select hasnt_type('public', 'movement_profile_training_preference', 'no enum holds a second copy of the training preferences');
select hasnt_type('public', 'movement_profile_goal', 'no enum holds a second copy of the goals');
select is(
  movement_profiles_internal.catalogue_allowed_values('training_preferences'),
  array['strength_training', 'running', 'yoga', 'crossfit', 'sports', 'mixed'],
  'training_preferences has the six allowed values, in the contract''s order'
);
select is(
  movement_profiles_internal.catalogue_allowed_values('goals'),
  array['build_muscle', 'lose_fat', 'improve_endurance', 'rehab', 'general_health'],
  'goals has the five allowed values, in the contract''s order'
);
select has_function(
  'public', 'movement_profile_options', array[]::name[],
  'public.movement_profile_options() exists for frontends to build their selects from'
);
select function_returns(
  'public', 'movement_profile_options', array[]::name[], 'jsonb',
  'movement_profile_options() returns jsonb'
);

-- The trigger that keeps the timestamps honest. Inserts have none: the domains' CHECKs validate.
select triggers_are(
  'public', 'movement_profiles', array['movement_profiles_before_update'],
  'movement_profiles has one trigger, movement_profiles_before_update'
);
select trigger_is(
  'public', 'movement_profiles', 'movement_profiles_before_update',
  'movement_profiles_internal', 'movement_profiles_before_update',
  'the trigger runs movement_profiles_internal.movement_profiles_before_update()'
);
-- pg_trigger.tgtype bits: 1 row, 2 before, 4 insert, 8 delete, 16 update, 32 truncate.
select is(
  (
    select tgtype::int
    from pg_catalog.pg_trigger
    where tgrelid = 'public.movement_profiles'::regclass and tgname = 'movement_profiles_before_update'
  ),
  1 + 2 + 16,
  'the trigger fires before update, for each row'
);

-- Documentation lives in the schema, where PostgREST's OpenAPI, Studio and psql show it.
select isnt(
  obj_description('public.movement_profiles'::regclass, 'pg_class'), null,
  'the table has a comment'
);
select is_empty(
  $$
    select attname
    from pg_catalog.pg_attribute
    where attrelid = 'public.movement_profiles'::regclass
      and attnum > 0
      and not attisdropped
      and col_description(attrelid, attnum) is null
  $$,
  'every column of movement_profiles has a comment'
);
select isnt(
  obj_description('public.movement_profile_custom_fields'::regtype, 'pg_type'), null,
  'the domain movement_profile_custom_fields has a comment'
);
select is_empty(
  $$
    select table_.oid::regclass
    from pg_catalog.pg_class as table_
    where table_.relnamespace = 'movement_profiles_internal'::regnamespace and table_.relkind = 'r'
      and obj_description(table_.oid, 'pg_class') is null
  $$,
  'every catalogue table has a comment'
);
select is_empty(
  $$
    select oid::regprocedure
    from pg_catalog.pg_proc
    where pronamespace in ('public'::regnamespace, 'movement_profiles_internal'::regnamespace)
      and not exists (select from pg_catalog.pg_depend where objid = pg_proc.oid and deptype = 'e')
      and obj_description(oid, 'pg_proc') is null
  $$,
  'every function of the project in schemas public and movement_profiles_internal has a comment'
);

-- Row-level security and the three policies, all for signed-in users only.
select ok(
  (select relrowsecurity from pg_catalog.pg_class where oid = 'public.movement_profiles'::regclass),
  'row-level security is enabled on movement_profiles'
);
select policies_are(
  'public', 'movement_profiles',
  array[
    'Users can read their own movement profile',
    'Users can create their own movement profile',
    'Users can update their own movement profile'
  ],
  'movement_profiles has exactly the read, create and update policies (no delete policy)'
);
select policy_cmd_is(
  'public', 'movement_profiles', 'Users can read their own movement profile', 'select',
  'the read policy applies to select'
);
select policy_roles_are(
  'public', 'movement_profiles', 'Users can read their own movement profile', array['authenticated'],
  'the read policy applies to authenticated only'
);
select policy_cmd_is(
  'public', 'movement_profiles', 'Users can create their own movement profile', 'insert',
  'the create policy applies to insert'
);
select policy_roles_are(
  'public', 'movement_profiles', 'Users can create their own movement profile', array['authenticated'],
  'the create policy applies to authenticated only'
);
select policy_cmd_is(
  'public', 'movement_profiles', 'Users can update their own movement profile', 'update',
  'the update policy applies to update'
);
select policy_roles_are(
  'public', 'movement_profiles', 'Users can update their own movement profile', array['authenticated'],
  'the update policy applies to authenticated only'
);
select is_empty(
  $$
    select polname
    from pg_catalog.pg_policy
    where polrelid = 'public.movement_profiles'::regclass and not polpermissive
  $$,
  'all policies are permissive (a restrictive one would need a permissive one to pass first)'
);
-- The update policy must check the new row too, or a user could hand their row to someone else.
select ok(
  (
    select polqual is not null and polwithcheck is not null
    from pg_catalog.pg_policy
    where polrelid = 'public.movement_profiles'::regclass
      and polname = 'Users can update their own movement profile'
  ),
  'the update policy has both a using and a with check expression'
);

-- Grants: column grants keep id, user_id and the timestamps out of reach of the API roles.
select table_privs_are(
  'public', 'movement_profiles', 'anon', array[]::text[], 'anon has no privilege on movement_profiles'
);
select table_privs_are(
  'public', 'movement_profiles', 'authenticated', array['SELECT'],
  'authenticated has select on the whole table and nothing else table-wide'
);
select table_privs_are(
  'public', 'movement_profiles', 'service_role',
  array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'],
  'service_role has every privilege on movement_profiles'
);
select results_eq(
  $$
    -- attname is of type name (collation "C"); the values below are text in the default collation.
    select
      attname::text collate "default",
      has_column_privilege('authenticated', attrelid, attnum, 'INSERT'),
      has_column_privilege('authenticated', attrelid, attnum, 'UPDATE')
    from pg_catalog.pg_attribute
    where attrelid = 'public.movement_profiles'::regclass and attnum > 0 and not attisdropped
    order by attnum
  $$,
  $$
    values
      ('id', false, false),
      ('user_id', true, false),
      ('training_preferences', true, true),
      ('goals', true, true),
      ('created_at', false, false),
      ('updated_at', false, false),
      ('custom_fields', true, true)
  $$,
  'authenticated may insert user_id, both arrays and custom_fields, and update only those three'
);
select function_privs_are(
  'public', 'movement_profile_options', array[]::name[], 'anon', array['EXECUTE'],
  'anon may call movement_profile_options()'
);
select function_privs_are(
  'public', 'movement_profile_options', array[]::name[], 'authenticated', array['EXECUTE'],
  'authenticated may call movement_profile_options()'
);
select schema_privs_are(
  'movement_profiles_internal', 'anon', array['USAGE'],
  'anon may name the objects of movement_profiles_internal but create nothing there'
);

-- Every function pins its search_path to '' (no object can be shadowed by the caller's path)
-- and runs with the caller's rights. Functions of extensions are the extension's business (and an
-- extension in public is caught by 05_advisors.sql).
select has_function(
  'movement_profiles_internal', 'assert_option_array', array['text', 'jsonb', 'text[]'],
  'movement_profiles_internal.assert_option_array(text, jsonb, text[]) exists'
);
select has_function(
  'movement_profiles_internal', 'movement_profiles_before_update', array[]::name[],
  'movement_profiles_internal.movement_profiles_before_update() exists'
);
select is_empty(
  $$
    select oid::regprocedure
    from pg_catalog.pg_proc
    where pronamespace in ('public'::regnamespace, 'movement_profiles_internal'::regnamespace)
      and not exists (select from pg_catalog.pg_depend where objid = pg_proc.oid and deptype = 'e')
      and not coalesce(proconfig, '{}') @> array['search_path=""']
      -- The hook is inlined into PostgREST's prepared call, which a SET clause would prevent; it
      -- names everything schema-qualified instead (tested below).
      and oid <> 'movement_profiles_internal.check_request()'::regprocedure
  $$,
  'every function in schemas public and movement_profiles_internal sets search_path = '''''
);
select ok(
  (
    select language_.lanname = 'sql' and function_.proconfig is null and not function_.prosecdef
      and function_.prosrc !~ '(^|[^.])\m(current_setting|text|check_component_request)\M\s*[(\[]'
      and function_.prosrc ~ 'operator\(pg_catalog\.~~\)'
    from pg_catalog.pg_proc as function_
    join pg_catalog.pg_language as language_ on language_.oid = function_.prolang
    where function_.oid = 'movement_profiles_internal.check_request()'::regprocedure
  ),
  'the pre-request hook is one SQL expression without SET (so it is inlined), every name and operator schema-qualified'
);
select is_empty(
  $$
    select oid::regprocedure
    from pg_catalog.pg_proc
    where pronamespace in ('public'::regnamespace, 'movement_profiles_internal'::regnamespace)
      and not exists (select from pg_catalog.pg_depend where objid = pg_proc.oid and deptype = 'e')
      and prosecdef
      and oid <> 'movement_profiles_internal.auth_user_exists(uuid)'::regprocedure
      -- The catalogue's changes rebuild the domains' CHECKs, which only their owner may; the
      -- service role alone may call them (08_privileges_and_scope.sql).
      and not (
        pronamespace = 'public'::regnamespace
        and proname in (
          'movement_profile_add_field', 'movement_profile_add_value', 'movement_profile_relabel',
          'movement_profile_retire_value', 'movement_profile_remove_field',
          'movement_profile_apply_catalogue'
        )
      )
  $$,
  'no function in schemas public and movement_profiles_internal is security definer but the '
  'auth.users lookup of the pre-request check and the catalogue''s changes'
);

select * from finish();
rollback;
