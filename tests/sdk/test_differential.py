"""Differential test: the SDK's verdicts and the database's CHECKs agree on every input.

Hypothesis generates arrays (allowed values of both columns, look-alikes, arbitrary and long
text, non-strings, nulls, duplicates, empty arrays, non-arrays) and ``custom_fields`` objects
(known and unknown fields, in any order, with such arrays, and non-objects). Each array is tried
as `training_preferences` and as `goals`, each object as `custom_fields` (the rest valid), as an
INSERT in a transaction that is rolled back, and judged by the catalogue the database holds at
that moment (`Catalogue.problem`, `Catalogue.custom_fields_problem`). Both must accept exactly
the same inputs; where the database rejects with its CHECK (23514), the SDK's message, hint and
details must be the database's, word for word. The request models, which check only what does
not depend on the catalogue, must never refuse what the database accepts, and where they refuse,
the database refuses too.

A field with three values is added to the catalogue for these tests (a name of their own, so
tests sharing the stack are not disturbed) and removed afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from movement_profiles import (
    Catalogue,
    Goal,
    MovementProfileCreate,
    TrainingPreference,
    ValidationError,
)
from tests.support.checks import fast_path_accepts
from tests.support.users import StackUser

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("MOVEMENT_PROFILES_FUZZ_EXAMPLES", "200"))

PREFERENCES = [member.value for member in TrainingPreference]
GOALS = [member.value for member in Goal]
#: The values of the field these tests add.
ADDED_VALUES = ["knee", "shoulder", "lower_back"]
LOOK_ALIKES = [
    "Yoga",
    "YOGA",
    " yoga",
    "yoga ",
    "y\u043ega",  # Cyrillic o
    "\uff59\uff4f\uff47\uff41",  # fullwidth
    "yoga\u200b",  # zero-width space
    "strength-training",
    "strength training",
    "rehab\n",
    "re\u0068ab",
    "lose_fat\t",
    "general_health\u0301",  # combining accent
    "improve_flexibility",
    "dance",
    "",
    '"yoga"',
    "yoga\\",
    "Knee",
    "knee ",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=80),
)
entries = st.one_of(
    st.sampled_from(PREFERENCES + GOALS + ADDED_VALUES),
    st.sampled_from(LOOK_ALIKES),
    scalars,
    # Around the 64 characters the database quotes before cutting a value short.
    st.text(min_size=62, max_size=67),
    # Characters JSON escapes when quoting a value.
    st.text(alphabet=st.sampled_from('\b\f\n\r\t\x01\x1f\x7f"\\/\u2028\u00e9a'), max_size=6),
    st.lists(st.sampled_from(PREFERENCES), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
arrays = st.one_of(
    st.lists(st.sampled_from(PREFERENCES + GOALS), max_size=7),  # duplicates and wrong column
    st.lists(st.sampled_from(PREFERENCES), min_size=1, max_size=6, unique=True),
    st.lists(st.sampled_from(GOALS), min_size=1, max_size=5, unique=True),
    st.lists(st.sampled_from(ADDED_VALUES), max_size=4),
    st.lists(st.sampled_from(ADDED_VALUES), min_size=1, max_size=3, unique=True),
    st.lists(entries, max_size=6),
    # Around each field's number of allowed values (3, 5 and 6): longer is refused by its length.
    st.lists(entries, min_size=3, max_size=8),
    scalars,
    st.dictionaries(st.text(max_size=5), st.sampled_from(GOALS), max_size=2),
)

VALID = {"training_preferences": ["yoga"], "goals": ["rehab"]}


@pytest.fixture(scope="module")
def added_field(stack: Any) -> Iterator[str]:
    """An optional custom field with three values, for this module's tests only."""
    name = f"injuries_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(stack.db_url(), autocommit=True) as db:
        db.execute(
            "select public.movement_profile_add_field(%s, 'Injuries', '', false, %s)",
            (name, ADDED_VALUES),
        )
        yield name
        db.execute("select public.movement_profile_remove_field(%s, 'remove')", (name,))


def custom_field_objects(field: str) -> st.SearchStrategy[Any]:
    names = st.one_of(
        st.just(field),
        st.sampled_from(["injuries", "goals", "custom_fields", field.upper(), field + " ", ""]),
        st.text(max_size=6),
    )
    return st.one_of(
        st.fixed_dictionaries({}, optional={field: arrays}),
        st.dictionaries(names, arrays, max_size=3),
        arrays,
    )


def catalogue_now(db: psycopg.Connection[tuple[object, ...]]) -> Catalogue:
    row = db.execute("select public.movement_profile_catalogue()").fetchone()
    assert row is not None
    return Catalogue.model_validate(row[0])


def database_verdict(
    db: psycopg.Connection[tuple[object, ...]], user: StackUser, row: dict[str, Any]
) -> tuple[str, str, str | None, str | None] | None:
    """None when the row would be stored, else (SQLSTATE, message, hint, details); nothing is
    kept."""
    try:
        with db.transaction(force_rollback=True):
            db.execute(
                "insert into public.movement_profiles "
                "(user_id, training_preferences, goals, custom_fields) values (%s, %s, %s, %s)",
                (
                    user.id,
                    Jsonb(row["training_preferences"]),
                    Jsonb(row["goals"]),
                    Jsonb(row.get("custom_fields", {})),
                ),
            )
    except psycopg.Error as error:
        return (
            error.sqlstate or "",
            error.diag.message_primary or "",
            error.diag.message_hint,
            error.diag.message_detail,
        )
    return None


def model_verdict(row: dict[str, Any]) -> str | None:
    try:
        MovementProfileCreate(**row)
    except ValidationError as error:
        return error.message
    return None


@pytest.fixture
def owner(make_user: Callable[[], StackUser]) -> StackUser:
    return make_user()


def judge(
    db: psycopg.Connection[tuple[object, ...]],
    user: StackUser,
    row: dict[str, Any],
    ours: tuple[str, str, str] | None,
    label: str,
) -> None:
    theirs = database_verdict(db, user, row)
    if theirs is not None and theirs[0] == "22P05":
        # "\u0000" is valid JSON but no jsonb: such a value never reaches a CHECK.
        assume(False)
    event(f"{label}: {'accepted' if theirs is None else 'rejected'}")
    assert (ours is None) == (theirs is None), (label, row, ours, theirs)
    if theirs is not None and theirs[0] == "23514":
        assert ours == (theirs[2], theirs[1], theirs[3]), (label, row)
    # The model's own checks never refuse what the database stores, and speak its words.
    local = model_verdict(row)
    if theirs is None:
        assert local is None, (label, row, local)
    elif local is not None and ours is not None and local == ours[1]:
        event(f"{label}: the model noticed too")


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    # One user and one connection serve every example: each insert is rolled back.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=arrays)
def test_catalogue_and_database_judge_the_built_in_arrays_alike(
    db: psycopg.Connection[tuple[object, ...]], owner: StackUser, added_field: str, value: Any
) -> None:
    catalogue = catalogue_now(db)
    for column in ("training_preferences", "goals"):
        problem = catalogue.problem(column, value)
        ours = None if problem is None else (column, problem, catalogue.field(column).detail())
        judge(db, owner, {**VALID, column: value}, ours, column)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_catalogue_and_database_judge_custom_fields_alike(
    db: psycopg.Connection[tuple[object, ...]],
    owner: StackUser,
    added_field: str,
    data: st.DataObject,
) -> None:
    value = data.draw(custom_field_objects(added_field))
    catalogue = catalogue_now(db)
    assert catalogue.field(added_field).allowed == tuple(ADDED_VALUES)
    judge(
        db,
        owner,
        {**VALID, "custom_fields": value},
        catalogue.custom_fields_problem(value),
        "custom_fields",
    )


def test_the_generators_reach_both_verdicts(
    db: psycopg.Connection[tuple[object, ...]], owner: StackUser, added_field: str
) -> None:
    # Guards the tests above against strategies that only ever produce one outcome.
    catalogue = catalogue_now(db)
    assert database_verdict(db, owner, {**VALID, "goals": ["rehab", "lose_fat"]}) is None
    assert catalogue.problem("goals", ["rehab", "lose_fat"]) is None
    rejected = database_verdict(db, owner, {**VALID, "goals": ["rehab", "dance"]})
    assert rejected is not None
    assert rejected[:3] == ("23514", 'goals contains an invalid value: "dance"', "goals")
    assert catalogue.problem("goals", ["rehab", "dance"]) == rejected[1]
    custom = {added_field: ["knee", "knee"]}
    rejected = database_verdict(db, owner, {**VALID, "custom_fields": custom})
    assert rejected == (
        "23514",
        f'{added_field} contains a duplicate value: "knee"',
        added_field,
        "Allowed values: knee, shoulder, lower_back",
    )
    assert catalogue.custom_fields_problem(custom) == rejected[2:0:-1] + rejected[3:]
    assert database_verdict(db, owner, {**VALID, "custom_fields": {added_field: ["knee"]}}) is None


#: The allowed values of a field as the catalogue holds them now, in SQL.
ALLOWED_SQL = "movement_profiles_internal.catalogue_allowed_values(%s)"


@pytest.fixture
def fast_paths(db: psycopg.Connection[tuple[object, ...]], added_field: str) -> dict[str, str]:
    """Each field's fast path as its domain's CHECK has it, over the input value `v` (the
    built-in fields need a value; the added field, optional, is tried as if required)."""
    paths = {}
    for field in ("training_preferences", "goals", added_field):
        row = db.execute(
            f"select movement_profiles_internal.option_list_check_sql('v', {ALLOWED_SQL}, 1)",  # type: ignore[arg-type]
            (field,),
        ).fetchone()
        assert row is not None
        paths[field] = str(row[0])
    return paths


def fast_path_verdict(
    db: psycopg.Connection[tuple[object, ...]], fast_path: str, value: Any
) -> bool:
    return fast_path_accepts(db, fast_path, "v", value)


def slow_path_verdict(db: psycopg.Connection[tuple[object, ...]], column: str, value: Any) -> bool:
    try:
        with db.transaction(force_rollback=True):
            db.execute(
                "select movement_profiles_internal.assert_option_array("
                f"%s, %s::jsonb, {ALLOWED_SQL})",  # type: ignore[arg-type]
                (column, Jsonb(value), column),
            )
    except psycopg.errors.CheckViolation:
        return False
    return True


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=arrays)
def test_the_fast_path_accepts_exactly_what_the_slow_path_accepts(
    db: psycopg.Connection[tuple[object, ...]], fast_paths: dict[str, str], value: Any
) -> None:
    # The domains' CHECKs call the PL/pgSQL check only when the built-in operators say no. If
    # the operators said yes to a value the check refuses, it would be stored; if they said no
    # to a valid one, it would only cost time: both are held to the same answer here.
    for column, fast_path in fast_paths.items():
        fast = fast_path_verdict(db, fast_path, value)
        event(f"{column}: {'valid' if fast else 'invalid'}")
        assert fast == slow_path_verdict(db, column, value), (column, value)
