"""The Python enums are the database's allowed values: a migration that adds one fails here until
`TrainingPreference` / `Goal` follow (docs/schema.md: "Adding an allowed value")."""

from __future__ import annotations

import psycopg
import pytest

from movement_profiles import Goal, MovementProfilesClient, TrainingPreference
from movement_profiles_cli.stack.state import StackState

pytestmark = pytest.mark.integration


def test_enums_equal_movement_profile_options_in_order(stack: StackState) -> None:
    with MovementProfilesClient(stack.api_url, stack.anon_key) as client:
        options = client.options()
    assert [member.value for member in TrainingPreference] == options["training_preferences"]
    assert [member.value for member in Goal] == options["goals"]


def test_enums_equal_the_sql_enum_types(db: psycopg.Connection[tuple[object, ...]]) -> None:
    row = db.execute(
        "select enum_range(null::public.movement_profile_training_preference)::text[], "
        "enum_range(null::public.movement_profile_goal)::text[]"
    ).fetchone()
    assert row == (
        [member.value for member in TrainingPreference],
        [member.value for member in Goal],
    )
