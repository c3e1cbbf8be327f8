-- The allowed values for a movement profile, defined once. Enum types (rather than lists copied
-- into CHECKs) give one place to extend: `alter type ... add value` in a new migration widens every
-- check, `movement_profile_options()` and the generated frontend types at once. The names carry
-- the component's prefix: a host project may well have a `goal` type of its own.

create type public.movement_profile_training_preference as enum (
  'strength_training',
  'running',
  'yoga',
  'crossfit',
  'sports',
  'mixed'
);
comment on type public.movement_profile_training_preference is
  'Allowed entries of movement_profiles.training_preferences.';

create type public.movement_profile_goal as enum (
  'build_muscle',
  'lose_fat',
  'improve_endurance',
  'rehab',
  'general_health'
);
comment on type public.movement_profile_goal is 'Allowed entries of movement_profiles.goals.';

-- What a frontend builds its multi-selects from (POST /rest/v1/rpc/movement_profile_options).
create function public.movement_profile_options()
returns jsonb
language sql
stable
set search_path = ''
as $$
  select pg_catalog.jsonb_build_object(
    'training_preferences',
    pg_catalog.to_jsonb(pg_catalog.enum_range(null::public.movement_profile_training_preference)),
    'goals', pg_catalog.to_jsonb(pg_catalog.enum_range(null::public.movement_profile_goal))
  )
$$;
comment on function public.movement_profile_options() is
  'The allowed values of training_preferences and goals, in their defined order.';

-- Explicit, whatever default privileges the host has: signed out, signed in and the service role
-- all read the options, and nobody else needs to.
revoke all on function public.movement_profile_options() from public;
grant execute on function public.movement_profile_options() to anon, authenticated, service_role;
