"""The SDK's models: the allowed values as enums, and the profile as read, created and updated.

`TrainingPreference` and `Goal` are the only Python copy of the allowed values, which are defined
once in SQL (`public.movement_profile_training_preference`, `public.movement_profile_goal`); a
test compares them with `movement_profile_options()` so drift fails the build.

The request models validate exactly as the database's CHECK constraints do
(`movement_profiles_internal.assert_option_array`), in the same order and with the same words, so
an error caught here reads the same as one the server would have sent:

- ``training_preferences must be a JSON array of strings``
- ``goals must contain at least one value``
- ``goals contains more than 5 values``
- ``training_preferences contains an invalid value: "dance"``
- ``goals contains a duplicate value: "rehab"``

Constructing an invalid `MovementProfileCreate` or `MovementProfileUpdate` (directly or with
`model_validate`) raises `movement_profiles.errors.ValidationError`, the error the server's 400
maps to, so callers handle one exception whether the SDK or the database noticed. Inside another
pydantic model they validate like any field and yield pydantic's own error, with the same messages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, Self, TypedDict
from uuid import UUID

import pydantic
from pydantic import AwareDatetime, BaseModel, ConfigDict, field_validator, model_validator
from pydantic_core import PydanticCustomError

from movement_profiles import errors
from movement_profiles.options import (
    ALLOWED_VALUES,
    OPTION_COLUMNS,
    PROFILE_COLUMNS,
    Goal,
    TrainingPreference,
)

__all__ = [
    "Goal",
    "MovementProfile",
    "MovementProfileCreate",
    "MovementProfileOptions",
    "MovementProfileUpdate",
    "TrainingPreference",
    "allowed_values_detail",
    "option_array_problem",
    "plain_create_row",
]


# The database quotes at most this many characters of an offending value
# (`movement_profiles_internal.quote_for_message`).
_QUOTED_VALUE_LIMIT = 64


class MovementProfileOptions(TypedDict):
    """The allowed values as the server lists them (`public.movement_profile_options()`)."""

    training_preferences: list[str]
    goals: list[str]


def allowed_values_detail(column: str) -> str:
    """The ``details`` the database gives with a rejected array: ``Allowed values: a, b, ...``."""
    return "Allowed values: " + ", ".join(member.value for member in OPTION_COLUMNS[column])


def _quote_for_message(value: str) -> str:
    # Mirrors movement_profiles_internal.quote_for_message: to_jsonb(text)::text escapes like
    # json.dumps without ASCII-escaping, and the value is cut to 64 characters first.
    if len(value) > _QUOTED_VALUE_LIMIT:
        value = value[:_QUOTED_VALUE_LIMIT] + "…"
    return json.dumps(value, ensure_ascii=False)


_JUST_STR = {str}


def _plainly_allowed(column: str, value: object) -> bool:
    """The usual verdict of `option_array_problem`, reached in C: a non-empty list of plain
    strings, each allowed, none repeated. False only means "look closer"."""
    return (
        type(value) is list
        and bool(value)
        and set(map(type, value)) == _JUST_STR
        and ALLOWED_VALUES[column].issuperset(value)
        and len(set(value)) == len(value)
    )


def option_array_problem(column: str, value: object) -> str | None:
    """What the database would say about `value` as `column`, or None when it would accept it.

    The same checks in the same order as ``movement_profiles_internal.assert_option_array``: a JSON
    array, then at least one entry and no more than there are allowed values, then strings only,
    then each entry in turn (allowed, then not seen before).
    """
    if _plainly_allowed(column, value):
        return None
    allowed = ALLOWED_VALUES[column]
    if not isinstance(value, list | tuple):
        return f"{column} must be a JSON array of strings"
    if not value:
        return f"{column} must contain at least one value"
    if len(value) > len(allowed):
        return f"{column} contains more than {len(allowed)} values"
    if not all(isinstance(entry, str) for entry in value):
        return f"{column} must be a JSON array of strings"
    seen: set[str] = set()
    for entry in value:
        # str() turns an enum member into its value, as JSON encoding would.
        text = str(entry)
        if text not in allowed:
            return f"{column} contains an invalid value: {_quote_for_message(text)}"
        if text in seen:
            return f"{column} contains a duplicate value: {_quote_for_message(text)}"
        seen.add(text)
    return None


#: The fields of a request that creates a profile, in `MovementProfileCreate`'s order.
CREATE_FIELDS = ("user_id", "training_preferences", "goals")
_CREATE_FIELD_SET = frozenset(CREATE_FIELDS)
# A UUID as PostgreSQL and `str(UUID)` write it (in either case): one form among the many that
# UUID parsing accepts, and the one files and requests nearly always carry.
_HYPHENATED_UUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def plain_create_row(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """``MovementProfileCreate.model_validate(data).to_json()`` for the plain form most input has,
    without building the model (about a fifth of the time); None for anything else.

    The plain form: exactly `user_id` (a hyphenated UUID string), `training_preferences` and
    `goals` (lists of plain strings that `option_array_problem`, the rule the model applies,
    accepts at its first glance). None means only "not this form": valid input in another form
    (a `UUID` object, braces, enum members) and every invalid input go to the model, which gives
    the verdict and the error.
    """
    if not is_plain_create_row(data):
        return None
    return {
        "user_id": data["user_id"].lower(),
        "training_preferences": data["training_preferences"],
        "goals": data["goals"],
    }


def is_plain_create_row(data: Mapping[str, Any]) -> bool:
    """Whether `plain_create_row` takes `data`: a valid profile in the plain form, which the
    database reads exactly as the model does (so it may be sent as it was written)."""
    return (
        data.keys() == _CREATE_FIELD_SET
        and is_hyphenated_uuid(data["user_id"])
        and _plainly_allowed("training_preferences", data["training_preferences"])
        and _plainly_allowed("goals", data["goals"])
    )


def is_hyphenated_uuid(value: object) -> bool:
    """A UUID string in the 8-4-4-4-12 form (either case), the form the database writes."""
    return type(value) is str and _HYPHENATED_UUID.fullmatch(value) is not None


def _check_option_array(column: str, value: object) -> object:
    problem = option_array_problem(column, value)
    if problem is not None:
        # A custom error type keeps the message verbatim (no "Value error, " prefix) and lets
        # ValidationError.from_pydantic tell these rules from pydantic's own.
        raise PydanticCustomError(
            "option_array", problem, {"column": column, "details": allowed_values_detail(column)}
        )
    return value


class _RequestModel(BaseModel):
    """Base of the request models: invalid input raises the SDK's ValidationError."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as error:
            raise errors.ValidationError.from_pydantic(error) from None

    # Marks this __init__ as pydantic's own (as pydantic's RootModel does), so that validation
    # (model_validate, nested models) does not route through it and wrap the SDK's error in
    # pydantic's; it only translates the error for direct construction.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    # The overrides forward whatever arguments the installed pydantic takes (2.7 has no `extra=`,
    # 2.11 added `by_alias=`...), so the models work across the whole supported range.
    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        """Validate `obj` (e.g. a dict); raises `movement_profiles.errors.ValidationError`."""
        try:
            return super().model_validate(obj, *args, **kwargs)
        except pydantic.ValidationError as error:
            raise errors.ValidationError.from_pydantic(error) from None

    @classmethod
    def model_validate_json(
        cls, json_data: str | bytes | bytearray, *args: Any, **kwargs: Any
    ) -> Self:
        """Validate a JSON document; raises `movement_profiles.errors.ValidationError`."""
        try:
            return super().model_validate_json(json_data, *args, **kwargs)
        except pydantic.ValidationError as error:
            raise errors.ValidationError.from_pydantic(error) from None

    def to_json(self) -> dict[str, Any]:
        """The request body: JSON-ready, without the fields left unset."""
        return self.model_dump(mode="json", exclude_none=True)


class MovementProfileCreate(_RequestModel):
    """A new profile: `POST /movement-profiles`.

    `user_id` may be left out when acting as a user: the database then uses the caller's id
    (``auth.uid()``). With the service key it is required. Both arrays must be non-empty, without
    duplicates, and hold only allowed values; plain strings are accepted and become enum members.
    """

    user_id: UUID | None = None
    training_preferences: list[TrainingPreference]
    goals: list[Goal]

    @field_validator("training_preferences", "goals", mode="before")
    @classmethod
    def _arrays_follow_the_database_rules(cls, value: object, info: pydantic.ValidationInfo) -> Any:
        assert info.field_name is not None
        return _check_option_array(info.field_name, value)


class MovementProfileUpdate(_RequestModel):
    """A change to a profile: `PUT /movement-profiles/{user_id}` (a PATCH of the row).

    Only the fields given change; at least one is required. A field given as None is left as is.
    The same array rules as `MovementProfileCreate` apply.
    """

    training_preferences: list[TrainingPreference] | None = None
    goals: list[Goal] | None = None

    @field_validator("training_preferences", "goals", mode="before")
    @classmethod
    def _arrays_follow_the_database_rules(cls, value: object, info: pydantic.ValidationInfo) -> Any:
        if value is None:
            return None
        assert info.field_name is not None
        return _check_option_array(info.field_name, value)

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if self.training_preferences is None and self.goals is None:
            raise PydanticCustomError(
                "empty_update",
                "an update needs at least one of training_preferences, goals",
            )
        return self


class MovementProfile(BaseModel):
    """A stored profile, as the server returns it.

    Timestamps are timezone-aware. `updated_at` is what `update(..., expected_updated_at=...)`
    compares against for optimistic concurrency.
    """

    model_config = ConfigDict(frozen=True)

    id: UUID
    user_id: UUID
    training_preferences: list[TrainingPreference]
    goals: list[Goal]
    created_at: AwareDatetime
    updated_at: AwareDatetime

    #: The columns the SDK asks PostgREST for (``select=``).
    COLUMNS: ClassVar[Sequence[str]] = PROFILE_COLUMNS


def aware_datetime(value: datetime | str, *, field: str) -> datetime:
    """Parse `value` as a timezone-aware datetime, or raise the SDK's ValidationError."""
    try:
        return _AWARE_DATETIME.validate_python(value)
    except pydantic.ValidationError as error:
        raise errors.ValidationError.from_pydantic(error, field=field) from None


def parse_uuid(value: UUID | str, *, field: str = "user_id") -> UUID:
    """Parse `value` as a UUID, or raise the SDK's ValidationError naming `field`."""
    if isinstance(value, UUID):
        return value
    try:
        return _UUID.validate_python(value)
    except pydantic.ValidationError as error:
        raise errors.ValidationError.from_pydantic(error, field=field) from None


_AWARE_DATETIME: pydantic.TypeAdapter[datetime] = pydantic.TypeAdapter(AwareDatetime)
_UUID: pydantic.TypeAdapter[UUID] = pydantic.TypeAdapter(UUID)
