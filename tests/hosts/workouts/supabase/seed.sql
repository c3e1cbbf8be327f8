insert into auth.users (id, email) values
  ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'host-user@example.com');

insert into public.products (id, name, description) values
  ('prod_basic', 'Basic plan', 'Programs for everyone'),
  ('prod_pro', 'Pro plan', 'Coaching included');
insert into public.prices (id, product_id, unit_amount, currency) values
  ('price_basic_month', 'prod_basic', 900, 'usd'),
  ('price_pro_month', 'prod_pro', 2900, 'usd');

insert into public.workout_programs (id, title, level, minutes, public) values
  (1, 'Yoga for runners', 'beginner', 30, true),
  (2, 'Core strength', 'intermediate', 45, true),
  (3, 'Marathon build-up', 'advanced', 90, true),
  (4, 'Coach drafts', 'advanced', 20, false);

insert into public.saved_programs (owner_id, program_id) values
  ('user_2NNEqL2nrIRdJ194ndJqAHwEfxC', 1),
  ('user_2NNEqL2nrIRdJ194ndJqAHwEfxC', 3);
