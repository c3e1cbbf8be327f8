"""The Python enums are named constants of the values the component ships with: the catalogue of
every environment starts with exactly them, in order. They are not the list of allowed values
(the catalogue is: an admin may add values at run time), and the SDK validates nothing against
them."""

from __future__ import annotations

import ast
from pathlib import Path

import psycopg
import pytest

import movement_profiles
from movement_profiles import Goal, TrainingPreference

SHIPPED = {
    "training_preferences": [member.value for member in TrainingPreference],
    "goals": [member.value for member in Goal],
}


@pytest.mark.integration
def test_the_enums_are_the_first_values_of_the_built_in_fields(
    db: psycopg.Connection[tuple[object, ...]],
) -> None:
    # Retired ones included: whatever an admin did since, the shipped values stay first.
    for field, values in SHIPPED.items():
        rows = db.execute(
            "select value from movement_profiles_internal.catalogue_values "
            "where field = %s order by position limit %s",
            (field, len(values)),
        ).fetchall()
        assert [value for (value,) in rows] == values


def test_no_module_of_the_sdk_lists_allowed_values_but_the_enums() -> None:
    # One source of truth: the catalogue. A literal list or set of shipped values anywhere in
    # the SDK (outside the enums' own definitions) would be a second one.
    shipped = {value for values in SHIPPED.values() for value in values}
    package = Path(movement_profiles.__file__).parent
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.List | ast.Tuple | ast.Set):
                literals = {
                    element.value
                    for element in node.elts
                    if isinstance(element, ast.Constant) and isinstance(element.value, str)
                }
                assert not literals & shipped, (path.name, sorted(literals & shipped))
