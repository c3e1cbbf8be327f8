"""Configuration from the environment, read once per worker process."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    database_url: str
    jwt_secret: str
    pool_size: int
    max_overflow: int


def from_environment() -> Settings:
    # postgresql://... as `supabase status` prints it; SQLAlchemy needs the driver named.
    url = os.environ["DATABASE_URL"]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return Settings(
        database_url=url,
        jwt_secret=os.environ["SUPABASE_JWT_SECRET"],
        pool_size=int(os.environ.get("DB_POOL_SIZE", "8")),
        max_overflow=int(os.environ.get("DB_MAX_OVERFLOW", "4")),
    )
