-- Supabase's advisors (splinter lint 0029) warn about every SECURITY DEFINER function that the
-- `authenticated` role may execute, in an exposed schema or not. The pre-request check only needs
-- to know whether one id exists in auth.users, so `authenticated` gets exactly that: select on the
-- `id` column. PostgREST never exposes schema `auth` (it is not in db-schemas), so no API call can
-- read it; the function now runs with the caller's rights.

grant select (id) on table auth.users to authenticated;

create or replace function pre_request.auth_user_exists(user_id uuid)
returns boolean
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  -- Where the grant above did not take (a platform that keeps auth.users to itself), answer
  -- "exists" rather than refuse every request: the foreign key still rejects writes for an
  -- unknown user, and reads find no row.
  if not pg_catalog.has_column_privilege('auth.users', 'id', 'SELECT') then
    return true;
  end if;
  return exists (select from auth.users where users.id = auth_user_exists.user_id);
end
$$;
comment on function pre_request.auth_user_exists(uuid) is
  'Whether an auth user with this id exists; the caller needs select on auth.users(id).';
