-- One movement profile per user: the training preferences and goals that workout programs are
-- filtered and recommended by. JSONB arrays keep the story's wire format (["yoga", "running"]);
-- the columns' domains hold them to the enums.

create table public.movement_profiles (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid()
    constraint movement_profiles_user_id_key unique
    references auth.users (id) on delete cascade,
  training_preferences public.movement_profile_training_preference_list not null,
  goals public.movement_profile_goal_list not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

comment on table public.movement_profiles is
  'Each user''s training preferences and goals, used to filter and recommend workout programs. '
  'One row per user; users read, create and update only their own row.';
comment on column public.movement_profiles.id is 'Primary key of the profile.';
comment on column public.movement_profiles.user_id is
  'The auth user this profile belongs to (defaults to the caller); one profile per user.';
comment on column public.movement_profiles.training_preferences is
  'JSON array of distinct movement_profile_training_preference values, at least one, e.g. '
  '["strength_training", "yoga"].';
comment on column public.movement_profiles.goals is
  'JSON array of distinct movement_profile_goal values, at least one, e.g. '
  '["build_muscle", "rehab"].';
comment on column public.movement_profiles.created_at is 'When the profile was created; never changes.';
comment on column public.movement_profiles.updated_at is
  'When the profile was last written; set by trigger, usable for optimistic concurrency.';

-- For "profiles that include X" (@>) on a value few profiles hold, and for counts: with values
-- as common as the built-in ones, the planner rightly prefers the user_id index for a page of the
-- list (docs/decisions/gin-indexes.md). jsonb_path_ops: smaller than the default opclass, and
-- @> is the only operator the API filters these columns with.
create index movement_profiles_training_preferences_idx
  on public.movement_profiles using gin (training_preferences jsonb_path_ops);
create index movement_profiles_goals_idx
  on public.movement_profiles using gin (goals jsonb_path_ops);

-- updated_at is the optimistic-concurrency token and created_at must not move, for every writer
-- (service_role included): only a trigger can hold both. Inserts take both from their defaults.
create function movement_profiles_internal.movement_profiles_before_update()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.created_at := old.created_at;
  -- Wall-clock time, and strictly later than before: two writes in one transaction (now() is
  -- fixed there) must still give different tokens.
  new.updated_at := greatest(pg_catalog.clock_timestamp(), old.updated_at + interval '1 microsecond');
  return new;
end
$$;
comment on function movement_profiles_internal.movement_profiles_before_update() is
  'Before update on movement_profiles: keeps created_at and sets updated_at.';
-- PostgreSQL checks EXECUTE on a trigger function when the trigger is created, never when it
-- fires: the writers need no grant, and nobody may call it directly.
revoke all on function movement_profiles_internal.movement_profiles_before_update() from public;

create trigger movement_profiles_before_update
  before update on public.movement_profiles
  for each row execute function movement_profiles_internal.movement_profiles_before_update();
