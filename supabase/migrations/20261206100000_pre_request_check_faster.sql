-- The pre-request check runs in every API request's transaction, so its cost is paid by every
-- request. This replaces its body with one that makes the same checks, in the same order of
-- precedence, with the same SQLSTATEs, messages, details and hints, for less database CPU:
-- about 41 -> 36 µs per request on PostgreSQL 15, 44 -> 39 on 17 (`make bench`, item 8, measures
-- it against the same transaction without the check; docs/benchmarks.md has the breakdown).
--
-- Measured (perf, and PostgreSQL CPU per transaction): in a new transaction PL/pgSQL initialises
-- every expression a function evaluates, looking up and permission-checking each function the
-- expression calls, before evaluating it; about a quarter of the check's cost. A call repeated
-- in one transaction costs 15-18 µs, a request's first call 40-46. So, fewer and cheaper
-- expressions:
--
-- - a signed-in user's request (the common case) now takes the first branch: one role test
--   instead of three, and the claims are parsed only on that branch (anon and the service role
--   never read them);
-- - request.headers (the whole header set, about 0.5 kB) is read as `json`, not `jsonb`: only one
--   field is wanted, and `json ->> 'authorization'` finds it without building and sorting a binary
--   copy of the object (both answer the last of duplicated keys). The same for the token's own
--   header, from which only `alg` is read;
-- - `left(header, 7) ilike 'bearer '` instead of `header ilike 'bearer %'`: ILIKE lowercases the
--   whole string first, here a token of a few hundred characters, to compare seven;
-- - the UUID test maps every hexadecimal digit to 0 and compares with the one string a UUID then
--   becomes, instead of a case-insensitive regular expression (same set of accepted strings:
--   [0-9a-fA-F] in the 8-4-4-4-12 pattern, nothing before or after);
-- - padding by `rpad` to the next multiple of four (one expression fewer than `|| repeat(...)`);
--   `exp` is read as a jsonb number (`-> 'exp'`) rather than as text parsed back to numeric; the
--   constants are written inline.
--
-- Kept on purpose: `set search_path = ''`. Dropping it made no difference measurable above the
-- noise, and every function of the project pins its search path (advisor lint 0011, pgTAP
-- 05_advisors). pre_request.auth_user_exists is unchanged: it answers from auth.users on every
-- call, so a deleted user's token is refused at once; nothing here caches it.
create or replace function pre_request.check_jwt_claims()
returns void
language plpgsql
stable
set search_path = ''
as $$
declare
  -- PostgREST has switched to the token's role: current_user is that role.
  request_role constant name := current_user;
  authorization_header constant text :=
    nullif(pg_catalog.current_setting('request.headers', true), '')::json ->> 'authorization';
  header_segment text;
  claims jsonb;
  subject text;
  request_path text;
begin
  -- PostgREST verifies the signature with the project's secret but accepts every HMAC variant
  -- of it. Supabase Auth signs with HS256, or ES256/RS256 with asymmetric signing keys. This
  -- comes first, for every role: a token with another algorithm is refused whatever it claims.
  if pg_catalog.left(authorization_header, 7) ilike 'bearer ' then
    header_segment := pg_catalog.translate(
      pg_catalog.split_part(pg_catalog.split_part(authorization_header, ' ', 2), '.', 1),
      '-_', '+/'
    );
    -- base64url without padding, as JWTs carry it: PostgreSQL's decoder wants the padding back.
    if (
      pg_catalog.convert_from(
        pg_catalog.decode(
          pg_catalog.rpad(header_segment, (pg_catalog.length(header_segment) + 3) / 4 * 4, '='),
          'base64'
        ),
        'UTF8'
      )::json ->> 'alg'
    ) in ('HS256', 'ES256', 'RS256') is not true then
      raise sqlstate 'PT401' using
        message = 'JWT algorithm is not accepted',
        detail = 'Tokens are signed with HS256, ES256 or RS256, as Supabase Auth signs them.',
        hint = 'Use a token issued by Supabase Auth, or the project''s anon or service key.';
    end if;
  end if;

  if request_role = 'authenticated' then
    claims := coalesce(
      nullif(pg_catalog.current_setting('request.jwt.claims', true), ''), '{}'
    )::jsonb;

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

    if not pre_request.auth_user_exists(subject::uuid) then
      raise sqlstate 'PT401' using
        message = 'JWT sub claim names no user',
        detail = 'The user this token was issued to does not exist (it may have been deleted).',
        hint = 'Sign in again.';
    end if;

    -- What this table's real queries need (one user's row, by index, in about a millisecond),
    -- with room to spare; see SECURITY.md, "Expensive filters".
    perform pg_catalog.set_config('statement_timeout', '250ms', true);
    return;
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
    perform pg_catalog.set_config('statement_timeout', '250ms', true);
    return;
  end if;

  raise sqlstate 'PT401' using
    message = 'JWT role is not an API role',
    detail = 'The role claim must be anon, authenticated or service_role.',
    hint = 'Use a token issued by Supabase Auth, or the project''s anon or service key.';
end
$$;
