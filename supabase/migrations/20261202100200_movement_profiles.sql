-- One movement profile per user: the training preferences and goals that workout programs are
-- filtered and recommended by. JSONB arrays keep the story's wire format (["yoga", "running"]);
-- the CHECKs hold them to the enums public.training_preference and public.goal.

create table public.movement_profiles (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid()
    constraint movement_profiles_user_id_key unique
    references auth.users (id) on delete cascade,
  training_preferences jsonb not null
    constraint movement_profiles_training_preferences_check check (
      private.assert_option_array(
        'training_preferences',
        training_preferences,
        pg_catalog.enum_range(null::public.training_preference)::text[]
      )
    ),
  goals jsonb not null
    constraint movement_profiles_goals_check check (
      private.assert_option_array('goals', goals, pg_catalog.enum_range(null::public.goal)::text[])
    ),
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
  'JSON array of distinct training_preference values, at least one, e.g. ["strength_training", "yoga"].';
comment on column public.movement_profiles.goals is
  'JSON array of distinct goal values, at least one, e.g. ["build_muscle", "rehab"].';
comment on column public.movement_profiles.created_at is 'When the profile was created; never changes.';
comment on column public.movement_profiles.updated_at is
  'When the profile was last written; set by trigger, usable for optimistic concurrency.';

-- "Profiles that include yoga and rehab" (@>) stays an index scan at millions of rows.
-- jsonb_path_ops: smaller and faster than the default opclass, and @> is the only operator used.
create index movement_profiles_training_preferences_idx
  on public.movement_profiles using gin (training_preferences jsonb_path_ops);
create index movement_profiles_goals_idx
  on public.movement_profiles using gin (goals jsonb_path_ops);

-- Constraints run after BEFORE triggers, so this is the one place that can keep timestamps honest
-- for every writer (service_role included) and give a missing array the same 23514 + hint as any
-- other invalid value, instead of a bare not-null violation.
create function private.movement_profiles_before_write()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.training_preferences is null then
    perform private.assert_option_array(
      'training_preferences', null, pg_catalog.enum_range(null::public.training_preference)::text[]
    );
  end if;
  if new.goals is null then
    perform private.assert_option_array('goals', null, pg_catalog.enum_range(null::public.goal)::text[]);
  end if;
  if tg_op = 'UPDATE' then
    new.created_at := old.created_at;
    -- Wall-clock time, and strictly later than before: updated_at is the optimistic-concurrency
    -- token, so two writes in one transaction (now() is fixed there) must still differ.
    new.updated_at := greatest(pg_catalog.clock_timestamp(), old.updated_at + interval '1 microsecond');
  end if;
  return new;
end
$$;
comment on function private.movement_profiles_before_write() is
  'Before insert or update on movement_profiles: rejects missing arrays with a field-named 23514, '
  'keeps created_at and sets updated_at.';

create trigger movement_profiles_before_write
  before insert or update on public.movement_profiles
  for each row execute function private.movement_profiles_before_write();
