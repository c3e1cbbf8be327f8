-- A correctly signed JWT can still carry claims no session of Supabase Auth ever has: no `exp`,
-- no `sub`, a `sub` that is not a UUID, the id of a user that does not exist (or was deleted while
-- its token lives on), or a role other than the three API roles. Out of the box PostgREST 12 lets
-- such a token through: an `authenticated` token without `sub` reads an empty table and fails its
-- insert with an RLS error, a non-UUID `sub` fails inside auth.uid() with 22P02 (400), a deleted
-- user's insert fails on the foreign key (409). Each is an authentication failure and should say
-- so: 401.
--
-- PostgREST runs its `db-pre-request` function in every request's transaction, right after it
-- switched to the token's role. Raising SQLSTATE PTxyz there makes PostgREST answer HTTP xyz
-- with the message, details and hint as its usual JSON error, before any table is touched.
--
-- Two tokens are beyond reach here: a role authenticator may not switch to (`postgres`: 403
-- "permission denied to set role") and a role that does not exist (400, SQLSTATE 22023). Both fail
-- in PostgREST's `set role`, before this function runs; neither reads or writes anything.

-- A schema of its own: every API role, anon included, must be able to run the check, and
-- schema `private` stays closed to anon. PostgREST does not expose it (only `public` is in its
-- db-schemas), so nothing here is reachable at /rest/v1/rpc.
create schema pre_request;
comment on schema pre_request is
  'The check PostgREST runs before every API request (db-pre-request); not exposed by the API.';
revoke all on schema pre_request from public;
grant usage on schema pre_request to anon, authenticated, service_role, authenticator;

-- auth.users belongs to Supabase Auth and has row level security on with no policies: the API
-- roles see no row of it, whatever they are granted. So this lookup runs as its owner, `postgres`,
-- which bypasses RLS: security definer, `search_path = ''`, in the unexposed schema above, and
-- executable by `authenticated` alone (the only role whose tokens name a user). It answers one
-- yes/no question for one id and returns nothing else of the table.
-- PL/pgSQL rather than SQL: a security definer SQL function is never inlined, and PostgreSQL plans
-- its query anew on every call, while PL/pgSQL keeps the plan for the session. This runs on every
-- authenticated request.
create function pre_request.auth_user_exists(user_id uuid)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return exists (select from auth.users where users.id = auth_user_exists.user_id);
end
$$;
comment on function pre_request.auth_user_exists(uuid) is
  'Whether an auth user with this id exists. Security definer: auth.users is under row level '
  'security that the API roles do not pass.';
revoke all on function pre_request.auth_user_exists(uuid) from public;
grant execute on function pre_request.auth_user_exists(uuid) to authenticated;

create function pre_request.check_jwt_claims()
returns void
language plpgsql
stable
set search_path = ''
as $$
declare
  -- PostgREST has switched to the token's role: current_user is that role.
  request_role constant text := current_user;
  claims constant jsonb :=
    coalesce(nullif(pg_catalog.current_setting('request.jwt.claims', true), ''), '{}')::jsonb;
  subject constant text := claims ->> 'sub';
  authorization_header constant text :=
    nullif(pg_catalog.current_setting('request.headers', true), '')::jsonb ->> 'authorization';
  -- Supabase Auth's longest session: its JWT expiry can be set to at most one week.
  longest_token_life constant numeric := 7 * 24 * 3600;
  -- What this table's real queries need (one user's row, by index, in about a millisecond),
  -- with room to spare. The platform's own limits (anon 3 s, authenticated 8 s) would let one
  -- costly filter hold a pooled connection for seconds; see SECURITY.md, "Expensive filters".
  request_time_limit constant text := '250ms';
  header_segment text;
  algorithm text;
  request_path text;
begin
  -- PostgREST verifies the signature with the project's secret but accepts every HMAC variant
  -- of it. Supabase Auth signs with HS256, or ES256/RS256 with asymmetric signing keys.
  if authorization_header ilike 'bearer %' then
    header_segment := pg_catalog.translate(
      pg_catalog.split_part(pg_catalog.split_part(authorization_header, ' ', 2), '.', 1),
      '-_', '+/'
    );
    algorithm := pg_catalog.convert_from(
      pg_catalog.decode(
        header_segment || pg_catalog.repeat('=', (4 - pg_catalog.length(header_segment) % 4) % 4),
        'base64'
      ),
      'UTF8'
    )::jsonb ->> 'alg';
    if algorithm is null or algorithm not in ('HS256', 'ES256', 'RS256') then
      raise sqlstate 'PT401' using
        message = 'JWT algorithm is not accepted',
        detail = 'Tokens are signed with HS256, ES256 or RS256, as Supabase Auth signs them.',
        hint = 'Use a token issued by Supabase Auth, or the project''s anon or service key.';
    end if;
  end if;

  if request_role = 'service_role' then
    return;
  end if;

  -- anon may read the allowed values and nothing else. Refusing here, before PostgREST plans
  -- the request's own query, matters: PostgreSQL compiles a filter's regular expression while
  -- planning, before any privilege or row level security check, so a costly pattern would hold
  -- a connection even on a table anon may not read.
  -- The answer is the one anon got before: 42501, which PostgREST sends as 401 to anon.
  if request_role = 'anon' then
    request_path := pg_catalog.current_setting('request.path', true);
    if request_path not in ('/', '/rpc/movement_profile_options') then
      raise sqlstate '42501' using
        message = case
          when request_path ~ '^/[A-Za-z_][A-Za-z0-9_]*$'
            then 'permission denied for table ' || pg_catalog.ltrim(request_path, '/')
          else 'permission denied for ' || request_path
        end,
        detail = 'Without a user''s token only rpc/movement_profile_options may be called.',
        hint = 'Send the user''s access token in the Authorization header.';
    end if;
    perform pg_catalog.set_config('statement_timeout', request_time_limit, true);
    return;
  end if;

  if request_role <> 'authenticated' then
    raise sqlstate 'PT401' using
      message = 'JWT role is not an API role',
      detail = 'The role claim must be anon, authenticated or service_role.',
      hint = 'Use a token issued by Supabase Auth, or the project''s anon or service key.';
  end if;

  -- Supabase Auth always sets exp, at most a week ahead; a session token that never expires (or
  -- not for years) was not issued by it.
  if pg_catalog.jsonb_typeof(claims -> 'exp') is distinct from 'number' then
    raise sqlstate 'PT401' using
      message = 'JWT has no exp claim',
      detail = 'An authenticated token must expire.',
      hint = 'Use a token issued by Supabase Auth.';
  end if;
  if (claims ->> 'exp')::numeric
     > extract(epoch from pg_catalog.now()) + longest_token_life then
    raise sqlstate 'PT401' using
      message = 'JWT expires too far in the future',
      detail = 'An authenticated token may live at most one week, as Supabase Auth issues them.',
      hint = 'Use a token issued by Supabase Auth.';
  end if;

  -- Supabase Auth's user tokens are for the audience `authenticated`; a token for another
  -- audience (another service signed with the same secret) is not a session here. A token
  -- without aud is let through, as PostgREST does (SECURITY.md, "Known limits").
  if claims ? 'aud' and not coalesce(
    claims -> 'aud' = '"authenticated"' or claims -> 'aud' @> '["authenticated"]', false
  ) then
    raise sqlstate 'PT401' using
      message = 'JWT audience is not authenticated',
      detail = 'The aud claim of a user''s token must be "authenticated".',
      hint = 'Use a token issued by Supabase Auth.';
  end if;

  if subject is null then
    raise sqlstate 'PT401' using
      message = 'JWT has no sub claim',
      detail = 'An authenticated token must name its user in the sub claim.',
      hint = 'Use a token issued by Supabase Auth.';
  end if;

  -- Checked before the cast: a failed uuid cast would surface as 22P02, a 400.
  if subject !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    raise sqlstate 'PT401' using
      message = 'JWT sub claim is not a UUID',
      detail = 'The sub claim of an authenticated token must be a user id (a UUID).',
      hint = 'Use a token issued by Supabase Auth.';
  end if;

  if not pre_request.auth_user_exists(subject::uuid) then
    raise sqlstate 'PT401' using
      message = 'JWT sub claim names no user',
      detail = 'The user this token was issued to does not exist (it may have been deleted).',
      hint = 'Sign in again.';
  end if;

  perform pg_catalog.set_config('statement_timeout', request_time_limit, true);
end
$$;
comment on function pre_request.check_jwt_claims() is
  'PostgREST db-pre-request: answers 401 for a token not signed with HS256/ES256/RS256, for anon '
  'outside rpc/movement_profile_options (as 42501), for a role that is not an API role, and for an '
  'authenticated token without exp or expiring more than a week ahead, for an audience other '
  'than authenticated, or whose sub is missing, not a UUID, or not an existing user. Limits '
  'anon''s and users'' statements to 250 ms.';
revoke all on function pre_request.check_jwt_claims() from public;
grant execute on function pre_request.check_jwt_claims()
  to anon, authenticated, service_role, authenticator;

-- PostgREST reads its in-database settings from the authenticator role (db-config, on by default)
-- and rereads them on the notification below. A project has one pre-request hook: if it already
-- has another, replacing it would silently drop that project's own checks, so the setting is left
-- alone and the migration says how to call this check from the existing hook (README, "Deploying").
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

  if configured_hook is null or configured_hook = 'pre_request.check_jwt_claims' then
    alter role authenticator set pgrst.db_pre_request = 'pre_request.check_jwt_claims';
  else
    raise warning 'pgrst.db_pre_request is already %; left unchanged', configured_hook
      using hint = 'Call pre_request.check_jwt_claims() first thing in that function, '
                   'then grant execute on it to anon, authenticated and service_role.';
  end if;
end
$$;
notify pgrst, 'reload config';
