-- Who may do what. Row-level security ties each row to auth.uid(); column grants keep id, user_id
-- and the timestamps out of reach of the API roles. `(select auth.uid())` is evaluated once per
-- statement (an init plan) instead of once per row.

alter table public.movement_profiles enable row level security;

create policy "Users can read their own movement profile"
  on public.movement_profiles for select
  to authenticated
  using ((select auth.uid()) = user_id);

create policy "Users can create their own movement profile"
  on public.movement_profiles for insert
  to authenticated
  with check ((select auth.uid()) = user_id);

create policy "Users can update their own movement profile"
  on public.movement_profiles for update
  to authenticated
  using ((select auth.uid()) = user_id)
  with check ((select auth.uid()) = user_id);

-- No delete policy: a profile goes away with its auth user (on delete cascade) or by service_role.

-- Whatever the host's default privileges gave (Supabase's grant the API roles everything, which
-- would void column grants; a host may have revoked them), the table's grants are exactly these.
revoke all on table public.movement_profiles from public, anon, authenticated, service_role;
grant select on table public.movement_profiles to authenticated;
grant insert (user_id, training_preferences, goals) on table public.movement_profiles to authenticated;
grant update (training_preferences, goals) on table public.movement_profiles to authenticated;
grant all on table public.movement_profiles to service_role;
