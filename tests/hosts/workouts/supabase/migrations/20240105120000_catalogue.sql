-- The shop's catalogue: everyone, signed in or not, reads products and their prices.
create table public.products (
  id text primary key,
  name text not null,
  description text,
  active boolean not null default true
);
alter table public.products enable row level security;
create policy "Anyone reads products" on public.products for select using (true);

create table public.prices (
  id text primary key,
  product_id text not null references public.products,
  unit_amount bigint not null,
  currency text not null check (char_length(currency) = 3)
);
alter table public.prices enable row level security;
create policy "Anyone reads prices" on public.prices for select using (true);
