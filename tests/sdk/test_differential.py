"""Differential test: the SDK's validation and the database's CHECKs agree on every array.

Hypothesis generates arrays (allowed values of both columns, look-alikes, arbitrary and long
text, non-strings, nulls, duplicates, empty arrays, non-arrays). Each is tried as
`training_preferences` and as `goals` (the other column valid), once through
`MovementProfileCreate` and once as an INSERT in a transaction that is rolled back. Both must
accept exactly the same inputs; where the database rejects with its CHECK (23514), the SDK's
message must be the database's, word for word.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from movement_profiles import Goal, MovementProfileCreate, TrainingPreference, ValidationError
from tests.support.users import StackUser

pytestmark = pytest.mark.integration

PREFERENCES = [member.value for member in TrainingPreference]
GOALS = [member.value for member in Goal]
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
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=80),
)
entries = st.one_of(
    st.sampled_from(PREFERENCES + GOALS),
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
    st.lists(entries, max_size=6),
    # Around each column's number of allowed values (5 and 6): longer is refused by its length.
    st.lists(entries, min_size=5, max_size=8),
    scalars,
    st.dictionaries(st.text(max_size=5), st.sampled_from(GOALS), max_size=2),
)

VALID = {"training_preferences": ["yoga"], "goals": ["rehab"]}


def sdk_verdict(column: str, value: Any) -> str | None:
    try:
        MovementProfileCreate(**{**VALID, column: value})
    except ValidationError as error:
        return error.message
    return None


def database_verdict(
    db: psycopg.Connection[tuple[object, ...]], user: StackUser, column: str, value: Any
) -> tuple[str, str] | None:
    """None when the row would be stored, else (SQLSTATE, message); nothing is kept."""
    row = {**VALID, column: value}
    try:
        with db.transaction(force_rollback=True):
            db.execute(
                "insert into public.movement_profiles (user_id, training_preferences, goals) "
                "values (%s, %s, %s)",
                (user.id, Jsonb(row["training_preferences"]), Jsonb(row["goals"])),
            )
    except psycopg.Error as error:
        return error.sqlstate or "", error.diag.message_primary or ""
    return None


@pytest.fixture
def owner(make_user: Callable[[], StackUser]) -> StackUser:
    return make_user()


@settings(
    max_examples=200,
    deadline=None,
    # One user and one connection serve every example: each insert is rolled back.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=arrays)
def test_sdk_and_database_accept_and_reject_the_same_arrays(
    db: psycopg.Connection[tuple[object, ...]], owner: StackUser, value: Any
) -> None:
    for column in ("training_preferences", "goals"):
        ours = sdk_verdict(column, value)
        theirs = database_verdict(db, owner, column, value)
        event(f"{column}: {'accepted' if theirs is None else 'rejected'}")
        assert (ours is None) == (theirs is None), (column, value, ours, theirs)
        if theirs is not None and theirs[0] == "23514":
            assert ours == theirs[1], (column, value)


def test_the_generator_reaches_both_verdicts(
    db: psycopg.Connection[tuple[object, ...]], owner: StackUser
) -> None:
    # Guards the test above against a strategy that only ever produces one outcome.
    assert database_verdict(db, owner, "goals", ["rehab", "lose_fat"]) is None
    assert sdk_verdict("goals", ["rehab", "lose_fat"]) is None
    rejected = database_verdict(db, owner, "goals", ["rehab", "rehab"])
    assert rejected == ("23514", 'goals contains a duplicate value: "rehab"')
    assert sdk_verdict("goals", ["rehab", "rehab"]) == rejected[1]


BUILT_IN_FIELDS = ("training_preferences", "goals")


@pytest.fixture
def fast_paths(db: psycopg.Connection[tuple[object, ...]]) -> dict[str, str]:
    """Each column's fast path as its domain's CHECK has it, over the input value `v`."""
    paths = {}
    for column in BUILT_IN_FIELDS:
        row = db.execute(
            "select movement_profiles_internal.option_list_check_sql("
            "'v', movement_profiles_internal.catalogue_allowed_values(%s), 1)",
            (column,),
        ).fetchone()
        assert row is not None
        paths[column] = str(row[0])
    return paths


def fast_path_verdict(
    db: psycopg.Connection[tuple[object, ...]], fast_path: str, value: Any
) -> bool:
    try:
        row = db.execute(
            f"select coalesce({fast_path}, false) from (select %s::jsonb as v) as input",  # type: ignore[arg-type]
            (Jsonb(value),),
        ).fetchone()
    except psycopg.errors.UntranslatableCharacter:
        # "\u0000" is valid JSON but no jsonb: such a value never reaches a CHECK.
        assume(False)
    assert row is not None
    return bool(row[0])


def slow_path_verdict(db: psycopg.Connection[tuple[object, ...]], column: str, value: Any) -> bool:
    try:
        with db.transaction(force_rollback=True):
            db.execute(
                "select movement_profiles_internal.assert_option_array(%s, %s::jsonb,"
                " movement_profiles_internal.catalogue_allowed_values(%s))",
                (column, Jsonb(value), column),
            )
    except psycopg.errors.CheckViolation:
        return False
    return True


@settings(
    max_examples=200,
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
