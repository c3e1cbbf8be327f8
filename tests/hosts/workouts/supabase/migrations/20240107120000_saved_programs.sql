-- Users sign in with a third-party provider (Clerk): their `sub` is the provider's id, not a
-- UUID, and they have no row in auth.users.
create table public.saved_programs (
  owner_id text not null default (auth.jwt() ->> 'sub'),
  program_id bigint not null references public.workout_programs,
  primary key (owner_id, program_id)
);
alter table public.saved_programs enable row level security;
create policy "Owners read their saved programs" on public.saved_programs
  for select to authenticated using (owner_id = (select auth.jwt() ->> 'sub'));
create policy "Owners save programs" on public.saved_programs
  for insert to authenticated with check (owner_id = (select auth.jwt() ->> 'sub'));
