-- The pre-request hook runs in every request of the host project, so on the host's paths it must
-- cost next to nothing beyond the statement PostgREST sends for any hook. A PL/pgSQL function
-- pays for its call and its per-transaction setup before its first line runs. PostgREST sends the
-- hook's call as a prepared statement, planned once per connection, and a `language sql` function
-- of one expression is inlined into that plan: per request it then costs the setting reads and
-- comparisons it holds. So check_request() becomes that expression, and the rules it applied move,
-- unchanged, to check_component_request(), which it calls only for a raw path that can be the
-- component's (one of its two paths as spelled, or any path with a percent escape, which
-- check_component_request() decodes as PostgREST routes it).
--
-- Inlining rules out `set search_path`, so every name, type and operator below is
-- schema-qualified: there is nothing a caller's search path could shadow. The hook's setting
-- (pgrst.db_pre_request = movement_profiles_internal.check_request) and a host's chained call
-- keep the name.
alter function movement_profiles_internal.check_request()
  rename to check_component_request;
comment on function movement_profiles_internal.check_component_request() is
  'The rules of movement_profiles_internal.check_request(), for the paths of movement-profiles '
  '(/movement_profiles and /rpc/movement_profile_options, under any spelling PostgREST routes '
  'there; null for any other path): 401 for an Authorization header other than the token '
  'PostgREST verified or not a JWT, a token not signed with HS256/ES256/RS256, anon on the table '
  '(as 42501), a role that is not an API role, and an authenticated token without exp or '
  'expiring more than a week ahead, for an audience other than authenticated, or whose sub is '
  'missing, not a UUID, or not an existing user; 413 for a user''s body declared larger than '
  '16,000 bytes. Limits anon''s and users'' statements to 250 ms.';

create function movement_profiles_internal.check_request()
returns void
language sql
stable
as $$
  select case
    when pg_catalog.current_setting('request.path', true) operator(pg_catalog.=) any (
           '{/movement_profiles,/rpc/movement_profile_options}'::pg_catalog.text[]
         )
      or pg_catalog.strpos(pg_catalog.current_setting('request.path', true), '%')
           operator(pg_catalog.>) 0
    then movement_profiles_internal.check_component_request()
  end
$$;
comment on function movement_profiles_internal.check_request() is
  'PostgREST db-pre-request of movement-profiles: applies check_component_request() to the '
  'requests PostgREST serves from /movement_profiles and /rpc/movement_profile_options; every '
  'other path returns at once. A host with a hook of its own calls it first thing from that hook.';
-- Executable by every role PostgREST may run the hook as (any role a token names, the host's
-- included), as check_component_request() is, which the inlined expression calls as that role.
revoke all on function movement_profiles_internal.check_request() from public;
grant execute on function movement_profiles_internal.check_request() to public;
