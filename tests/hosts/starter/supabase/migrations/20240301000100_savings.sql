-- Short, common names of the project's own: a `goal` type and a `private` schema with its grants.
create type public.goal as enum ('save', 'invest', 'retire');

create schema private;
grant usage on schema private to authenticated, service_role;

create function private.owns(owner uuid) returns boolean
language sql stable security definer set search_path = '' as $$
  select owner = auth.uid()
$$;
grant execute on function private.owns(uuid) to authenticated;

create table public.savings_goals (
  id bigint primary key,
  owner uuid not null references auth.users default auth.uid(),
  kind public.goal not null,
  amount numeric not null check (amount > 0)
);
alter table public.savings_goals enable row level security;
create policy "Owners read their goals" on public.savings_goals
  for select to authenticated using (private.owns(owner));
create policy "Owners add goals" on public.savings_goals
  for insert to authenticated with check (private.owns(owner));

create function public.goal_kinds() returns setof public.goal
language sql stable set search_path = '' as $$
  select unnest(enum_range(null::public.goal))
$$;
grant execute on function public.goal_kinds() to anon, authenticated;

create function public.total_saved() returns numeric
language sql stable set search_path = '' as $$
  select coalesce(sum(amount), 0) from public.savings_goals where owner = auth.uid()
$$;
grant execute on function public.total_saved() to authenticated;
