"""The movement-profile service as the story designed it: FastAPI, a SQLAlchemy model, pydantic
validators and a Supabase-JWT check, on the same table as movement-profiles. `make bench` runs it
as a peer of the gateway (bench/peers/README.md)."""
