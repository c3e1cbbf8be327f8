-- The shape of Supabase's user-management example: public profiles made from the sign-up's
-- metadata, a member directory over the platform's columns of auth.users, an avatars bucket.
create table public.profiles (
  id uuid primary key references auth.users on delete cascade,
  username text unique,
  avatar_url text,
  updated_at timestamptz
);
alter table public.profiles enable row level security;
create policy "Public profiles are viewable by everyone." on public.profiles
  for select using (true);
create policy "Users update their own profile." on public.profiles
  for update using ((select auth.uid()) = id);

create function public.handle_new_user() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  insert into public.profiles (id, username, avatar_url)
  values (new.id, new.raw_user_meta_data ->> 'username', new.raw_user_meta_data ->> 'avatar_url');
  return new;
end
$$;
create trigger on_auth_user_created
  after insert on auth.users
  for each row execute procedure public.handle_new_user();

-- Who is a member: confirmed, not anonymous, not deleted; with when they last signed in.
create view public.member_directory as
  select u.id, p.username, u.last_sign_in_at, u.email_confirmed_at is not null as confirmed
  from auth.users u join public.profiles p on p.id = u.id
  where u.deleted_at is null and not u.is_anonymous and u.email_confirmed_at is not null;
revoke all on public.member_directory from anon;
grant select on public.member_directory to authenticated;
