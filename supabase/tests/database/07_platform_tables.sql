-- The platform's own tables that a host project's SQL refers to exist here as on hosted Supabase:
-- auth.users with every column Supabase Auth gives it, and the storage schema's tables with their
-- owner, row level security and grants. And `postgres` may write policies on them, as supautils
-- lets it on hosted, but on no other table of Supabase Auth or Storage. Runs as `postgres`.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(24);

-- auth.users ----------------------------------------------------------------------------------

select is(
  array(
    select pg_catalog.concat_ws(' ',
      attribute.attname, pg_catalog.format_type(attribute.atttypid, attribute.atttypmod),
      case when attribute.attnotnull then 'not null' end,
      case when attribute.attgenerated <> '' then 'generated ' else 'default ' end
        || pg_catalog.pg_get_expr(default_.adbin, default_.adrelid)
    )
    from pg_catalog.pg_attribute as attribute
    left join pg_catalog.pg_attrdef as default_
      on default_.adrelid = attribute.attrelid and default_.adnum = attribute.attnum
    where attribute.attrelid = 'auth.users'::regclass and attribute.attnum > 0
      and not attribute.attisdropped
    order by attribute.attname collate "C"
  ),
  array[
    'aud character varying(255)',
    'banned_until timestamp with time zone',
    'confirmation_sent_at timestamp with time zone',
    'confirmation_token character varying(255)',
    'confirmed_at timestamp with time zone generated LEAST(email_confirmed_at, phone_confirmed_at)',
    'created_at timestamp with time zone',
    'deleted_at timestamp with time zone',
    'email character varying(255)',
    'email_change character varying(255)',
    'email_change_confirm_status smallint default 0',
    'email_change_sent_at timestamp with time zone',
    'email_change_token_current character varying(255) default ''''::character varying',
    'email_change_token_new character varying(255)',
    'email_confirmed_at timestamp with time zone',
    'encrypted_password character varying(255)',
    'id uuid not null',
    'instance_id uuid',
    'invited_at timestamp with time zone',
    'is_anonymous boolean not null default false',
    'is_sso_user boolean not null default false',
    'is_super_admin boolean',
    'last_sign_in_at timestamp with time zone',
    'phone text',
    'phone_change text default ''''::character varying',
    'phone_change_sent_at timestamp with time zone',
    'phone_change_token character varying(255) default ''''::character varying',
    'phone_confirmed_at timestamp with time zone',
    'raw_app_meta_data jsonb',
    'raw_user_meta_data jsonb',
    'reauthentication_sent_at timestamp with time zone',
    'reauthentication_token character varying(255) default ''''::character varying',
    'recovery_sent_at timestamp with time zone',
    'recovery_token character varying(255)',
    'role character varying(255)',
    'updated_at timestamp with time zone'
  ],
  'auth.users has Supabase Auth''s columns, types, NOT NULLs, defaults and generated column'
);
select bag_eq(
  $$
    select conname::text, contype::text from pg_catalog.pg_constraint
    where conrelid = 'auth.users'::regclass
  $$,
  $$
    values ('users_pkey', 'p'), ('users_phone_key', 'u'),
      ('users_email_change_confirm_status_check', 'c')
  $$,
  'auth.users has the platform''s constraints and no unique constraint on email'
);
select is(
  pg_catalog.pg_get_indexdef('auth.users_email_partial_key'::regclass),
  'CREATE UNIQUE INDEX users_email_partial_key ON auth.users USING btree (email) '
    || 'WHERE (is_sso_user = false)',
  'an email is unique among users that do not come from SSO'
);

-- What host SQL commonly does with it: insert a user the short way, read the derived columns.
insert into auth.users (id, email) values
  ('eeeeeeee-0000-4000-8000-000000000001', 'kim@platform.test');
update auth.users set email_confirmed_at = '2026-01-02T03:04:05Z', phone_confirmed_at = null
where id = 'eeeeeeee-0000-4000-8000-000000000001';
select results_eq(
  $$
    select confirmed_at, is_anonymous, is_sso_user, email_change_confirm_status
    from auth.users where id = 'eeeeeeee-0000-4000-8000-000000000001'
  $$,
  $$ values ('2026-01-02T03:04:05Z'::timestamptz, false, false, 0::smallint) $$,
  'a user inserted with only id and email gets the platform''s defaults and confirmed_at'
);
select throws_ok(
  $$ update auth.users set email_change_confirm_status = 3 $$,
  '23514',
  null,
  'email_change_confirm_status stays between 0 and 2'
);

select is(
  (select row(relowner::regrole::text, relrowsecurity)::text from pg_catalog.pg_class
   where oid = 'auth.identities'::regclass),
  row('supabase_auth_admin', true)::text,
  'auth.identities belongs to supabase_auth_admin, under row level security'
);

-- Schema storage -------------------------------------------------------------------------------

select is(
  (select nspowner::regrole::text from pg_catalog.pg_namespace where nspname = 'storage'),
  'supabase_admin',
  'schema storage belongs to supabase_admin'
);
select is(
  array(
    select role_name::text from unnest(
      array['postgres', 'anon', 'authenticated', 'service_role', 'supabase_storage_admin']
    ) as role_name
    where pg_catalog.has_schema_privilege(role_name, 'storage', 'USAGE')
  ),
  array['postgres', 'anon', 'authenticated', 'service_role', 'supabase_storage_admin'],
  'postgres, the API roles and Storage use schema storage'
);
select is(
  pg_catalog.has_schema_privilege('postgres', 'storage', 'CREATE'), false,
  'postgres may not create objects in schema storage'
);
select bag_eq(
  $$
    select relname::text, relowner::regrole::text, relrowsecurity from pg_catalog.pg_class
    where relnamespace = 'storage'::regnamespace and relkind = 'r'
  $$,
  $$
    values
      ('buckets', 'supabase_storage_admin', true),
      ('objects', 'supabase_storage_admin', true),
      ('migrations', 'supabase_storage_admin', true),
      ('s3_multipart_uploads', 'supabase_storage_admin', true),
      ('s3_multipart_uploads_parts', 'supabase_storage_admin', true)
  $$,
  'storage''s tables belong to supabase_storage_admin, each under row level security'
);
select has_column('storage', 'buckets', 'public', 'a bucket says whether it is public');
select has_column('storage', 'objects', 'path_tokens', 'an object has its path split in parts');
select is(
  (select column_default from information_schema.columns
   where table_schema = 'storage' and table_name = 'buckets' and column_name = 'type'),
  '''STANDARD''::storage.buckettype',
  'a bucket is a standard bucket unless it says otherwise'
);

-- Table privileges as "role: privileges", for the roles a host's SQL acts as.
create function pg_temp.table_grants(table_name text) returns text[]
language sql
as $$
  select array(
    select pg_catalog.format('%s: %s', role_name, pg_catalog.array_to_string(array(
      select privilege from unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE']) as privilege
      where pg_catalog.has_table_privilege(role_name, table_name, privilege)
    ), ','))
    from unnest(array['postgres', 'anon', 'authenticated', 'service_role']) as role_name
  )
$$;
select is(
  pg_temp.table_grants('storage.objects'),
  array[
    'postgres: SELECT,INSERT,UPDATE,DELETE', 'anon: SELECT,INSERT,UPDATE,DELETE',
    'authenticated: SELECT,INSERT,UPDATE,DELETE', 'service_role: SELECT,INSERT,UPDATE,DELETE'
  ],
  'every API role may use storage.objects as far as its policies allow'
);
select is(
  pg_temp.table_grants('storage.buckets'),
  pg_temp.table_grants('storage.objects'),
  'storage.buckets is granted as storage.objects'
);
select ok(
  pg_catalog.has_table_privilege('postgres', 'storage.objects', 'SELECT WITH GRANT OPTION'),
  'postgres may pass on its rights on storage.objects'
);
select is(
  pg_temp.table_grants('storage.s3_multipart_uploads'),
  array[
    'postgres: SELECT,INSERT,UPDATE,DELETE', 'anon: SELECT', 'authenticated: SELECT',
    'service_role: SELECT,INSERT,UPDATE,DELETE'
  ],
  'the API roles only read multipart uploads'
);
select is(
  pg_temp.table_grants('storage.migrations'),
  -- postgres still reads it through pg_read_all_data, as on the platform.
  array['postgres: SELECT', 'anon: ', 'authenticated: ', 'service_role: '],
  'no one but Storage writes storage.migrations, and the API roles do not read it'
);
select is(
  array[
    pg_catalog.array_to_string(storage.foldername('user-1/trips/2026/summit.photo.png'), '/'),
    storage.filename('user-1/trips/2026/summit.photo.png'),
    storage.extension('user-1/trips/2026/summit.photo.png')
  ],
  array['user-1/trips/2026', 'summit.photo.png', 'png'],
  'the path helpers split an object name into folders, file name and extension'
);
select ok(
  pg_catalog.has_function_privilege('authenticated', 'storage.foldername(text)', 'EXECUTE'),
  'a policy evaluated for authenticated may call storage.foldername'
);
select throws_ok(
  $$ delete from storage.buckets $$,
  '42501',
  'Direct deletion from storage tables is not allowed. Use the Storage API instead.',
  'a plain DELETE on storage''s tables is refused, as the platform refuses it'
);

-- Policies --------------------------------------------------------------------------------------

select lives_ok(
  $$
    create policy "platform test: own folder" on storage.objects for insert to authenticated
    with check (
      bucket_id = 'avatars' and (storage.foldername(name))[1] = (select auth.uid()::text)
    )
  $$,
  'postgres creates a policy on storage.objects, as supautils lets it on hosted'
);
select lives_ok(
  $$ drop policy "platform test: own folder" on storage.objects $$,
  'and drops it again'
);
select is(
  pg_catalog.pg_has_role('postgres', 'supabase_storage_admin', 'MEMBER')
    or pg_catalog.pg_has_role('postgres', 'supabase_auth_admin', 'MEMBER'),
  false,
  'afterwards postgres is a member of neither Supabase Auth''s nor Storage''s role'
);

select * from finish();
rollback;
