-- The catalogue adds functions to the component's API (rpc/movement_profile_catalogue and the
-- admin functions), and every request-time rule of the component applies to all of its paths. So
-- the check's path test now takes every function named movement_profile_*, as spelled or under
-- any spelling PostgREST routes there (component_path() decodes it), instead of the one function
-- there was. Nothing else in the rules changes; anon's refusal on the table names both functions
-- anon may call. The inlined hook (check_request) already hands every path containing
-- `movement_profile` or `%` to these rules.

create or replace function movement_profiles_internal.component_path(raw_path text)
returns text
language sql
immutable
set search_path = ''
as $$
  select case
    when decoded.segments = array['movement_profiles'::bytea] then '/movement_profiles'
    when pg_catalog.cardinality(decoded.segments) = 2
         and decoded.segments[1] = 'rpc'::bytea
         and pg_catalog.substr(decoded.segments[2], 1, 17) = 'movement_profile_'::bytea
      then '/rpc/' || pg_catalog.encode(decoded.segments[2], 'escape')
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
  'segment, as PostgREST routes it): /movement_profiles, /rpc/movement_profile_<name>, or null.';

create or replace function movement_profiles_internal.check_component_request()
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
  -- The component's paths: its table and every function it exposes, all named movement_profile_*
  -- (a prefix no host object shares). Only a path holding a percent escape is decoded.
  if request_path = '/movement_profiles' or request_path like '/rpc/movement\_profile\_%' then
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
        detail = 'Without a user''s token only the catalogue may be read: '
          || 'rpc/movement_profile_catalogue and rpc/movement_profile_options.',
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
comment on function movement_profiles_internal.check_component_request() is
  'The rules of movement_profiles_internal.check_request(), for the paths of movement-profiles '
  '(/movement_profiles and /rpc/movement_profile_*, under any spelling PostgREST routes there; '
  'null for any other path): 401 for an Authorization header other than the token PostgREST '
  'verified or not a JWT, a token not signed with HS256/ES256/RS256, anon on the table (as '
  '42501), a role that is not an API role, and an authenticated token without exp or expiring '
  'more than a week ahead, for an audience other than authenticated, or whose sub is missing, '
  'not a UUID, or not an existing user; 413 for a user''s body declared larger than 16,000 '
  'bytes. Limits anon''s and users'' statements to 250 ms.';
