-- Everything a host can grant or set, keyed by object: what the component must leave unchanged.
-- One row per key, with the key of the object it hangs off (a policy's table, a setting's role):
-- the harness compares the keys that existed before the install, and counts a new key on an object
-- that existed as a change too.
with schemas as (
  select oid, nspname from pg_catalog.pg_namespace
  where nspname !~ '^pg_' and nspname <> 'information_schema'
)
select 'schema ' || n.nspname, null, jsonb_build_object(
  'owner', n.nspowner::regrole::text, 'acl', n.nspacl::text[])
from pg_catalog.pg_namespace n join schemas using (oid)
union all
select 'relation ' || c.oid::regclass::text, null, jsonb_build_object(
  'kind', c.relkind, 'owner', c.relowner::regrole::text, 'acl', c.relacl::text[],
  'rls', c.relrowsecurity, 'force_rls', c.relforcerowsecurity, 'options', c.reloptions)
from pg_catalog.pg_class c join schemas s on s.oid = c.relnamespace
where c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
union all
select 'column ' || c.oid::regclass::text || ' | ' || a.attname,
  'relation ' || c.oid::regclass::text, jsonb_build_object(
  'acl', a.attacl::text[], 'type', a.atttypid::regtype::text, 'default',
  pg_catalog.pg_get_expr(d.adbin, d.adrelid))
from pg_catalog.pg_attribute a
join pg_catalog.pg_class c on c.oid = a.attrelid
join schemas s on s.oid = c.relnamespace
left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
where a.attnum > 0 and not a.attisdropped and c.relkind in ('r', 'p', 'v', 'm', 'f')
union all
select 'function ' || p.oid::regprocedure::text, null, jsonb_build_object(
  'owner', p.proowner::regrole::text, 'acl', p.proacl::text[], 'security_definer', p.prosecdef,
  'config', p.proconfig)
from pg_catalog.pg_proc p join schemas s on s.oid = p.pronamespace
union all
select 'type ' || t.oid::regtype::text, null, jsonb_build_object(
  'owner', t.typowner::regrole::text, 'acl', t.typacl::text[],
  'labels', (select array_agg(e.enumlabel order by e.enumsortorder)
             from pg_catalog.pg_enum e where e.enumtypid = t.oid))
from pg_catalog.pg_type t join schemas s on s.oid = t.typnamespace
where t.typtype in ('e', 'd', 'r', 'm') or (t.typtype = 'b' and t.typelem = 0)
union all
select 'policy ' || pol.polrelid::regclass::text || ' | ' || pol.polname,
  'relation ' || pol.polrelid::regclass::text, jsonb_build_object(
  'command', pol.polcmd, 'permissive', pol.polpermissive,
  'roles', (select array_agg(r::regrole::text order by r::regrole::text) from unnest(pol.polroles) r),
  'using', pg_catalog.pg_get_expr(pol.polqual, pol.polrelid),
  'check', pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid))
from pg_catalog.pg_policy pol
union all
select 'trigger ' || tg.tgrelid::regclass::text || ' | ' || tg.tgname,
  'relation ' || tg.tgrelid::regclass::text, jsonb_build_object(
  'enabled', tg.tgenabled, 'function', tg.tgfoid::regprocedure::text)
from pg_catalog.pg_trigger tg where not tg.tgisinternal
union all
select 'default acl ' || da.defaclrole::regrole::text || ' | '
  || coalesce(da.defaclnamespace::regnamespace::text, '(all schemas)') || ' | ' || da.defaclobjtype::text,
  'role ' || da.defaclrole::regrole::text,
  jsonb_build_object('acl', da.defaclacl::text[])
from pg_catalog.pg_default_acl da
union all
select 'role setting ' || coalesce(rs.setrole::regrole::text, '(all roles)') || ' | '
  || coalesce((select datname from pg_catalog.pg_database where oid = rs.setdatabase), '(all databases)')
  || ' | ' || split_part(setting, '=', 1),
  'role ' || coalesce(rs.setrole::regrole::text, '(all roles)'),
  to_jsonb(substr(setting, strpos(setting, '=') + 1))
from pg_catalog.pg_db_role_setting rs, unnest(rs.setconfig) setting
union all
select 'role ' || r.rolname, null, jsonb_build_object(
  'superuser', r.rolsuper, 'inherit', r.rolinherit, 'createrole', r.rolcreaterole,
  'login', r.rolcanlogin, 'bypassrls', r.rolbypassrls,
  'member of', (select array_agg(m.roleid::regrole::text || case when m.admin_option then ' (admin)' else '' end
                                 order by m.roleid::regrole::text)
                from pg_catalog.pg_auth_members m where m.member = r.oid))
from pg_catalog.pg_roles r where r.rolname !~ '^pg_'
union all
select 'publication ' || pub.pubname, null, jsonb_build_object(
  'all tables', pub.puballtables,
  'tables', (select array_agg(pt.schemaname || '.' || pt.tablename order by 1)
             from pg_catalog.pg_publication_tables pt where pt.pubname = pub.pubname))
from pg_catalog.pg_publication pub
union all
select 'event trigger ' || evtname, null, jsonb_build_object('enabled', evtenabled, 'event', evtevent)
from pg_catalog.pg_event_trigger
