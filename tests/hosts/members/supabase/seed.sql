insert into auth.users (id, email, raw_user_meta_data, email_confirmed_at, last_sign_in_at, is_anonymous)
values
  ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'host-user@example.com', '{"username": "ada"}',
   '2024-04-01T10:00:00Z', '2024-04-02T10:00:00Z', false),
  ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'grace@example.com', '{"username": "grace"}',
   '2024-04-01T11:00:00Z', null, false),
  ('cccccccc-cccc-4ccc-8ccc-cccccccccccc', null, '{}', null, null, true);
