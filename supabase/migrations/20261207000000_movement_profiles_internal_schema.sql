-- movement-profiles is installed into Supabase projects that already have their own objects, so
-- everything of its own that the API must not expose lives in a schema named after it: no host
-- has a `movement_profiles_internal` schema, and the component never touches one it did not
-- create (a host's `private`, `internal` or `utils` keeps its grants). PostgREST does not expose
-- it (only `public` is in db-schemas), so nothing here has a URL.
--
-- Created without `if not exists`: should the name be taken after all, the install stops here
-- rather than adopting someone else's schema.
create schema movement_profiles_internal;
comment on schema movement_profiles_internal is
  'Helpers of movement-profiles that the API does not expose: validation, the timestamps trigger '
  'and the pre-request check.';

-- USAGE only lets a role name the schema's objects; each function below grants EXECUTE to exactly
-- the roles that call it. PUBLIC keeps USAGE because PostgREST runs the pre-request check as
-- whichever role a request's token names, and a host may have roles of its own.
grant usage on schema movement_profiles_internal to public;
