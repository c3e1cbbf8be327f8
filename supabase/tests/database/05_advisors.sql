-- Supabase's database advisors (the splinter lints behind Studio's Security and Performance
-- Advisors), rerun here so that a migration that would light one up fails `make test` instead of
-- surfacing after deploy. Each lint is a temporary view returning one row per finding; none may
-- find anything in the project's schemas beyond the few findings accepted on purpose (listed below
-- with their reasons). Every view is first shown to fire on a deliberately bad object, so finding
-- nothing means "clean" rather than "the query is broken".
-- Adapted from github.com/supabase/splinter (lints/00NN_*.sql); stricter where noted.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(31);

-- The schemas the project owns: everything but Postgres' own and what the Supabase platform
-- manages (auth, extensions, the migration history, ...). pg_temp_* holds this test's own views.
create temporary view project_schema as
select oid, nspname
from pg_catalog.pg_namespace
where nspname not like 'pg\_%'
  and nspname not in (
    'information_schema', 'auth', 'extensions', 'graphql', 'graphql_public', 'realtime', 'storage',
    'vault', 'pgsodium', 'pgsodium_masks', 'net', 'cron', 'pgbouncer', 'pgmq', 'supabase_functions',
    'supabase_migrations'
  );

-- 0001 unindexed_foreign_keys. Stricter than splinter (which wants an index on exactly the key's
-- columns): any valid index whose leading columns are the key's columns covers it.
create temporary view unindexed_foreign_keys as
select format('%s: foreign key %I', constraint_.conrelid::regclass, constraint_.conname) as finding
from pg_catalog.pg_constraint as constraint_
join pg_catalog.pg_class as table_ on table_.oid = constraint_.conrelid
where constraint_.contype = 'f'
  and table_.relnamespace in (select oid from project_schema)
  and not exists (
    select
    from pg_catalog.pg_index as index_
    cross join lateral (
      select (pg_catalog.string_to_array(index_.indkey::text, ' ')::smallint[])
        [1:pg_catalog.cardinality(constraint_.conkey)] as leading_columns
    ) as index_columns
    where index_.indrelid = constraint_.conrelid
      and index_.indisvalid
      and index_columns.leading_columns @> constraint_.conkey
      and index_columns.leading_columns <@ constraint_.conkey
  );

-- 0002 auth_users_exposed: a view over auth.users that the API roles may read leaks every email.
create temporary view auth_users_exposed as
select distinct view_.oid::regclass::text as finding
from pg_catalog.pg_depend as dependency
join pg_catalog.pg_rewrite as rule_ on rule_.oid = dependency.objid
join pg_catalog.pg_class as view_ on view_.oid = rule_.ev_class
where dependency.refobjid = 'auth.users'::regclass
  and dependency.deptype = 'n'
  and view_.relkind in ('v', 'm')
  and view_.relnamespace in (select oid from project_schema)
  and (
    pg_catalog.has_table_privilege('anon', view_.oid, 'SELECT')
    or pg_catalog.has_table_privilege('authenticated', view_.oid, 'SELECT')
  );

-- 0003 auth_rls_initplan: auth.<function>() or current_setting() in a policy is evaluated once
-- per row unless wrapped in a select (then once per statement, as an init plan). Stricter than
-- splinter, which passes a policy once any one call is wrapped: here every call must be.
-- auth is not on this test's search_path, so pg_get_expr writes those calls qualified.
create temporary view auth_rls_initplan as
select distinct format('%s: policy %I', policy.polrelid::regclass, policy.polname) as finding
from pg_catalog.pg_policy as policy
join pg_catalog.pg_class as table_ on table_.oid = policy.polrelid
cross join lateral (
  values
    (pg_catalog.pg_get_expr(policy.polqual, policy.polrelid)),
    (pg_catalog.pg_get_expr(policy.polwithcheck, policy.polrelid))
) as expression (definition)
where table_.relrowsecurity
  and table_.relnamespace in (select oid from project_schema)
  and pg_catalog.regexp_count(
        expression.definition, 'auth\.(uid|jwt|role|email)\(\)|current_setting\('
      )
    > pg_catalog.regexp_count(
        pg_catalog.lower(expression.definition),
        'select\s+(auth\.(uid|jwt|role|email)\(\)|current_setting\()'
      );

-- 0004 no_primary_key: PostgREST, replication and every client want a row identity.
create temporary view no_primary_key as
select table_.oid::regclass::text as finding
from pg_catalog.pg_class as table_
where table_.relkind in ('r', 'p')
  and table_.relnamespace in (select oid from project_schema)
  and not exists (
    select from pg_catalog.pg_index where indrelid = table_.oid and indisprimary
  );

-- 0006 multiple_permissive_policies: each permissive policy runs for every row; two for the same
-- role and action double the work and usually mean one of them is wider than intended.
create temporary view multiple_permissive_policies as
select format(
  '%s: role %s, %s: %s',
  policy.polrelid::regclass, role_.rolname, action.command,
  pg_catalog.array_agg(policy.polname order by policy.polname)
) as finding
from pg_catalog.pg_policy as policy
join pg_catalog.pg_class as table_ on table_.oid = policy.polrelid
join pg_catalog.pg_roles as role_
  on policy.polroles @> array[role_.oid] or policy.polroles = array[0::oid]
cross join lateral pg_catalog.unnest(
  case policy.polcmd
    when 'r' then array['SELECT']
    when 'a' then array['INSERT']
    when 'w' then array['UPDATE']
    when 'd' then array['DELETE']
    when '*' then array['SELECT', 'INSERT', 'UPDATE', 'DELETE']
  end
) as action (command)
where policy.polpermissive
  and table_.relkind in ('r', 'p')
  and table_.relnamespace in (select oid from project_schema)
  and role_.rolname not like 'pg\_%'
  and not role_.rolbypassrls
group by policy.polrelid, role_.rolname, action.command
having pg_catalog.count(*) > 1;

-- 0007 policy_exists_rls_disabled: policies on a table without RLS protect nothing.
create temporary view policy_exists_rls_disabled as
select distinct policy.polrelid::regclass::text as finding
from pg_catalog.pg_policy as policy
join pg_catalog.pg_class as table_ on table_.oid = policy.polrelid
where not table_.relrowsecurity
  and table_.relnamespace in (select oid from project_schema);

-- 0008 rls_enabled_no_policy: RLS without a policy silently hides every row from the API roles.
create temporary view rls_enabled_no_policy as
select table_.oid::regclass::text as finding
from pg_catalog.pg_class as table_
where table_.relkind in ('r', 'p')
  and table_.relrowsecurity
  and table_.relnamespace in (select oid from project_schema)
  and not exists (select from pg_catalog.pg_policy where polrelid = table_.oid);

-- 0009 duplicate_index: two identical indexes cost every write twice and help no read.
create temporary view duplicate_index as
select format(
  '%I.%I: %s', schemaname, tablename, pg_catalog.array_agg(indexname order by indexname)
) as finding
from pg_catalog.pg_indexes
where schemaname in (select nspname from project_schema)
group by schemaname, tablename, pg_catalog.replace(indexdef, indexname, '')
having pg_catalog.count(*) > 1;

-- 0010 security_definer_view: a view runs as its owner unless security_invoker is set, so an
-- API-readable view would bypass the RLS of every table below it.
create temporary view security_definer_view as
select view_.oid::regclass::text as finding
from pg_catalog.pg_class as view_
where view_.relkind = 'v'
  and view_.relnamespace in (select oid from project_schema)
  and (
    pg_catalog.has_table_privilege('anon', view_.oid, 'SELECT')
    or pg_catalog.has_table_privilege('authenticated', view_.oid, 'SELECT')
  )
  and not (
    pg_catalog.lower(coalesce(view_.reloptions::text, '{}'))::text[]
      && array['security_invoker=1', 'security_invoker=true', 'security_invoker=yes', 'security_invoker=on']
  );

-- 0011 function_search_path_mutable: without a pinned search_path a caller can shadow any
-- object the function names unqualified. Extension-owned functions are the extension's business.
create temporary view function_search_path_mutable as
select function_.oid::regprocedure::text as finding
from pg_catalog.pg_proc as function_
where function_.pronamespace in (select oid from project_schema)
  and not exists (
    select from pg_catalog.pg_depend
    where objid = function_.oid and deptype = 'e'
  )
  and not exists (
    select from pg_catalog.unnest(coalesce(function_.proconfig, '{}')) as setting
    where setting like 'search_path=%'
  );

-- 0013 rls_disabled_in_public: PostgREST serves every table in public; without RLS, any grant
-- the API roles hold reaches every row.
create temporary view rls_disabled_in_public as
select table_.oid::regclass::text as finding
from pg_catalog.pg_class as table_
where table_.relkind in ('r', 'p')
  and table_.relnamespace = 'public'::regnamespace
  and not table_.relrowsecurity;

-- 0014 extension_in_public: extension objects in public are exposed through the API.
create temporary view extension_in_public as
select extname::text as finding
from pg_catalog.pg_extension
where extnamespace = 'public'::regnamespace
  and extname <> 'plpgsql';

-- 0015 rls_references_user_metadata: users edit their own user_metadata, so it proves nothing.
create temporary view rls_references_user_metadata as
select distinct format('%s: policy %I', policy.polrelid::regclass, policy.polname) as finding
from pg_catalog.pg_policy as policy
join pg_catalog.pg_class as table_ on table_.oid = policy.polrelid
cross join lateral (
  values
    (pg_catalog.pg_get_expr(policy.polqual, policy.polrelid)),
    (pg_catalog.pg_get_expr(policy.polwithcheck, policy.polrelid))
) as expression (definition)
where table_.relnamespace in (select oid from project_schema)
  and (
    expression.definition like '%auth.jwt()%user_metadata%'
    or expression.definition like '%current_setting(%request.jwt.claims%)%user_metadata%'
  );

-- 0028/0029 anon/authenticated_security_definer_function_executable: a security definer function
-- the API roles may call runs as its owner, past every RLS policy, at /rest/v1/rpc/<name>. As in
-- splinter, only the schemas PostgREST exposes count (supabase/config.toml's api.schemas, and
-- Supabase's graphql_public): a function elsewhere, such as the pre-request check's lookup in
-- schema movement_profiles_internal, has no URL and is called only by the project's own SQL.
create temporary view exposed_schema as
select oid, nspname
from pg_catalog.pg_namespace
where nspname in ('public', 'graphql_public');

create temporary view security_definer_function_executable as
select function_.oid::regprocedure::text as finding
from pg_catalog.pg_proc as function_
where function_.prosecdef
  and function_.pronamespace in (select oid from exposed_schema)
  and (
    pg_catalog.has_function_privilege('anon', function_.oid, 'EXECUTE')
    or pg_catalog.has_function_privilege('authenticated', function_.oid, 'EXECUTE')
  );

-- Runs `setup` (a deliberately bad object), asks whether `lint` finds anything, then undoes the
-- setup by raising: only the answer survives, the database is as before.
create function pg_temp.lint_fires_after(setup text, lint text)
returns boolean
language plpgsql
as $$
declare
  fired boolean;
begin
  begin
    execute setup;
    execute format('select exists (select from pg_temp.%I)', lint) into fired;
    raise exception using errcode = 'MPUND', message = 'undo the probe objects';
  exception when sqlstate 'MPUND' then
    null;
  end;
  return fired;
end
$$;

-- Findings accepted on purpose, each with its reason. Supabase's advisors still list them, so the
-- list stays short and every entry names one object: anything else a lint finds fails the test.
create temporary table accepted_finding (
  lint text not null,
  finding text not null,
  reason text not null
) on commit drop;
-- Add a row here only with a reason a reviewer would accept.
insert into accepted_finding values (
  'function_search_path_mutable',
  'movement_profiles_internal.check_request()',
  'The pre-request hook runs in every request of the host project: PostgREST prepares its call '
  'and inlines this one SQL expression, which a SET clause would prevent. It names every function, '
  'type and operator schema-qualified (01_schema.sql checks), so no search path can shadow them.'
);

-- What a lint finds, less the accepted findings.
create function pg_temp.unaccepted_findings(lint text)
returns setof text
language plpgsql
as $$
begin
  return query execute format(
    'select finding from pg_temp.%I except select finding from pg_temp.accepted_finding where lint = $1',
    lint
  ) using lint;
end
$$;

select ok(
  (select pg_catalog.array_agg(nspname) from project_schema) @> array['public', 'movement_profiles_internal']::name[],
  'the advisors look at the project''s schemas, public and movement_profiles_internal among them'
);

-- Security advisors.
select ok(
  pg_temp.lint_fires_after(
    $$ create table public.advisor_probe (id int primary key) $$,
    'rls_disabled_in_public'
  ),
  'rls_disabled_in_public fires for a table in public without RLS'
);
select is_empty(
  $$ select * from pg_temp.unaccepted_findings('rls_disabled_in_public') $$,
  'rls_disabled_in_public: every table in public has row-level security'
);

select ok(
  pg_temp.lint_fires_after(
    $$
      create table public.advisor_probe (id int primary key);
      alter table public.advisor_probe enable row level security;
    $$,
    'rls_enabled_no_policy'
  ),
  'rls_enabled_no_policy fires for a table with RLS and no policy'
);
select is_empty(
  $$ select * from pg_temp.unaccepted_findings('rls_enabled_no_policy') $$,
  'rls_enabled_no_policy: every table with row-level security has policies'
);

select ok(
  pg_temp.lint_fires_after(
    $$
      create table public.advisor_probe (id int primary key);
      create policy "Anyone reads" on public.advisor_probe for select using (true);
    $$,
    'policy_exists_rls_disabled'
  ),
  'policy_exists_rls_disabled fires for a policy on a table without RLS'
);
select is_empty(
  $$ select * from pg_temp.unaccepted_findings('policy_exists_rls_disabled') $$,
  'policy_exists_rls_disabled: no policy sits on a table without row-level security'
);

select ok(
  pg_temp.lint_fires_after(
    $$ create function public.advisor_probe() returns int language sql as 'select 1' $$,
    'function_search_path_mutable'
  ),
  'function_search_path_mutable fires for a function without a pinned search_path'
);
select is_empty(
  $$ select * from pg_temp.unaccepted_findings('function_search_path_mutable') $$,
  'function_search_path_mutable: every function of the project pins its search_path'
);

select ok(
  pg_temp.lint_fires_after(
    $$
      create function public.advisor_probe() returns int
      language sql security definer set search_path = '' as 'select 1';
      grant execute on function public.advisor_probe() to authenticated;
    $$,
    'security_definer_function_executable'
  ),
  'security_definer_function_executable fires for a security definer function the API may call'
);
select ok(
  not pg_temp.lint_fires_after(
    $$
      create function movement_profiles_internal.advisor_probe() returns int
      language sql security definer set search_path = '' as 'select 1';
      grant execute on function movement_profiles_internal.advisor_probe() to authenticated;
    $$,
    'security_definer_function_executable'
  ),
  'security_definer_function_executable, like splinter, ignores schemas PostgREST does not expose'
);
select is_empty(
  $$ select * from pg_temp.unaccepted_findings('security_definer_function_executable') $$,
  'security_definer_function_executable: no other security definer function is callable by the API roles'
);

select ok(
  pg_temp.lint_fires_after(
    $$
      create view public.advisor_probe as select 1 as one;
      grant select on public.advisor_probe to authenticated;
    $$,
    'security_definer_view'
  ),
  'security_definer_view fires for an API-readable view without security_invoker'
);
select is_empty(
  $$ select * from pg_temp.unaccepted_findings('security_definer_view') $$,
  'security_definer_view: no API-readable view runs with its owner''s rights'
);

select ok(
  pg_temp.lint_fires_after(
    $$
      create view public.advisor_probe with (security_invoker = true) as select id, email from auth.users;
      grant select on public.advisor_probe to authenticated;
    $$,
    'auth_users_exposed'
  ),
  'auth_users_exposed fires for an API-readable view over auth.users'
);
select is_empty(
  $$ select * from pg_temp.unaccepted_findings('auth_users_exposed') $$,
  'auth_users_exposed: no API-readable view exposes auth.users'
);

select ok(
  pg_temp.lint_fires_after(
    $$ create extension if not exists isn with schema public $$,
    'extension_in_public'
  ),
  'extension_in_public fires for an extension installed into public'
);
select is_empty(
  $$ select * from pg_temp.unaccepted_findings('extension_in_public') $$,
  'extension_in_public: no extension lives in schema public'
);

select ok(
  pg_temp.lint_fires_after(
    $$
      create table public.advisor_probe (id int primary key, user_id uuid);
      alter table public.advisor_probe enable row level security;
      create policy "Admins read" on public.advisor_probe for select to authenticated
        using (((select auth.jwt()) -> 'user_metadata' ->> 'role') = 'admin');
    $$,
    'rls_references_user_metadata'
  ),
  'rls_references_user_metadata fires for a policy trusting user_metadata'
);
select is_empty(
  $$ select * from pg_temp.unaccepted_findings('rls_references_user_metadata') $$,
  'rls_references_user_metadata: no policy trusts the user-editable user_metadata'
);

-- Performance advisors.
select ok(
  pg_temp.lint_fires_after(
    $$
      create table public.advisor_probe (id int primary key, user_id uuid);
      alter table public.advisor_probe enable row level security;
      create policy "Owners read" on public.advisor_probe for select to authenticated
        using (user_id = auth.uid());
    $$,
    'auth_rls_initplan'
  ),
  'auth_rls_initplan fires for a policy calling auth.uid() per row'
);
select ok(
  pg_temp.lint_fires_after(
    $$
      create table public.advisor_probe (id int primary key, user_id uuid);
      alter table public.advisor_probe enable row level security;
      create policy "Owners write" on public.advisor_probe for update to authenticated
        using ((select auth.uid()) = user_id)
        with check (user_id = auth.uid() or (select auth.role()) = 'service_role');
    $$,
    'auth_rls_initplan'
  ),
  'auth_rls_initplan fires when one call is wrapped in a select but another is not'
);
select is_empty(
  $$ select * from pg_temp.unaccepted_findings('auth_rls_initplan') $$,
  'auth_rls_initplan: every auth.<function>() call in a policy is wrapped in a select'
);

select ok(
  pg_temp.lint_fires_after(
    $$
      create table public.advisor_probe (id int primary key, user_id uuid);
      alter table public.advisor_probe enable row level security;
      create policy "Owners read" on public.advisor_probe for select to authenticated
        using ((select auth.uid()) = user_id);
      create policy "Everyone reads" on public.advisor_probe for all using (true);
    $$,
    'multiple_permissive_policies'
  ),
  'multiple_permissive_policies fires for two permissive policies on one role and action'
);
select is_empty(
  $$ select * from pg_temp.unaccepted_findings('multiple_permissive_policies') $$,
  'multiple_permissive_policies: at most one permissive policy per table, role and action'
);

select ok(
  pg_temp.lint_fires_after(
    $$ create table public.advisor_probe (id int primary key, user_id uuid references auth.users (id)) $$,
    'unindexed_foreign_keys'
  ),
  'unindexed_foreign_keys fires for a foreign key without an index'
);
select is_empty(
  $$ select * from pg_temp.unaccepted_findings('unindexed_foreign_keys') $$,
  'unindexed_foreign_keys: every foreign key has a covering index'
);

select ok(
  pg_temp.lint_fires_after(
    $$ create table public.advisor_probe (user_id uuid) $$,
    'no_primary_key'
  ),
  'no_primary_key fires for a table without a primary key'
);
select is_empty(
  $$ select * from pg_temp.unaccepted_findings('no_primary_key') $$,
  'no_primary_key: every table has a primary key'
);

select ok(
  pg_temp.lint_fires_after(
    $$
      create table public.advisor_probe (id int primary key, user_id uuid);
      create index advisor_probe_user_id_idx on public.advisor_probe (user_id);
      create index advisor_probe_user_id_again_idx on public.advisor_probe (user_id);
    $$,
    'duplicate_index'
  ),
  'duplicate_index fires for two identical indexes'
);
select is_empty(
  $$ select * from pg_temp.unaccepted_findings('duplicate_index') $$,
  'duplicate_index: no table has two identical indexes'
);

select * from finish();
rollback;
