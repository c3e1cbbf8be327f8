"""The SQLAlchemy model of `public.movement_profiles`.

The table is movement-profiles' own (supabase/migrations): this model maps it and creates
nothing. Its CHECKs and its trigger still run on every write, and the trigger sets `updated_at`
whatever the model sends.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class MovementProfile(Base):
    __tablename__ = "movement_profiles"
    __table_args__ = {"schema": "public"}  # noqa: RUF012 (SQLAlchemy's declarative convention)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True, nullable=False)
    training_preferences: Mapped[list[Any]] = mapped_column(JSONB, nullable=False)
    goals: Mapped[list[Any]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )
