"""The allowed values of a movement profile, as Python enums, and the names of its columns.

`TrainingPreference` and `Goal` are the only Python copy of the values defined once in SQL
(`public.movement_profile_training_preference`, `public.movement_profile_goal`);
tests/sdk/test_parity.py compares them with `movement_profile_options()` so drift fails the build.
Standard library only: the CLI builds its `--help` choices from this module without loading
pydantic or httpx.
"""

from __future__ import annotations

import enum

__all__ = [
    "ALLOWED_VALUES",
    "ASSIGNED_COLUMNS",
    "OPTION_COLUMNS",
    "PROFILE_COLUMNS",
    "WRITABLE_COLUMNS",
    "Goal",
    "TrainingPreference",
]


class TrainingPreference(enum.StrEnum):
    """How a user likes to train: the allowed entries of ``training_preferences``."""

    STRENGTH_TRAINING = "strength_training"
    RUNNING = "running"
    YOGA = "yoga"
    CROSSFIT = "crossfit"
    SPORTS = "sports"
    MIXED = "mixed"


class Goal(enum.StrEnum):
    """What a user trains for: the allowed entries of ``goals``."""

    BUILD_MUSCLE = "build_muscle"
    LOSE_FAT = "lose_fat"
    IMPROVE_ENDURANCE = "improve_endurance"
    REHAB = "rehab"
    GENERAL_HEALTH = "general_health"


#: Each validated column and the enum of its allowed values, in the database's column order.
OPTION_COLUMNS: dict[str, type[enum.StrEnum]] = {
    "training_preferences": TrainingPreference,
    "goals": Goal,
}

#: The columns of a stored profile, in the table's order: what the SDK selects and `export` writes.
PROFILE_COLUMNS = ("id", "user_id", *OPTION_COLUMNS, "created_at", "updated_at")
#: The columns a caller writes.
WRITABLE_COLUMNS = ("user_id", *OPTION_COLUMNS)
#: The columns the database assigns; an import that keeps identity restores them as given.
ASSIGNED_COLUMNS = ("id", "created_at", "updated_at")

#: Each validated column and its allowed values as plain strings, built once: validating a bulk
#: import checks every entry of every array against these.
ALLOWED_VALUES: dict[str, frozenset[str]] = {
    column: frozenset(member.value for member in enum_type)
    for column, enum_type in OPTION_COLUMNS.items()
}
