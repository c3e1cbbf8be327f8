-- The project's own pre-request hook: requests a proxy marked `x-blocked: 1` are refused.
create schema gate;
grant usage on schema gate to anon, authenticated, service_role;

create function gate.check_request() returns void
language plpgsql stable set search_path = '' as $$
begin
  if current_setting('request.headers', true)::json ->> 'x-blocked' = '1' then
    raise sqlstate 'PT403' using message = 'Blocked by the gatekeeper';
  end if;
end
$$;
grant execute on function gate.check_request() to anon, authenticated, service_role;

alter role authenticator set pgrst.db_pre_request = 'gate.check_request';
notify pgrst, 'reload config';
