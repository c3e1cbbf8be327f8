"""`--set FIELD=VALUE[,VALUE...]` and `--has FIELD=VALUE[,VALUE...]`: any catalogue field by name.

The built-in fields (`training_preferences`, `goals`) are columns of their own; every field an
admin added lives in the `custom_fields` object. Which one a name is does not depend on the
catalogue (only these two are columns), so parsing needs no request; whether the field and its
values exist is the database's to judge, in its own words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from movement_profiles_cli.commands._common import ExitCode, fail

#: The fields stored as columns of their own; every other field is a key of `custom_fields`.
BUILT_IN_FIELDS = ("training_preferences", "goals")
#: Columns that are not fields: naming them in --set is a mistake, not an unknown field.
_NOT_FIELDS = ("id", "user_id", "created_at", "updated_at", "custom_fields")


@dataclass
class FieldValues:
    """Values by field, as the options gave them: built-ins apart, custom fields in order."""

    built_in: dict[str, list[str]] = field(default_factory=dict)
    custom: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, values: Sequence[str]) -> None:
        target = self.built_in if name in BUILT_IN_FIELDS else self.custom
        target.setdefault(name, []).extend(values)


def parse_assignments(
    assignments: Sequence[str] | None, option: str = "--set", *, allow_empty: bool = True
) -> FieldValues:
    """`FIELD=VALUE[,VALUE...]` options as values by field. A field named twice gets the values
    of both, in order (as `--goal` repeated does). `FIELD=` is no value: it clears an optional
    field (where `allow_empty`). Exits 2 on a malformed one, before any request."""
    parsed = FieldValues()
    for assignment in assignments or ():
        name, equals, text = assignment.partition("=")
        name = name.strip()
        if not equals or not name:
            fail(
                f"{option} {assignment!r}: expected FIELD=VALUE[,VALUE...], e.g. "
                f"{option} injuries=knee,shoulder",
                ExitCode.INVALID_INPUT,
            )
        if name in _NOT_FIELDS:
            fail(f"{option} {name}=...: {name} is not a field of values", ExitCode.INVALID_INPUT)
        values = [value.strip() for value in text.split(",")] if text.strip() else []
        if "" in values:
            fail(f"{option} {assignment!r}: an empty value between commas", ExitCode.INVALID_INPUT)
        if not values and not allow_empty:
            fail(f"{option} {name}=: give at least one value", ExitCode.INVALID_INPUT)
        parsed.add(name, values)
    return parsed
