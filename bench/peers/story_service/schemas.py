"""Request and response bodies, validated with pydantic.

The allowed values come from the SDK's `movement_profiles.options`, the one Python copy of the
database's enums, so the peer accepts exactly what the table's CHECKs accept.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, field_validator

from movement_profiles.options import ALLOWED_VALUES


def _check_entries(column: str, values: list[str]) -> list[str]:
    if not values:
        raise ValueError(f"{column} must contain at least one value")
    allowed = ALLOWED_VALUES[column]
    for value in values:
        if value not in allowed:
            raise ValueError(
                f"{column} contains an invalid value: {value!r}; allowed: {sorted(allowed)}"
            )
    return values


class MovementProfileCreate(BaseModel):
    training_preferences: list[str]
    goals: list[str]

    @field_validator("training_preferences")
    @classmethod
    def check_training_preferences(cls, values: list[str]) -> list[str]:
        return _check_entries("training_preferences", values)

    @field_validator("goals")
    @classmethod
    def check_goals(cls, values: list[str]) -> list[str]:
        return _check_entries("goals", values)


class MovementProfileUpdate(BaseModel):
    """PUT's body: the fields given are replaced, the others kept."""

    training_preferences: list[str] | None = None
    goals: list[str] | None = None

    @field_validator("training_preferences")
    @classmethod
    def check_training_preferences(cls, values: list[str] | None) -> list[str] | None:
        return None if values is None else _check_entries("training_preferences", values)

    @field_validator("goals")
    @classmethod
    def check_goals(cls, values: list[str] | None) -> list[str] | None:
        return None if values is None else _check_entries("goals", values)


class MovementProfileRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID
    training_preferences: list[str]
    goals: list[str]
    created_at: datetime
    updated_at: datetime
