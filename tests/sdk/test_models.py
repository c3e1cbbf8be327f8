"""The request models reject what the database rejects whatever its catalogue holds, in the
database's words, and take any value the catalogue might allow (no network)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from movement_profiles import (
    Goal,
    MovementProfile,
    MovementProfileCreate,
    MovementProfileUpdate,
    TrainingPreference,
    ValidationError,
)
from movement_profiles.models import plain_create_row

PREFERENCE_VALUES = [member.value for member in TrainingPreference]
GOAL_VALUES = [member.value for member in Goal]


def test_valid_create_accepts_strings_and_members_and_keeps_order() -> None:
    user_id = uuid.uuid4()
    profile = MovementProfileCreate(
        user_id=str(user_id),
        training_preferences=["yoga", TrainingPreference.STRENGTH_TRAINING],
        goals=[Goal.REHAB, "build_muscle"],
    )
    assert profile.user_id == user_id
    assert profile.training_preferences == [
        TrainingPreference.YOGA,
        TrainingPreference.STRENGTH_TRAINING,
    ]
    assert profile.to_json() == {
        "user_id": str(user_id),
        "training_preferences": ["yoga", "strength_training"],
        "goals": ["rehab", "build_muscle"],
    }


def test_values_the_catalogue_may_have_gained_are_the_databases_to_judge() -> None:
    # "pilates" is no shipped value, but an admin may have added it: only the database knows.
    profile = MovementProfileCreate(training_preferences=["pilates"], goals=["rehab"])
    assert profile.to_json()["training_preferences"] == ["pilates"]
    assert MovementProfileUpdate(goals=["sleep_better"]).to_json() == {"goals": ["sleep_better"]}


def test_a_stored_profile_with_values_newer_than_the_sdk_reads() -> None:
    profile = MovementProfile.model_validate(
        {
            "id": str(uuid.uuid4()),
            "user_id": str(uuid.uuid4()),
            "training_preferences": ["pilates", "yoga"],
            "goals": ["sleep_better"],
            "custom_fields": {"injuries": ["knee"]},
            "created_at": "2026-12-06T12:00:00+00:00",
            "updated_at": "2026-12-06T12:00:00+00:00",
        }
    )
    assert profile.training_preferences == ["pilates", TrainingPreference.YOGA]
    assert profile.custom_fields == {"injuries": ["knee"]}


def test_a_stored_profile_without_custom_fields_has_none() -> None:
    profile = MovementProfile.model_validate(
        {
            "id": str(uuid.uuid4()),
            "user_id": str(uuid.uuid4()),
            "training_preferences": ["yoga"],
            "goals": ["rehab"],
            "created_at": "2026-12-06T12:00:00+00:00",
            "updated_at": "2026-12-06T12:00:00+00:00",
        }
    )
    assert profile.custom_fields == {}


def test_user_id_may_be_left_to_the_database() -> None:
    profile = MovementProfileCreate(training_preferences=["yoga"], goals=["rehab"])
    assert "user_id" not in profile.to_json()


@pytest.mark.parametrize(
    ("preferences", "goals", "message", "hint"),
    [
        (
            [],
            ["rehab"],
            "training_preferences must contain at least one value",
            "training_preferences",
        ),
        (["yoga"], [], "goals must contain at least one value", "goals"),
        (
            ["yoga", "running", "yoga"],
            ["rehab"],
            'training_preferences contains a duplicate value: "yoga"',
            "training_preferences",
        ),
        (
            "yoga",
            ["rehab"],
            "training_preferences must be a JSON array of strings",
            "training_preferences",
        ),
        (["yoga"], None, "goals must be a JSON array of strings", "goals"),
        (
            ["yoga", 1],
            ["rehab"],
            "training_preferences must be a JSON array of strings",
            "training_preferences",
        ),
        (["yoga"], [None], "goals must be a JSON array of strings", "goals"),
        (["yoga"], {"rehab": True}, "goals must be a JSON array of strings", "goals"),
    ],
)
def test_invalid_arrays_raise_the_databases_message(
    preferences: Any, goals: Any, message: str, hint: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        MovementProfileCreate(training_preferences=preferences, goals=goals)
    error = raised.value
    assert error.message == message
    assert str(error) == message
    assert error.hint == hint
    assert error.code == "23514"
    assert error.status == 400
    assert (error.request, error.response) == (None, None)
    # The allowed values are the catalogue's: the model does not claim to know them.
    assert error.details is None


@pytest.mark.parametrize(
    ("custom_fields", "message", "hint"),
    [
        ([], "custom_fields must be a JSON object", "custom_fields"),
        ("injuries", "custom_fields must be a JSON object", "custom_fields"),
        ({1: ["knee"]}, "custom_fields must be a JSON object", "custom_fields"),
        ({"injuries": "knee"}, "injuries must be a JSON array of strings", "injuries"),
        ({"injuries": ["knee", 2]}, "injuries must be a JSON array of strings", "injuries"),
        ({"injuries": None}, "injuries must be a JSON array of strings", "injuries"),
        (
            {"injuries": ["knee"], "restrictions": ["no_jumping", "no_jumping"]},
            'restrictions contains a duplicate value: "no_jumping"',
            "restrictions",
        ),
    ],
)
def test_invalid_custom_fields_raise_the_databases_message_naming_the_field(
    custom_fields: Any, message: str, hint: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        MovementProfileCreate(
            training_preferences=["yoga"], goals=["rehab"], custom_fields=custom_fields
        )
    assert (raised.value.message, raised.value.hint, raised.value.code) == (
        message,
        hint,
        "23514",
    )
    with pytest.raises(ValidationError) as raised:
        MovementProfileUpdate(custom_fields=custom_fields)
    assert (raised.value.message, raised.value.hint) == (message, hint)


def test_custom_fields_are_sent_when_given() -> None:
    profile = MovementProfileCreate(
        training_preferences=["yoga"],
        goals=["rehab"],
        custom_fields={"injuries": ["knee", "shoulder"], "restrictions": []},
    )
    assert profile.to_json()["custom_fields"] == {
        "injuries": ["knee", "shoulder"],
        "restrictions": [],
    }
    # Empty is what the database stores when it is left out: nothing to send.
    assert (
        "custom_fields"
        not in MovementProfileCreate(
            training_preferences=["yoga"], goals=["rehab"], custom_fields={}
        ).to_json()
    )
    # An update replaces them as a whole; {} clears them.
    assert MovementProfileUpdate(custom_fields={}).to_json() == {"custom_fields": {}}


def test_duplicates_are_reported_in_array_order() -> None:
    with pytest.raises(ValidationError, match='duplicate value: "rehab"'):
        MovementProfileCreate(training_preferences=["yoga"], goals=["lose_fat", "rehab", "rehab"])


def test_long_and_odd_values_are_quoted_and_cut_like_the_database_does() -> None:
    with pytest.raises(ValidationError) as raised:
        MovementProfileCreate(training_preferences=["x" * 100, "x" * 100], goals=["rehab"])
    assert raised.value.message == (
        'training_preferences contains a duplicate value: "' + "x" * 64 + '…"'
    )
    with pytest.raises(ValidationError) as raised:
        MovementProfileCreate(training_preferences=['yo"ga\n', 'yo"ga\n'], goals=["rehab"])
    assert raised.value.message == r'training_preferences contains a duplicate value: "yo\"ga\n"'


def test_every_invalid_field_is_reported() -> None:
    with pytest.raises(ValidationError) as raised:
        MovementProfileCreate(
            training_preferences=["yoga", "yoga"], goals=[], custom_fields={"injuries": "knee"}
        )
    error = raised.value
    assert [problem.field for problem in error.problems] == [
        "training_preferences",
        "goals",
        "injuries",
    ]
    assert error.message == (
        'training_preferences contains a duplicate value: "yoga"; '
        "goals must contain at least one value; "
        "injuries must be a JSON array of strings"
    )


def test_unknown_fields_and_bad_user_ids_are_rejected() -> None:
    with pytest.raises(ValidationError, match="goal: Extra inputs are not permitted") as raised:
        MovementProfileCreate(training_preferences=["yoga"], goals=["rehab"], goal=["rehab"])
    assert raised.value.code == "invalid_argument"
    with pytest.raises(ValidationError, match="user_id: ") as raised:
        MovementProfileCreate(user_id="not-a-uuid", training_preferences=["yoga"], goals=["rehab"])
    assert raised.value.hint == "user_id"


def test_model_validate_raises_the_sdk_error_too() -> None:
    with pytest.raises(ValidationError, match='goals contains a duplicate value: "dance"'):
        MovementProfileCreate.model_validate(
            {"training_preferences": ["yoga"], "goals": ["dance", "dance"]}
        )
    with pytest.raises(ValidationError, match="goals must contain at least one value"):
        MovementProfileUpdate.model_validate_json('{"goals": []}')


def test_update_needs_at_least_one_field() -> None:
    with pytest.raises(ValidationError) as raised:
        MovementProfileUpdate()
    assert raised.value.message == (
        "an update needs at least one of training_preferences, goals, custom_fields"
    )
    with pytest.raises(ValidationError):
        MovementProfileUpdate(goals=None)
    assert MovementProfileUpdate(goals=["rehab"]).to_json() == {"goals": ["rehab"]}


def test_update_validates_the_arrays_it_is_given() -> None:
    with pytest.raises(
        ValidationError, match='training_preferences contains a duplicate value: "yoga"'
    ):
        MovementProfileUpdate(training_preferences=["yoga", "yoga"])


def test_sdk_validation_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="goals"):
        MovementProfileUpdate(goals=[])


# -- the shortcut of bulk imports -----------------------------------------------------------------

_UUID = "0b7c1a3e-5a4f-4c2e-9d1b-2f6a8e4c7d90"
_shortcut_arrays = st.one_of(
    st.lists(st.sampled_from([*PREFERENCE_VALUES, *GOAL_VALUES, "Yoga", "", 1]), max_size=4),
    st.dictionaries(
        st.sampled_from(["injuries", "", "x"]), st.lists(st.sampled_from(["a", "b", 1])), max_size=2
    ),
    st.lists(st.sampled_from([*TrainingPreference, *Goal]), max_size=3),
    st.tuples(st.sampled_from(PREFERENCE_VALUES)),
    st.none(),
    st.text(max_size=5),
)
_shortcut_user_ids = st.one_of(
    st.just(_UUID),
    st.just(_UUID.upper()),
    st.just("{" + _UUID + "}"),
    st.just(_UUID.replace("-", "")),
    st.just(uuid.UUID(_UUID)),
    st.just(_UUID[:-1] + "g"),
    st.none(),
    st.text(max_size=40),
)


@settings(max_examples=300, deadline=None)
@given(
    data=st.fixed_dictionaries(
        {},
        optional={
            "user_id": _shortcut_user_ids,
            "training_preferences": _shortcut_arrays,
            "goals": _shortcut_arrays,
            "custom_fields": _shortcut_arrays,
            "id": st.just(_UUID),
        },
    )
)
def test_the_shortcut_gives_the_models_json_or_leaves_the_row_to_it(data: dict[str, Any]) -> None:
    """`plain_create_row` holds no rule of its own: whatever it returns is what the model
    makes of the same input."""
    row = plain_create_row(data)
    if row is None:
        return
    assert row == MovementProfileCreate.model_validate(data).to_json()


def test_the_shortcut_takes_the_usual_form_and_only_that() -> None:
    usual = {"user_id": _UUID.upper(), "training_preferences": ["yoga"], "goals": ["rehab"]}
    assert plain_create_row(usual) == {**usual, "user_id": _UUID}
    assert plain_create_row({**usual, "goals": [Goal.REHAB]}) is None  # valid, for the model
    assert plain_create_row({**usual, "goals": ["rehab", "rehab"]}) is None
    # Any value the catalogue may hold; it is the database's to judge.
    assert plain_create_row({**usual, "goals": ["dance"]}) == {
        **usual,
        "user_id": _UUID,
        "goals": ["dance"],
    }
    with_custom = {**usual, "custom_fields": {"injuries": ["knee"], "restrictions": []}}
    assert plain_create_row(with_custom) == {**with_custom, "user_id": _UUID}
    # Empty custom fields are what the database stores anyway: the row leaves them out.
    assert plain_create_row({**usual, "custom_fields": {}}) == {**usual, "user_id": _UUID}
    assert plain_create_row({**usual, "custom_fields": {"injuries": ["knee", "knee"]}}) is None
    assert plain_create_row({**usual, "id": _UUID}) is None
