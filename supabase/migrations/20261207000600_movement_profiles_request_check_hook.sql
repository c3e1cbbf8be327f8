-- PostgREST reads its in-database settings from the authenticator role (db-config, on by default)
-- and rereads them on the notification below. This setting is the one thing the component changes
-- outside its own objects, and only when the project has no pre-request hook: a project has one
-- hook, and replacing another would silently drop that project's own checks. Then the setting is
-- left alone and the warning says how to call this check from the existing hook (docs/deploying.md).
do $$
declare
  configured_hook text;
begin
  select pg_catalog.split_part(setting, '=', 2) into configured_hook
  from pg_catalog.pg_db_role_setting as role_setting
  cross join lateral pg_catalog.unnest(role_setting.setconfig) as setting
  where role_setting.setrole = 'authenticator'::regrole
    and role_setting.setdatabase in (0, (select oid from pg_catalog.pg_database
                                         where datname = pg_catalog.current_database()))
    and setting like 'pgrst.db\_pre\_request=%'
  -- A database's own setting wins over the cluster-wide one, as when PostgreSQL applies them.
  order by role_setting.setdatabase desc
  limit 1;

  if configured_hook is null or configured_hook = 'movement_profiles_internal.check_request' then
    alter role authenticator set pgrst.db_pre_request = 'movement_profiles_internal.check_request';
  else
    raise warning 'pgrst.db_pre_request is already %; left unchanged', configured_hook
      using hint = 'Call movement_profiles_internal.check_request() first thing in that function: '
                   'perform movement_profiles_internal.check_request();';
  end if;
end
$$;
notify pgrst, 'reload config';
