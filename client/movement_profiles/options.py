"""The values a movement profile ships with, as Python enums, and the names of its columns.

The allowed values live in the database's catalogue (``movement_profile_catalogue()``), which an
admin changes at run time: a value added there is valid at once, for every client, without a
release of this package. `TrainingPreference` and `Goal` are named constants of the values the
component ships with, for code that wants to spell them without typos; they are not the list of
what is allowed (the catalogue may hold more, or have retired some). Nothing in the SDK validates
against them: ask `client.catalogue()` (its `Catalogue.problem`) or let the database judge.

Standard library only: the CLI builds its `--help` from this module without loading pydantic or
httpx.
"""

from __future__ import annotations

import enum

__all__ = [
    "ASSIGNED_COLUMNS",
    "BUILT_IN_FIELDS",
    "CUSTOM_FIELDS_COLUMN",
    "OPTION_COLUMNS",
    "PROFILE_COLUMNS",
    "WRITABLE_COLUMNS",
    "Goal",
    "TrainingPreference",
]


class TrainingPreference(enum.StrEnum):
    """The ``training_preferences`` values the component ships with (the catalogue may hold
    more: see the module's docstring)."""

    STRENGTH_TRAINING = "strength_training"
    RUNNING = "running"
    YOGA = "yoga"
    CROSSFIT = "crossfit"
    SPORTS = "sports"
    MIXED = "mixed"


class Goal(enum.StrEnum):
    """The ``goals`` values the component ships with (the catalogue may hold more: see the
    module's docstring)."""

    BUILD_MUSCLE = "build_muscle"
    LOSE_FAT = "lose_fat"
    IMPROVE_ENDURANCE = "improve_endurance"
    REHAB = "rehab"
    GENERAL_HEALTH = "general_health"


#: The built-in fields, each a column of its own, in the catalogue's display order.
BUILT_IN_FIELDS = ("training_preferences", "goals")
#: The built-in fields' columns (the same names), in the table's order.
OPTION_COLUMNS = BUILT_IN_FIELDS
#: The column holding every field added later: a JSON object of field name -> values.
CUSTOM_FIELDS_COLUMN = "custom_fields"

#: The columns of a stored profile, in the order the SDK selects them and `export` writes them.
PROFILE_COLUMNS = (
    "id",
    "user_id",
    *OPTION_COLUMNS,
    CUSTOM_FIELDS_COLUMN,
    "created_at",
    "updated_at",
)
#: The columns a caller writes.
WRITABLE_COLUMNS = ("user_id", *OPTION_COLUMNS, CUSTOM_FIELDS_COLUMN)
#: The columns the database assigns; an import that keeps identity restores them as given.
ASSIGNED_COLUMNS = ("id", "created_at", "updated_at")
