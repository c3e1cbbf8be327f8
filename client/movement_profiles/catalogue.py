"""The catalogue: the multi-select fields of a movement profile and their allowed values, as data.

The database keeps the catalogue (``movement_profile_catalogue()``), and an admin changes it at run
time (`client.add_field`, `client.add_value`, ...): a new field or value is valid for every client
at once, without a migration or a release of this package. `client.catalogue()` reads it as a
`Catalogue`, which can judge a value before any write with exactly the database's verdict and
words (`Catalogue.problem`, `Catalogue.custom_fields_problem`), and shows each field's labels.

    catalogue = client.catalogue()
    catalogue.field("goals").allowed                  # ("build_muscle", "lose_fat", ...)
    catalogue.problem("goals", ["dance"])             # 'goals contains an invalid value: "dance"'
    catalogue.custom_fields_problem({"foo": ["x"]})   # ("custom_fields", 'custom_fields contains
                                                      #  an unknown field: "foo"', "Fields: ...")

A catalogue read is a snapshot: another admin may change it a moment later, and the database's
verdict at write time is the one that counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict

from movement_profiles.models import (
    allowed_values_detail,
    array_problem,
    quote_for_message,
)
from movement_profiles.options import CUSTOM_FIELDS_COLUMN

__all__ = ["Catalogue", "CatalogueChange", "CatalogueField", "CatalogueValue"]


class _Model(BaseModel):
    # Frozen, and tolerant of keys a newer database adds: a client keeps reading the catalogue
    # across a migration that extends its shape.
    model_config = ConfigDict(frozen=True, extra="ignore")


class CatalogueValue(_Model):
    """One allowed value of a field: the value stored in profiles, and its words for people."""

    value: str
    label: str
    description: str = ""


class CatalogueField(_Model):
    """One multi-select field: its name (the key profiles store it under), words for people,
    whether a profile must hold at least one value, whether it is one of the built-in columns
    (`training_preferences`, `goals`) or lives in ``custom_fields``, and its active values in
    display order."""

    name: str
    label: str
    description: str = ""
    required: bool
    built_in: bool
    values: tuple[CatalogueValue, ...] = ()

    @property
    def allowed(self) -> tuple[str, ...]:
        """The allowed values, in display order."""
        return tuple(value.value for value in self.values)

    def value(self, value: str) -> CatalogueValue:
        """The entry of `value`; KeyError when the field has no such active value."""
        for entry in self.values:
            if entry.value == value:
                return entry
        raise KeyError(value)

    def problem(self, value: object) -> str | None:
        """What the database would say about `value` as this field's array, or None when it
        would accept it."""
        return array_problem(self.name, value, allowed=self.allowed, required=self.required)

    def detail(self) -> str:
        """The ``details`` of the database's errors about this field: ``Allowed values: ...``."""
        return allowed_values_detail(self.allowed)


class Catalogue(_Model):
    """The catalogue as ``movement_profile_catalogue()`` returns it: every field in display
    order, the built-in ones first.

    Build one with `Catalogue.model_validate(json)` (e.g. a file written from `to_json()`), or
    read the live one with `client.catalogue()`.
    """

    fields: tuple[CatalogueField, ...]

    def field(self, name: str) -> CatalogueField:
        """The field called `name`; KeyError when the catalogue has none."""
        for field in self.fields:
            if field.name == name:
                return field
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        """Every field's name, in display order."""
        return tuple(field.name for field in self.fields)

    @property
    def custom_fields(self) -> tuple[CatalogueField, ...]:
        """The fields stored in ``custom_fields`` (all but the built-in ones), in display order."""
        return tuple(field for field in self.fields if not field.built_in)

    def problem(self, field: str, value: object) -> str | None:
        """Exactly the database's message about `value` as the array of `field` (built-in or
        custom), or None when it would accept it. KeyError when there is no such field (in
        ``custom_fields`` the database calls that an unknown field:
        see `custom_fields_problem`)."""
        return self.field(field).problem(value)

    def custom_fields_problem(self, value: object) -> tuple[str, str, str] | None:
        """(hint, message, details) of the database's error about `value` as a profile's whole
        ``custom_fields``, or None when it would accept it.

        In the database's order: a JSON object, then no unknown field (the first in the order
        jsonb keeps keys: shorter first, then bytewise), then each custom field in display
        order (absent counts as ``[]``, which a required field refuses). The hint is
        ``custom_fields`` for the first two, else the field's name.
        """
        custom = self.custom_fields
        fields_detail = "Fields: " + (", ".join(field.name for field in custom) or "none")
        if not isinstance(value, Mapping) or not all(type(key) is str for key in value):
            return (
                CUSTOM_FIELDS_COLUMN,
                f"{CUSTOM_FIELDS_COLUMN} must be a JSON object",
                fields_detail,
            )
        known = {field.name for field in custom}
        for key in sorted(value, key=_jsonb_key_order):
            if key not in known:
                return (
                    CUSTOM_FIELDS_COLUMN,
                    f"{CUSTOM_FIELDS_COLUMN} contains an unknown field: {quote_for_message(key)}",
                    fields_detail,
                )
        for field in custom:
            problem = field.problem(value.get(field.name, []))
            if problem is not None:
                return field.name, problem, field.detail()
        return None

    def to_json(self) -> dict[str, Any]:
        """The shape ``movement_profile_catalogue()`` returns (and `apply_catalogue` takes)."""
        return self.model_dump(mode="json")


class CatalogueChange(_Model):
    """One recorded change of the catalogue (``movement_profile_catalogue_changes()``).

    `changed_by` is the caller's role and token subject when the change came through the API,
    else the database user; `before` and `after` are the field or value entry around the change
    (None where there was none); `profiles_changed` counts the profiles the change rewrote.
    """

    id: int
    changed_at: AwareDatetime
    changed_by: str
    action: str
    field: str | None = None
    value: str | None = None
    before: Any = None
    after: Any = None
    profiles_changed: int = 0


def _jsonb_key_order(key: str) -> tuple[int, bytes]:
    # jsonb stores an object's keys by length in bytes, then bytewise: its first unknown key is
    # the first in this order, whatever order the caller wrote them in.
    encoded = key.encode("utf-8", "surrogatepass")
    return len(encoded), encoded
