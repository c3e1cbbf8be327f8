-- After installing movement-profiles: the project keeps its hook and calls the component's check
-- first, as the component's install guide says.
create or replace function gate.check_request() returns void
language plpgsql stable set search_path = '' as $$
begin
  perform movement_profiles_internal.check_request();
  if current_setting('request.headers', true)::json ->> 'x-blocked' = '1' then
    raise sqlstate 'PT403' using message = 'Blocked by the gatekeeper';
  end if;
end
$$;
