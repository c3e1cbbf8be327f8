-- Signing up runs the app's trigger: public.users gets the row.
insert into auth.users (id, email, raw_user_meta_data) values
  ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'host-user@example.com', '{"full_name": "Ada Lovelace"}'),
  ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'grace@example.com', '{"full_name": "Grace Hopper"}');

insert into public.customers (id, stripe_customer_id) values
  ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'cus_ada');

insert into public.products (id, active, name, description, metadata) values
  ('prod_hobby', true, 'Hobby', 'For side projects', '{"index": 0}'),
  ('prod_team', true, 'Team', 'For teams', '{"index": 1}'),
  ('prod_legacy', false, 'Legacy', 'No longer sold', '{}');

insert into public.prices
  (id, product_id, active, description, unit_amount, currency, type, interval, interval_count,
   trial_period_days, metadata)
values
  ('price_hobby_month', 'prod_hobby', true, null, 1000, 'usd', 'recurring', 'month', 1, 7, '{}'),
  ('price_hobby_year', 'prod_hobby', true, null, 10000, 'usd', 'recurring', 'year', 1, 7, '{}'),
  ('price_team_month', 'prod_team', true, null, 5000, 'usd', 'recurring', 'month', 1, null, '{}');

insert into public.subscriptions
  (id, user_id, status, metadata, price_id, quantity, cancel_at_period_end, created,
   current_period_start, current_period_end, ended_at, cancel_at, canceled_at, trial_start,
   trial_end)
values
  ('sub_ada', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'active', '{}', 'price_hobby_month', 1, false,
   '2024-01-01T00:00:00Z', '2024-06-01T00:00:00Z', '2024-07-01T00:00:00Z', null, null, null,
   null, null);
