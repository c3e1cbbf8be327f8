-- The workout programs movement profiles exist to filter: a public list, a public count for the
-- landing page, a search that takes form bodies, and a slow signed-in recommendation.
create table public.workout_programs (
  id bigint primary key,
  title text not null,
  level text not null,
  minutes integer not null,
  public boolean not null default true
);
alter table public.workout_programs enable row level security;
create policy "Public programs are listed" on public.workout_programs for select using (public);

create function public.program_count() returns bigint
language sql stable set search_path = '' as $$
  select count(*) from public.workout_programs where public
$$;
grant execute on function public.program_count() to anon, authenticated;

create function public.search_programs(query text) returns setof public.workout_programs
language sql stable set search_path = '' as $$
  select * from public.workout_programs
  where public and title ilike '%' || query || '%'
  order by id
$$;
grant execute on function public.search_programs(text) to anon, authenticated;

-- Recommendations take a while (the real one scores every program); 0.4 s stands in for that.
create function public.recommend_programs(max_minutes integer) returns setof public.workout_programs
language plpgsql stable set search_path = '' as $$
begin
  perform pg_sleep(0.4);
  return query
    select * from public.workout_programs p where p.public and p.minutes <= max_minutes order by p.id;
end
$$;
revoke execute on function public.recommend_programs(integer) from public, anon;
grant execute on function public.recommend_programs(integer) to authenticated;
