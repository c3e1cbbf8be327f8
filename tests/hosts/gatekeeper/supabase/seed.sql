insert into auth.users (id, email) values
  ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'host-user@example.com');
insert into public.notes (id, body, public) values
  (1, 'Welcome', true), (2, 'Draft', false);
