"""The catalogue through both clients against the real stack: reading it, changing it with the
service key, and profiles carrying what was added, with the database's verdicts as the SDK's
errors.

The stack is shared with other tests: each test adds fields and values under names of its own
and takes them away again (`remove_field` / `retire_value` with ``profiles="remove"``).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import psycopg
import pytest

from movement_profiles import (
    AuthError,
    Catalogue,
    ConflictError,
    Goal,
    PermissionDeniedError,
    TrainingPreference,
    ValidationError,
)
from movement_profiles_cli.stack.state import StackState
from tests.sdk.conftest import Connect, Either
from tests.support.users import StackUser

pytestmark = pytest.mark.integration

Database = psycopg.Connection[tuple[object, ...]]


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def injuries(admin: Either) -> AsyncIterator[str]:
    """An optional custom field with two values, removed (from profiles too) afterwards."""
    name = unique("injuries")
    field = await admin.add_field(
        name, label="Injuries", description="Where it hurts.", allowed_values=["knee", "shoulder"]
    )
    assert (field.name, field.allowed, field.required, field.built_in) == (
        name,
        ("knee", "shoulder"),
        False,
        False,
    )
    yield name
    await admin.remove_field(name, profiles="remove")


async def test_anyone_reads_the_catalogue_in_its_shape(connect: Connect, stack: StackState) -> None:
    catalogue = await connect(stack.anon_key).catalogue()
    assert isinstance(catalogue, Catalogue)
    preferences, goals = catalogue.fields[:2]
    assert (preferences.name, preferences.label, preferences.required, preferences.built_in) == (
        "training_preferences",
        "Training preferences",
        True,
        True,
    )
    assert goals.name == "goals"
    assert preferences.allowed[: len(TrainingPreference)] == tuple(TrainingPreference)
    assert goals.allowed[: len(Goal)] == tuple(Goal)
    assert preferences.value("crossfit").label == "CrossFit"
    # Its JSON is the function's, and reads back the same.
    assert Catalogue.model_validate(catalogue.to_json()) == catalogue


async def test_a_field_added_at_run_time_is_written_read_and_filtered(
    admin: Either, as_user: Either, user: StackUser, injuries: str, db: Database
) -> None:
    created = await as_user.create(
        {
            "training_preferences": ["yoga"],
            "goals": ["rehab"],
            "custom_fields": {injuries: ["knee"]},
        }
    )
    assert created.custom_fields == {injuries: ["knee"]}
    assert (await as_user.get(user.id)).custom_fields == {injuries: ["knee"]}
    updated = await as_user.update(user.id, {"custom_fields": {injuries: ["shoulder", "knee"]}})
    assert updated.custom_fields == {injuries: ["shoulder", "knee"]}
    assert updated.goals == ["rehab"]
    row = db.execute(
        "select custom_fields from public.movement_profiles where user_id = %s", (user.id,)
    ).fetchone()
    assert row == ({injuries: ["shoulder", "knee"]},)
    # The filter is custom_fields @> {...}: every value given must be held.
    assert [p.user_id for p in await admin.list(custom_fields={injuries: "knee"})] == [user.id]
    assert [
        p.user_id for p in await admin.list(custom_fields={injuries: ["knee", "shoulder"]})
    ] == [user.id]
    assert await admin.list(custom_fields={injuries: ["knee", "ankle"]}) == []
    assert [p.user_id for p in await as_user.list(goal="rehab", custom_fields={injuries: []})] == [
        user.id
    ]
    # The catalogue the SDK reads agrees with what it stored.
    catalogue = await as_user.catalogue()
    assert catalogue.custom_fields_problem(updated.custom_fields) is None
    cleared = await as_user.update(user.id, {"custom_fields": {}})
    assert cleared.custom_fields == {}


async def test_the_database_names_the_custom_field_it_refuses(
    as_user: Either, user: StackUser, injuries: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        await as_user.create(
            {
                "training_preferences": ["yoga"],
                "goals": ["rehab"],
                "custom_fields": {injuries: ["ankle"]},
            }
        )
    error = refused.value
    assert error.response is not None
    assert error.response.status_code == 400
    assert (error.code, error.message, error.hint, error.details) == (
        "23514",
        f'{injuries} contains an invalid value: "ankle"',
        injuries,
        "Allowed values: knee, shoulder",
    )
    # Catalogue.custom_fields_problem said so before any write, in the same words.
    catalogue = await as_user.catalogue()
    assert catalogue.custom_fields_problem({injuries: ["ankle"]}) == (
        error.hint,
        error.message,
        error.details,
    )
    with pytest.raises(ValidationError) as unknown:
        await as_user.create(
            {"training_preferences": ["yoga"], "goals": ["rehab"], "custom_fields": {"nope": []}}
        )
    assert (unknown.value.message, unknown.value.hint) == (
        'custom_fields contains an unknown field: "nope"',
        "custom_fields",
    )


async def test_values_are_added_relabelled_and_retired(
    admin: Either, make_user: Callable[[], StackUser], injuries: str
) -> None:
    field = await admin.add_value(injuries, "lower_back")
    assert field.allowed == ("knee", "shoulder", "lower_back")
    assert field.value("lower_back").label == "Lower back"
    field = await admin.relabel(injuries, label="Lower back (lumbar)", value="lower_back")
    assert field.value("lower_back").label == "Lower back (lumbar)"
    field = await admin.relabel(injuries, label="Injuries and pain", description="Now or past.")
    assert (field.label, field.description) == ("Injuries and pain", "Now or past.")
    with pytest.raises(ConflictError) as exists:
        await admin.add_value(injuries, "knee")
    assert exists.value.code == "23505"

    holders = [make_user() for _ in range(2)]
    for holder in holders:
        await admin.create(
            {
                "user_id": holder.id,
                "training_preferences": ["yoga"],
                "goals": ["rehab"],
                "custom_fields": {injuries: ["knee", "lower_back"]},
            }
        )
    with pytest.raises(ConflictError) as held:
        await admin.retire_value(injuries, "knee")
    assert (held.value.code, held.value.hint) == ("23503", injuries)
    assert held.value.message == '"knee" is held by 2 movement profiles'
    assert held.value.response is not None
    assert held.value.response.status_code == 409
    assert (
        await admin.retire_value(injuries, "knee", profiles="replace", replacement="shoulder") == 2
    )
    assert (await admin.get(holders[0].id)).custom_fields == {injuries: ["lower_back", "shoulder"]}
    assert await admin.retire_value(injuries, "lower_back", profiles="remove") == 2
    assert (await admin.get(holders[1].id)).custom_fields == {injuries: ["shoulder"]}
    assert (await admin.catalogue()).field(injuries).allowed == ("shoulder",)

    changes = await admin.catalogue_changes(max_rows=50)
    mine = [change for change in changes if change.field == injuries]
    assert [change.action for change in mine][:2] == ["retire_value", "retire_value"]
    assert mine[0].value == "lower_back"
    assert mine[0].profiles_changed == 2
    assert mine[0].changed_by.startswith("service_role")
    assert mine[-1].action == "add_field"

    with pytest.raises(ConflictError) as still_held:
        await admin.remove_field(injuries)
    assert still_held.value.code == "23503"


async def test_a_value_added_to_a_built_in_field_after_release_reads(
    admin: Either, as_user: Either, user: StackUser
) -> None:
    value = unique("pilates")
    field = await admin.add_value("training_preferences", value, label="Pilates")
    try:
        assert field.allowed[-1] == value
        created = await as_user.create(
            {"training_preferences": ["yoga", value], "goals": ["rehab"]}
        )
        assert created.training_preferences == ["yoga", value]
        assert [p.user_id for p in await as_user.list(training_preference=value)] == [user.id]
        assert value in (await as_user.options())["training_preferences"]
    finally:
        await admin.retire_value("training_preferences", value, profiles="remove")
    assert (await as_user.get(user.id)).training_preferences == ["yoga"]


async def test_upserts_write_custom_fields_as_part_of_the_profile(
    admin: Either, make_user: Callable[[], StackUser], injuries: str
) -> None:
    owners = [make_user() for _ in range(2)]
    rows = [
        {
            "user_id": owner.id,
            "training_preferences": ["yoga"],
            "goals": ["rehab"],
            "custom_fields": {injuries: ["knee"]},
        }
        for owner in owners
    ]
    assert await admin.upsert_many(rows) == 2
    assert (await admin.get(owners[0].id)).custom_fields == {injuries: ["knee"]}
    # An upsert writes the whole profile: given without custom fields, it has none afterwards.
    assert await admin.upsert_many([{**rows[0], "custom_fields": {}}]) == 1
    assert (await admin.get(owners[0].id)).custom_fields == {}
    del rows[1]["custom_fields"]
    assert await admin.upsert_many([rows[1]]) == 1
    assert (await admin.get(owners[1].id)).custom_fields == {}
    # Rows already JSON: custom_fields written only when the caller says every row has it.
    text = (
        f'{{"user_id": "{owners[0].id}", "training_preferences": ["yoga"], "goals": ["rehab"], '
        f'"custom_fields": {{"{injuries}": ["shoulder"]}}}}'
    ).encode()
    assert await admin.upsert_json_rows([text], custom_fields=True) == 1
    assert (await admin.get(owners[0].id)).custom_fields == {injuries: ["shoulder"]}
    assert await admin.upsert_json_rows([text.replace(b"shoulder", b"knee")]) == 1
    assert (await admin.get(owners[0].id)).custom_fields == {injuries: ["shoulder"]}


async def test_the_catalogue_exports_as_sql_and_applies_idempotently(
    admin: Either, injuries: str
) -> None:
    sql = await admin.catalogue_sql()
    assert "select public.movement_profile_apply_catalogue(" in sql
    assert injuries in sql
    catalogue = await admin.catalogue()
    assert await admin.apply_catalogue(catalogue) == 0
    assert await admin.apply_catalogue(catalogue.to_json()) == 0
    # A relabel through apply_catalogue is one change.
    wanted = catalogue.to_json()
    for field in wanted["fields"]:
        if field["name"] == injuries:
            field["label"] = "Injuries (applied)"
    assert await admin.apply_catalogue(wanted) == 1
    assert (await admin.catalogue()).field(injuries).label == "Injuries (applied)"


async def test_bad_changes_are_refused_with_the_databases_words(
    admin: Either, injuries: str
) -> None:
    with pytest.raises(ValidationError) as unknown:
        await admin.add_value(unique("nope"), "x")
    assert unknown.value.code == "22023"
    with pytest.raises(ValidationError) as bad_name:
        await admin.add_field("Not A Name", label="x")
    assert bad_name.value.code == "22023"
    with pytest.raises(ValidationError) as built_in:
        await admin.remove_field("goals")
    assert built_in.value.code == "22023"
    with pytest.raises(ConflictError) as exists:
        await admin.add_field(injuries, label="Again")
    assert exists.value.code == "23505"


async def test_only_the_service_key_changes_the_catalogue(
    connect: Connect, stack: StackState, as_user: Either
) -> None:
    name = unique("restrictions")
    with pytest.raises(AuthError):
        await connect(stack.anon_key).add_field(name, label="Restrictions")
    with pytest.raises(PermissionDeniedError):
        await as_user.add_field(name, label="Restrictions")
    with pytest.raises(PermissionDeniedError):
        await as_user.catalogue_changes()
    with pytest.raises(KeyError):
        (await as_user.catalogue()).field(name)
