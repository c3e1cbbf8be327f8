-- Demo data for local development: three users, two with profiles. Fixed ids so the README's
-- examples work as written. Applied by `make up` and `movement-profiles stack reset`.

insert into auth.users (id, email) values
  ('11111111-1111-4111-8111-111111111111', 'ada@example.com'),
  ('22222222-2222-4222-8222-222222222222', 'grace@example.com'),
  ('33333333-3333-4333-8333-333333333333', 'linus@example.com')
on conflict (id) do nothing;

insert into public.movement_profiles (user_id, training_preferences, goals) values
  ('11111111-1111-4111-8111-111111111111', '["strength_training", "yoga"]', '["build_muscle", "general_health"]'),
  ('22222222-2222-4222-8222-222222222222', '["running"]', '["improve_endurance", "lose_fat"]')
on conflict (user_id) do nothing;
