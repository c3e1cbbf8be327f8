"""The local Supabase-compatible stack: PostgreSQL, PostgREST and an nginx API gateway."""
