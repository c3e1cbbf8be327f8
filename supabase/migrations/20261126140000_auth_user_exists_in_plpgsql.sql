-- PostgREST calls pre_request.check_jwt_claims() on every API request, and it asks
-- pre_request.auth_user_exists() once per authenticated request. As `language sql` with
-- `security definer` that function cannot be inlined, and PostgreSQL 15 plans a non-inlined SQL
-- function's query anew on every call: `make bench` measured the whole check at ~60 µs of
-- database CPU per request, ~35 µs of it in this lookup. PL/pgSQL keeps the plan of its query
-- for the session, which brings the check to ~27 µs (bench/README.md, "Findings and fixes").
-- Same signature, answer, privileges and settings; only the language changes.

create or replace function pre_request.auth_user_exists(user_id uuid)
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
  'Whether an auth user with this id exists. Security definer: the API roles cannot read auth.users.';
