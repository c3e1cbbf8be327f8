"""The SDK's models: the profile as read, created and updated, and the rule of a field's array.

The allowed values are data in the database's catalogue, which an admin may change at any time, so
the request models check only what holds whatever the catalogue says, with the database's own
words (`movement_profiles_internal.assert_option_array`), in its order:

- ``training_preferences must be a JSON array of strings``
- ``goals must contain at least one value`` (the built-in fields are required)
- ``goals contains a duplicate value: "rehab"``
- ``custom_fields must be a JSON object``, ``injuries must be a JSON array of strings``, ...

Whether a value is allowed, whether a custom field exists or is required, and how many values a
field may hold are the catalogue's to say: the database judges them at write time, and
`movement_profiles.catalogue.Catalogue.problem` gives the same verdict before any write, from a
catalogue the caller read (`client.catalogue()`). Both use `array_problem`, this module's one
copy of the database's rule.

Constructing an invalid `MovementProfileCreate` or `MovementProfileUpdate` (directly or with
`model_validate`) raises `movement_profiles.errors.ValidationError`, the error the server's 400
maps to, so callers handle one exception whether the SDK or the database noticed. Inside another
pydantic model they validate like any field and yield pydantic's own error, with the same messages.
Reading a profile never checks values: a value the catalogue gained after this SDK was released
reads like any other.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, Self
from uuid import UUID

import pydantic
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from movement_profiles import errors
from movement_profiles.options import (
    BUILT_IN_FIELDS,
    CUSTOM_FIELDS_COLUMN,
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
    "array_problem",
    "custom_fields_shape_problem",
    "plain_create_row",
    "quote_for_message",
]


# The database quotes at most this many characters of an offending value
# (`movement_profiles_internal.quote_for_message`).
_QUOTED_VALUE_LIMIT = 64

#: The allowed values as the server lists them (`public.movement_profile_options()`): every
#: field of the catalogue, built-in and custom, and its active values in display order.
MovementProfileOptions = dict[str, list[str]]


def allowed_values_detail(allowed: Collection[str]) -> str:
    """The ``details`` the database gives with a rejected array: ``Allowed values: a, b, ...``."""
    return "Allowed values: " + ", ".join(allowed)


def quote_for_message(value: str) -> str:
    """A value as the database's messages quote it (`movement_profiles_internal.quote_for_message`):
    to_jsonb(text)::text escapes like json.dumps without ASCII-escaping, after the value is cut
    to 64 characters."""
    if len(value) > _QUOTED_VALUE_LIMIT:
        value = value[:_QUOTED_VALUE_LIMIT] + "…"
    return json.dumps(value, ensure_ascii=False)


_JUST_STR = {str}


def _plain_array(value: object, *, required: bool) -> bool:
    """The usual verdict of `array_problem` without a catalogue, reached in C: a list of plain
    strings (non-empty when required), none repeated. False only means "look closer"."""
    return (
        type(value) is list
        and (set(map(type, value)) == _JUST_STR if value else not required)
        and len(set(value)) == len(value)
    )


def array_problem(
    field: str,
    value: object,
    *,
    allowed: Sequence[str] | None = None,
    required: bool = True,
) -> str | None:
    """What the database would say about `value` as the array of `field`, or None when it would
    accept it: the one copy of ``movement_profiles_internal.assert_option_array``, for built-in
    and custom fields alike.

    The same checks in the same order: a JSON array, then at least one entry (when `required`)
    and no more than there are allowed values, then strings only, then each entry in turn
    (allowed, then not seen before). With `allowed` None (no catalogue at hand) the checks that
    depend on the allowed values are skipped: the verdict is then the database's whenever the
    database accepts the entries, and otherwise may name a later problem than the database would.
    """
    if allowed is None and _plain_array(value, required=required):
        return None
    if not isinstance(value, list | tuple):
        return f"{field} must be a JSON array of strings"
    if not value:
        return f"{field} must contain at least one value" if required else None
    if allowed is not None and len(value) > len(allowed):
        return f"{field} contains more than {len(allowed)} values"
    if not all(isinstance(entry, str) for entry in value):
        return f"{field} must be a JSON array of strings"
    allowed_set = None if allowed is None else frozenset(allowed)
    seen: set[str] = set()
    for entry in value:
        # str() turns an enum member into its value, as JSON encoding would.
        text = str(entry)
        if allowed_set is not None and text not in allowed_set:
            return f"{field} contains an invalid value: {quote_for_message(text)}"
        if text in seen:
            return f"{field} contains a duplicate value: {quote_for_message(text)}"
        seen.add(text)
    return None


def custom_fields_shape_problem(value: object) -> tuple[str, str] | None:
    """(hint, message) for what is wrong with a ``custom_fields`` object whatever the catalogue
    says (not an object; a field's value not an array of distinct strings), or None.

    Unknown fields, required fields, allowed values and lengths are the catalogue's to judge
    (`Catalogue.custom_fields_problem`)."""
    if not isinstance(value, Mapping) or not all(type(key) is str for key in value):
        return CUSTOM_FIELDS_COLUMN, f"{CUSTOM_FIELDS_COLUMN} must be a JSON object"
    for name, entries in value.items():
        problem = array_problem(name, entries, required=False)
        if problem is not None:
            return name, problem
    return None


def _plain_custom_fields(value: object) -> bool:
    return type(value) is dict and all(
        type(name) is str and _plain_array(entries, required=False)
        for name, entries in value.items()
    )


#: The fields every request that creates a profile has, in `MovementProfileCreate`'s order.
CREATE_FIELDS = ("user_id", *BUILT_IN_FIELDS)
#: The fields it may have besides.
CREATE_OPTIONAL_FIELDS = (CUSTOM_FIELDS_COLUMN,)
_CREATE_FIELD_SET = frozenset(CREATE_FIELDS)
_CREATE_FIELD_SET_WITH_CUSTOM = frozenset((*CREATE_FIELDS, *CREATE_OPTIONAL_FIELDS))
# A UUID as PostgreSQL and `str(UUID)` write it (in either case): one form among the many that
# UUID parsing accepts, and the one files and requests nearly always carry.
_HYPHENATED_UUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def plain_create_row(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """``MovementProfileCreate.model_validate(data).to_json()`` for the plain form most input has,
    without building the model (about a fifth of the time); None for anything else.

    The plain form: exactly `user_id` (a hyphenated UUID string), `training_preferences` and
    `goals` (lists of plain strings that `array_problem`, the rule the model applies, accepts at
    its first glance), and optionally `custom_fields` (a dict of such lists, empty ones allowed).
    None means only "not this form": valid input in another form (a `UUID` object, braces, enum
    members) and every invalid input go to the model, which gives the verdict and the error.
    """
    if not is_plain_create_row(data):
        return None
    row = {
        "user_id": data["user_id"].lower(),
        "training_preferences": data["training_preferences"],
        "goals": data["goals"],
    }
    if data.get(CUSTOM_FIELDS_COLUMN):
        row[CUSTOM_FIELDS_COLUMN] = data[CUSTOM_FIELDS_COLUMN]
    return row


def is_plain_create_row(data: Mapping[str, Any]) -> bool:
    """Whether `plain_create_row` takes `data`: a profile in the plain form that the model would
    accept, and that the database reads exactly as the model does (so it may be sent as it was
    written). The database may still refuse its values: they are the catalogue's to judge."""
    keys = data.keys()
    return (
        (
            keys == _CREATE_FIELD_SET
            or (
                keys == _CREATE_FIELD_SET_WITH_CUSTOM
                and _plain_custom_fields(data[CUSTOM_FIELDS_COLUMN])
            )
        )
        and is_hyphenated_uuid(data["user_id"])
        and _plain_array(data["training_preferences"], required=True)
        and _plain_array(data["goals"], required=True)
    )


def is_hyphenated_uuid(value: object) -> bool:
    """A UUID string in the 8-4-4-4-12 form (either case), the form the database writes."""
    return type(value) is str and _HYPHENATED_UUID.fullmatch(value) is not None


def _check_built_in_array(field: str, value: object) -> object:
    problem = array_problem(field, value)
    if problem is not None:
        # A custom error type keeps the message verbatim (no "Value error, " prefix) and lets
        # ValidationError.from_pydantic tell these rules from pydantic's own. No ``details``:
        # the allowed values are the catalogue's, which the model does not know.
        raise PydanticCustomError("option_array", problem, {"column": field})
    return value


def _check_custom_fields(value: object) -> object:
    problem = custom_fields_shape_problem(value)
    if problem is not None:
        hint, message = problem
        raise PydanticCustomError("option_array", message, {"column": hint})
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
    (``auth.uid()``). With the service key it is required. Both arrays must be non-empty lists of
    strings without duplicates (the enum members are strings too); which values are allowed is
    the catalogue's to say, and the database checks it.

    `custom_fields` holds the fields an admin added to the catalogue: field name -> list of
    values, e.g. ``{"injuries": ["knee"]}``. Left out or empty, the profile has none (a required
    custom field then makes the database refuse it). Each list must hold distinct strings.
    """

    user_id: UUID | None = None
    training_preferences: list[str]
    goals: list[str]
    custom_fields: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("training_preferences", "goals", mode="before")
    @classmethod
    def _arrays_follow_the_database_rules(cls, value: object, info: pydantic.ValidationInfo) -> Any:
        assert info.field_name is not None
        return _check_built_in_array(info.field_name, value)

    @field_validator("custom_fields", mode="before")
    @classmethod
    def _custom_fields_follow_the_database_rules(cls, value: object) -> Any:
        return _check_custom_fields(value)

    def to_json(self) -> dict[str, Any]:
        """The request body: JSON-ready, without the fields left unset (nor empty custom_fields,
        which is what the database stores when it is left out)."""
        body = super().to_json()
        if not body.get(CUSTOM_FIELDS_COLUMN):
            body.pop(CUSTOM_FIELDS_COLUMN, None)
        return body


class MovementProfileUpdate(_RequestModel):
    """A change to a profile: `PUT /movement-profiles/{user_id}` (a PATCH of the row).

    Only the fields given change; at least one is required. A field given as None is left as is.
    The same array rules as `MovementProfileCreate` apply. `custom_fields` replaces the profile's
    custom fields as a whole (``{}`` clears them): to change one field and keep the others, read
    the profile, change its mapping and pass it with ``expected_updated_at``.
    """

    training_preferences: list[str] | None = None
    goals: list[str] | None = None
    custom_fields: dict[str, list[str]] | None = None

    @field_validator("training_preferences", "goals", mode="before")
    @classmethod
    def _arrays_follow_the_database_rules(cls, value: object, info: pydantic.ValidationInfo) -> Any:
        if value is None:
            return None
        assert info.field_name is not None
        return _check_built_in_array(info.field_name, value)

    @field_validator("custom_fields", mode="before")
    @classmethod
    def _custom_fields_follow_the_database_rules(cls, value: object) -> Any:
        return None if value is None else _check_custom_fields(value)

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if self.training_preferences is None and self.goals is None and self.custom_fields is None:
            raise PydanticCustomError(
                "empty_update",
                "an update needs at least one of training_preferences, goals, custom_fields",
            )
        return self


class MovementProfile(BaseModel):
    """A stored profile, as the server returns it.

    `training_preferences` and `goals` are lists of strings (compare them with the enums'
    members, or with any value of the catalogue); `custom_fields` maps each custom field the
    profile has to its values. Values are never checked on reading: one the catalogue gained
    after this SDK was released reads like any other. Timestamps are timezone-aware.
    `updated_at` is what `update(..., expected_updated_at=...)` compares against for optimistic
    concurrency.
    """

    model_config = ConfigDict(frozen=True)

    id: UUID
    user_id: UUID
    training_preferences: list[str]
    goals: list[str]
    custom_fields: dict[str, list[str]] = Field(default_factory=dict)
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
