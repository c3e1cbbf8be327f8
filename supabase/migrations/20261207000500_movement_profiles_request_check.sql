-- The request-time rules of movement-profiles, for the requests PostgREST serves from its own
-- table and function, and for those alone.
--
-- A correctly signed JWT can still carry claims no session of Supabase Auth ever has: no `exp`,
-- no `sub`, a `sub` that is not a UUID, the id of a user that does not exist (or was deleted while
-- its token lives on), or a role other than the three API roles. Out of the box PostgREST 12 lets
-- such a token through: on movement_profiles an `authenticated` token without `sub` reads an empty
-- table and fails its insert with an RLS error, a non-UUID `sub` fails inside auth.uid() with
-- 22P02 (400), a deleted user's insert fails on the foreign key (409). Each is an authentication
-- failure there and should say so: 401.
--
-- PostgREST runs its `db-pre-request` function in every request's transaction, right after it
-- switched to the token's role. Raising SQLSTATE PTxyz there makes PostgREST answer HTTP xyz
-- with the message, details and hint as its usual JSON error, before any table is touched.
--
-- The hook is project-wide, and the project is someone else's: its public catalogue is read by
-- anon, its reports run for seconds, its third-party-auth users carry a `sub` that is no UUID and
-- have no row in auth.users. None of that is this component's to judge, so on every path that is
-- not its own the check returns before reading anything but the path.
--
-- Two tokens are beyond reach here: a role authenticator may not switch to (`postgres`: 403
-- "permission denied to set role") and a role that does not exist (400, SQLSTATE 22023). Both fail
-- in PostgREST's `set role`, before this function runs; neither reads or writes anything.

-- auth.users belongs to Supabase Auth and has row level security on with no policies: the API
-- roles see no row of it, whatever they are granted. So this lookup runs as its owner, `postgres`,
-- which bypasses RLS: security definer, `search_path = ''`, in the unexposed schema, and
-- executable by `authenticated` alone (the only role whose tokens name a user). It answers one
-- yes/no question for one id and returns nothing else of the table. It answers from auth.users on
-- every call, so a deleted user's token is refused at once; nothing caches it.
-- PL/pgSQL rather than SQL: a security definer SQL function is never inlined, and PostgreSQL plans
-- its query anew on every call, while PL/pgSQL keeps the plan for the session.
create function movement_profiles_internal.auth_user_exists(user_id uuid)
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
comment on function movement_profiles_internal.auth_user_exists(uuid) is
  'Whether an auth user with this id exists. Security definer: auth.users is under row level '
  'security that the API roles do not pass.';
revoke all on function movement_profiles_internal.auth_user_exists(uuid) from public;
grant execute on function movement_profiles_internal.auth_user_exists(uuid) to authenticated;

-- Which of the component's paths PostgREST serves for a request path, decoded as PostgREST
-- decodes it: `request.path` holds the raw path, and PostgREST (WAI's pathInfo) drops one
-- leading `/`, splits the rest on `/` and percent-decodes each segment on its own, so
-- `/movement%5Fprofiles` is the table and `/rpc%2Fmovement_profile_options` is no path of ours
-- (one segment holding a slash). An escape that is not `%` and two hexadecimal digits stays as it
-- is. Compared as bytes: a segment that is not valid UTF-8 after decoding can equal no name here.
-- Null for every other path.
create function movement_profiles_internal.component_path(raw_path text)
returns text
language sql
immutable
set search_path = ''
as $$
  select case decoded.segments
    when array['movement_profiles'::bytea] then '/movement_profiles'
    when array['rpc'::bytea, 'movement_profile_options'::bytea] then '/rpc/movement_profile_options'
  end
  from (
    select pg_catalog.array_agg(
      coalesce(
        (
          select pg_catalog.string_agg(
            case
              when piece.value ~ '^%[0-9A-Fa-f]{2}$'
                then pg_catalog.decode(pg_catalog.substr(piece.value, 2), 'hex')
              else pg_catalog.convert_to(piece.value, 'UTF8')
            end,
            ''::bytea order by piece.position
          )
          from pg_catalog.regexp_matches(segment.value, '%[0-9A-Fa-f]{2}|[^%]+|%', 'g')
            with ordinality as match (parts, position)
          cross join lateral (select match.parts[1], match.position) as piece (value, position)
        ),
        ''::bytea
      )
      order by segment.position
    ) as segments
    from pg_catalog.unnest(
      pg_catalog.string_to_array(
        case when pg_catalog.left(raw_path, 1) = '/' then pg_catalog.substr(raw_path, 2)
             else raw_path end,
        '/'
      )
    ) with ordinality as segment (value, position)
  ) as decoded
$$;
comment on function movement_profiles_internal.component_path(text) is
  'The movement-profiles path PostgREST serves for a raw request path (percent-decoded per '
  'segment, as PostgREST routes it): /movement_profiles, /rpc/movement_profile_options or null.';
revoke all on function movement_profiles_internal.component_path(text) from public;
grant execute on function movement_profiles_internal.component_path(text) to public;

create function movement_profiles_internal.check_request()
returns void
language plpgsql
stable
set search_path = ''
as $$
declare
  request_path text := pg_catalog.current_setting('request.path', true);
  -- PostgREST has switched to the token's role: current_user is that role.
  request_role name;
  claims jsonb;
  authorization_header text;
  token text;
  token_header text;
  token_claims jsonb;
  algorithm text;
  subject text;
  content_length text;
begin
  -- Every request of the host project runs this, so a path that is not the component's (the
  -- common case) costs a setting read and two comparisons; only a path holding a percent escape
  -- is decoded.
  if request_path in ('/movement_profiles', '/rpc/movement_profile_options') then
    null;
  elsif pg_catalog.strpos(request_path, '%') > 0 then
    request_path := movement_profiles_internal.component_path(request_path);
    if request_path is null then
      return;
    end if;
  else
    return;
  end if;

  request_role := current_user;
  claims := coalesce(
    nullif(pg_catalog.current_setting('request.jwt.claims', true), ''), '{}'
  )::jsonb;
  -- PostgREST verifies the token of the FIRST Authorization header, but builds request.headers
  -- as a map that keeps the LAST value of a repeated header. So what is visible here is checked
  -- against what PostgREST verified, whose claims are request.jwt.claims (the token's payload
  -- with `role` set to the role it switched to).
  authorization_header :=
    nullif(pg_catalog.current_setting('request.headers', true), '')::json ->> 'authorization';
  -- The token as PostgREST takes it from the header (wai-extra's extractBearerAuth): the scheme
  -- is what comes before the first white space, "bearer" in any case; the token is the rest,
  -- leading white space dropped. An empty token is no token.
  if pg_catalog.left(authorization_header, 6) ilike 'bearer'
     and pg_catalog.strpos(E' \t\n\r\f\x0b', pg_catalog.substr(authorization_header, 7, 1)) > 0
  then
    token := nullif(
      pg_catalog.ltrim(pg_catalog.substr(authorization_header, 7), E' \t\n\r\f\x0b'), ''
    );
  end if;

  if token is null then
    if claims - 'role' <> '{}' then
      raise sqlstate 'PT401' using
        message = 'Authorization header is ambiguous',
        detail = 'The token PostgREST verified is not the one in the last Authorization header.',
        hint = 'Send exactly one Authorization header.';
    end if;
  else
    begin
      -- base64url without padding, as JWTs carry it: PostgreSQL's decoder wants the padding
      -- back.
      token_header := pg_catalog.convert_from(
        pg_catalog.decode(
          pg_catalog.rpad(
            pg_catalog.translate(pg_catalog.split_part(token, '.', 1), '-_', '+/'),
            (pg_catalog.length(pg_catalog.split_part(token, '.', 1)) + 3) / 4 * 4, '='
          ),
          'base64'
        ),
        'UTF8'
      );
      token_claims := pg_catalog.convert_from(
        pg_catalog.decode(
          pg_catalog.rpad(
            pg_catalog.translate(pg_catalog.split_part(token, '.', 2), '-_', '+/'),
            (pg_catalog.length(pg_catalog.split_part(token, '.', 2)) + 3) / 4 * 4, '='
          ),
          'base64'
        ),
        'UTF8'
      )::jsonb - 'role';
      algorithm := token_header::json ->> 'alg';
    exception when data_exception then
      raise sqlstate 'PT401' using
        message = 'Authorization header is malformed',
        detail = 'The bearer token is not a JWT with a JSON header and payload.',
        hint = 'Send "Authorization: Bearer <token>" with a token issued by Supabase Auth.';
    end;

    if token_claims is distinct from claims - 'role' then
      raise sqlstate 'PT401' using
        message = 'Authorization header is ambiguous',
        detail = 'The token PostgREST verified is not the one in the last Authorization header.',
        hint = 'Send exactly one Authorization header.';
    end if;

    -- PostgREST verifies the signature with the project's secret but accepts every HMAC variant
    -- of it. Supabase Auth signs with HS256, or ES256/RS256 with asymmetric signing keys. A header
    -- naming `alg` twice is refused: PostgREST reads the first, PostgreSQL's JSON the last. Without
    -- a backslash (Supabase Auth writes none) a key can be spelled only one way, so counting that
    -- spelling counts the keys; the string "alg" as a value is refused too, which no issuer writes.
    if pg_catalog.strpos(token_header, '\') > 0
       or pg_catalog.length(token_header)
          - pg_catalog.length(pg_catalog.replace(token_header, '"alg"', '')) <> 5
       or algorithm not in ('HS256', 'ES256', 'RS256')
       or algorithm is null then
      raise sqlstate 'PT401' using
        message = 'JWT algorithm is not accepted',
        detail = 'Tokens are signed with HS256, ES256 or RS256, as Supabase Auth signs them.',
        hint = 'Use a token issued by Supabase Auth, or the project''s anon or service key.';
    end if;
  end if;

  if request_role = 'authenticated' then
    -- Supabase Auth always sets exp, at most a week (604,800 s) ahead; a session token that
    -- never expires (or not for years) was not issued by it.
    if pg_catalog.jsonb_typeof(claims -> 'exp') is distinct from 'number' then
      raise sqlstate 'PT401' using
        message = 'JWT has no exp claim',
        detail = 'An authenticated token must expire.',
        hint = 'Use a token issued by Supabase Auth.';
    end if;
    if (claims -> 'exp')::numeric > extract(epoch from pg_catalog.now()) + 604800 then
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

    subject := claims ->> 'sub';
    if subject is null then
      raise sqlstate 'PT401' using
        message = 'JWT has no sub claim',
        detail = 'An authenticated token must name its user in the sub claim.',
        hint = 'Use a token issued by Supabase Auth.';
    end if;

    -- Checked before the cast: a failed uuid cast would surface as 22P02, a 400. Every
    -- hexadecimal digit becomes 0; any other character stays itself, so only the 8-4-4-4-12
    -- pattern of hexadecimal digits gives this string.
    if pg_catalog.translate(subject, '0123456789abcdefABCDEF', '0000000000000000000000')
       <> '00000000-0000-0000-0000-000000000000' then
      raise sqlstate 'PT401' using
        message = 'JWT sub claim is not a UUID',
        detail = 'The sub claim of an authenticated token must be a user id (a UUID).',
        hint = 'Use a token issued by Supabase Auth.';
    end if;

    if not movement_profiles_internal.auth_user_exists(subject::uuid) then
      raise sqlstate 'PT401' using
        message = 'JWT sub claim names no user',
        detail = 'The user this token was issued to does not exist (it may have been deleted).',
        hint = 'Sign in again.';
    end if;

    -- A user writes one profile, well under a kilobyte. PostgREST hands the database the whole
    -- body as one parameter of the request's query, which PostgreSQL parses before any CHECK can
    -- refuse it (about 20 ms of CPU for a megabyte): a body larger than a profile can be is
    -- refused on its declared length first. The service role's bulk upserts are not limited here.
    content_length := nullif(pg_catalog.current_setting('request.headers', true), '')::json
      ->> 'content-length';
    if content_length ~ '^[0-9]+$' and content_length::numeric > 16000 then
      raise sqlstate 'PT413' using
        message = 'Request body too large for a movement profile (limit 16,000 bytes)',
        detail = 'A user''s request writes one profile; bulk writes are for the service role.',
        hint = 'Send one profile per request.';
    end if;

    -- What this table's real queries need (one user's row, by index, in about a millisecond),
    -- with room to spare. The platform's own limits (anon 3 s, authenticated 8 s) would let one
    -- costly filter hold a pooled connection for seconds; see SECURITY.md, "Expensive filters".
    perform pg_catalog.set_config('statement_timeout', '250ms', true);
    return;
  end if;

  if request_role = 'service_role' then
    return;
  end if;

  -- anon may read the allowed values, not the table. Refusing here, before PostgREST plans the
  -- request's own query, matters: PostgreSQL compiles a filter's regular expression while
  -- planning, before any privilege or row level security check, so a costly pattern would hold
  -- a connection even on a table anon may not read. The answer is the one anon gets from the
  -- table's privileges: 42501, which PostgREST sends as 401 to anon.
  if request_role = 'anon' then
    if request_path = '/movement_profiles' then
      raise sqlstate '42501' using
        message = 'permission denied for table movement_profiles',
        detail = 'Without a user''s token only rpc/movement_profile_options may be called.',
        hint = 'Send the user''s access token in the Authorization header.';
    end if;
    perform pg_catalog.set_config('statement_timeout', '250ms', true);
    return;
  end if;

  raise sqlstate 'PT401' using
    message = 'JWT role is not an API role',
    detail = 'The role claim must be anon, authenticated or service_role.',
    hint = 'Use a token issued by Supabase Auth, or the project''s anon or service key.';
end
$$;
comment on function movement_profiles_internal.check_request() is
  'PostgREST db-pre-request, for the paths of movement-profiles only (/movement_profiles and '
  '/rpc/movement_profile_options, under any spelling PostgREST routes there); every other path '
  'returns at once. On those paths: 401 for an Authorization header other than the token '
  'PostgREST verified or not a JWT, a token not signed with HS256/ES256/RS256, anon on the table '
  '(as 42501), a role that is not an API role, and an authenticated token without exp or '
  'expiring more than a week ahead, for an audience other than authenticated, or whose sub is '
  'missing, not a UUID, or not an existing user; 413 for a user''s body declared larger than '
  '16,000 bytes. Limits anon''s and users'' statements to 250 ms.';
-- PostgREST runs the hook as whatever role the request's token names: the API roles, and any role
-- of the host's that authenticator may become. Every one of them must be able to run it, or the
-- host's own requests fail; it reads only the request's settings and refuses only on the
-- component's paths.
revoke all on function movement_profiles_internal.check_request() from public;
grant execute on function movement_profiles_internal.check_request() to public;
