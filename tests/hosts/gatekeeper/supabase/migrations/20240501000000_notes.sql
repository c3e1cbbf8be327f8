create table public.notes (
  id bigint primary key,
  body text not null,
  public boolean not null default true
);
alter table public.notes enable row level security;
create policy "Public notes" on public.notes for select using (public);
