"""custom_fields' CHECK: its fast path (built-in jsonb operators) and its slow path (the PL/pgSQL
function that names what is wrong) give the same verdict on every value, for catalogues of one to
three fields, required or not, and without any.

The fast path decides alone for valid values; if it said yes to a value the slow path refuses,
the value would be stored. Both are generated for a catalogue given as data, so no catalogue
change is needed to try many of them.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from tests.support.checks import fast_path_accepts

pytestmark = pytest.mark.integration

NAMES = ["injuries", "equipment", "schedule"]
VALUES = ["knee", "shoulder", "lower_back", "dumbbells", "mat", "mornings"]

catalogues = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.sampled_from(NAMES),
            "required": st.booleans(),
            "values": st.lists(st.sampled_from(VALUES), max_size=4, unique=True),
        }
    ),
    max_size=3,
    unique_by=lambda field: field["name"],
)
entries = st.one_of(
    st.sampled_from(VALUES),
    st.sampled_from(["Knee", "knee ", "", "x" * 70]),
    st.none(),
    st.integers(),
    st.booleans(),
)
field_values = st.one_of(
    st.lists(st.sampled_from(VALUES), max_size=5),
    st.lists(entries, max_size=5),
    entries,
    st.dictionaries(st.sampled_from(VALUES), st.integers(), max_size=2),
)
objects = st.one_of(
    st.dictionaries(st.sampled_from([*NAMES, "injury", "Injuries", ""]), field_values, max_size=4),
    st.dictionaries(
        st.sampled_from(NAMES), st.lists(st.sampled_from(VALUES), max_size=3, unique=True)
    ),
    field_values,
)


def fast_verdict(
    db: psycopg.Connection[tuple[object, ...]], catalogue: list[Any], value: Any
) -> bool:
    (expression,) = db.execute(
        "select movement_profiles_internal.custom_fields_check_sql(%s)", (Jsonb(catalogue),)
    ).fetchone() or ("",)
    return fast_path_accepts(db, str(expression), "value", value)


def slow_verdict(
    db: psycopg.Connection[tuple[object, ...]], catalogue: list[Any], value: Any
) -> tuple[str, str] | None:
    try:
        with db.transaction(force_rollback=True):
            db.execute(
                "select movement_profiles_internal.assert_custom_fields(%s, %s)",
                (Jsonb(value), Jsonb(catalogue)),
            )
    except psycopg.errors.CheckViolation as error:
        return error.diag.message_primary or "", error.diag.message_hint or ""
    return None


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(catalogue=catalogues, value=objects)
def test_the_fast_path_accepts_exactly_what_the_slow_path_accepts(
    db: psycopg.Connection[tuple[object, ...]], catalogue: list[Any], value: Any
) -> None:
    fast = fast_verdict(db, catalogue, value)
    slow = slow_verdict(db, catalogue, value)
    event("valid" if fast else "invalid")
    assert fast == (slow is None), (catalogue, value, slow)
    if slow is not None:
        # The refusal names the field it is about, or custom_fields for the object itself.
        assert slow[1] in {*NAMES, "custom_fields"}, slow


def test_the_generators_reach_both_verdicts(db: psycopg.Connection[tuple[object, ...]]) -> None:
    catalogue = [{"name": "injuries", "required": True, "values": ["knee", "shoulder"]}]
    assert fast_verdict(db, catalogue, {"injuries": ["knee"]})
    assert slow_verdict(db, catalogue, {"injuries": ["knee"]}) is None
    assert not fast_verdict(db, catalogue, {})
    assert slow_verdict(db, catalogue, {}) == (
        "injuries must contain at least one value",
        "injuries",
    )
    assert not fast_verdict(db, [], {"injuries": []})
    assert slow_verdict(db, [], {"injuries": []}) == (
        'custom_fields contains an unknown field: "injuries"',
        "custom_fields",
    )
