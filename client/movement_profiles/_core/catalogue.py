"""The catalogue's operations: reading it, and the admin functions that change it.

Each admin function is one transaction in the database; its errors map as for profiles, except
``23503``: the catalogue functions raise it when profiles hold what a change would take away
(a value to retire, a field to remove), which is a conflict with the stored state
(`ConflictError`), not invalid input.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal, TypeVar

import pydantic

from movement_profiles import errors
from movement_profiles._core.operations import check_range, encode
from movement_profiles._core.responses import checked_body, error_payload
from movement_profiles._core.wire import RPC_PREFIX, Operation, Request, Response
from movement_profiles.catalogue import Catalogue, CatalogueChange, CatalogueField

#: What becomes of profiles holding a value being retired: refuse the change, remove the value
#: from them, or replace it with another value.
RetireProfiles = Literal["refuse", "remove", "replace"]
#: What becomes of profiles holding values of a field being removed.
RemoveProfiles = Literal["refuse", "remove"]

Parsed = TypeVar("Parsed", bound=pydantic.BaseModel)


def _call(function: str, arguments: Mapping[str, Any]) -> Request:
    # POST: every admin function writes; never retried once sent (see RetryPolicy).
    return Request(
        "POST",
        RPC_PREFIX + function,
        headers={"Content-Type": "application/json"},
        body=encode({name: value for name, value in arguments.items() if value is not None}),
    )


def _read(function: str, params: tuple[tuple[str, str], ...] = ()) -> Request:
    # GET: a read, retried like any other.
    return Request("GET", RPC_PREFIX + function, params=params)


def _result(response: Response, function: str) -> Any:
    """The function's result, or the mapped error: 23503 is a `ConflictError` here."""
    if response.status >= 300:
        payload = error_payload(response)
        if payload.get("code") == "23503":
            raise errors.ConflictError(
                str(payload.get("message") or f"movement_profile_{function}() was refused"),
                code="23503",
                details=_text(payload.get("details")),
                hint=_text(payload.get("hint")),
                response=response.raw,
            )
    return checked_body(response, not_found=f"movement_profile_{function}() is missing")


def _text(value: object) -> str | None:
    return value if value is None or isinstance(value, str) else json.dumps(value)


def _parse(model: type[Parsed], data: Any, function: str) -> Parsed:
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as error:
        raise errors.UnexpectedResponseError(
            f"movement_profile_{function}() returned an unexpected shape",
            details=json.dumps(data)[:500],
        ) from error


def _count(data: Any, key: str, function: str) -> int:
    if not isinstance(data, dict) or type(data.get(key)) is not int:
        raise errors.UnexpectedResponseError(
            f"movement_profile_{function}() returned an unexpected shape",
            details=json.dumps(data)[:500],
        )
    return int(data[key])


def catalogue() -> Operation[Catalogue]:
    """The catalogue: every field and its active values, in display order."""
    response = yield _read("catalogue")
    return _parse(Catalogue, _result(response, "catalogue"), "catalogue")


def add_field(
    field: str,
    label: str,
    description: str,
    required: bool,
    allowed_values: tuple[str, ...],
) -> Operation[CatalogueField]:
    response = yield _call(
        "add_field",
        {
            "field": field,
            "label": label,
            "description": description,
            "required": required,
            "allowed_values": list(allowed_values),
        },
    )
    return _parse(CatalogueField, _result(response, "add_field"), "add_field")


def add_value(
    field: str, value: str, label: str | None, description: str
) -> Operation[CatalogueField]:
    arguments = {"field": field, "value": value, "label": label, "description": description}
    response = yield _call("add_value", arguments)
    return _parse(CatalogueField, _result(response, "add_value"), "add_value")


def relabel(
    field: str, label: str, value: str | None, description: str | None
) -> Operation[CatalogueField]:
    arguments = {"field": field, "label": label, "value": value, "description": description}
    response = yield _call("relabel", arguments)
    return _parse(CatalogueField, _result(response, "relabel"), "relabel")


def retire_value(
    field: str, value: str, profiles: RetireProfiles, replacement: str | None
) -> Operation[int]:
    arguments = {
        "field": field,
        "value": value,
        "profiles": profiles,
        "replacement": replacement,
    }
    response = yield _call("retire_value", arguments)
    return _count(_result(response, "retire_value"), "profiles_changed", "retire_value")


def remove_field(field: str, profiles: RemoveProfiles) -> Operation[int]:
    response = yield _call("remove_field", {"field": field, "profiles": profiles})
    return _count(_result(response, "remove_field"), "profiles_changed", "remove_field")


def apply_catalogue(
    catalogue: Catalogue | Mapping[str, Any], profiles: RemoveProfiles
) -> Operation[int]:
    if isinstance(catalogue, Catalogue):
        wanted: Any = catalogue.to_json()
    elif isinstance(catalogue, Mapping):
        wanted = dict(catalogue)
    else:
        raise errors.ValidationError(
            f"expected a Catalogue or a mapping, got {type(catalogue).__name__}",
            code="invalid_argument",
            hint="catalogue",
        )
    response = yield _call("apply_catalogue", {"catalogue": wanted, "profiles": profiles})
    return _count(_result(response, "apply_catalogue"), "changes", "apply_catalogue")


def catalogue_sql() -> Operation[str]:
    response = yield _read("catalogue_sql")
    data = _result(response, "catalogue_sql")
    if not isinstance(data, str):
        raise errors.UnexpectedResponseError(
            "movement_profile_catalogue_sql() returned an unexpected shape",
            details=json.dumps(data)[:500],
        )
    return data


_CHANGES: pydantic.TypeAdapter[list[CatalogueChange]] = pydantic.TypeAdapter(list[CatalogueChange])


def catalogue_changes(max_rows: int) -> Operation[list[CatalogueChange]]:
    check_range("max_rows", max_rows, 1)
    response = yield _read("catalogue_changes", (("max_rows", str(max_rows)),))
    data = _result(response, "catalogue_changes")
    try:
        return _CHANGES.validate_python(data)
    except pydantic.ValidationError as error:
        raise errors.UnexpectedResponseError(
            "movement_profile_catalogue_changes() returned an unexpected shape",
            details=json.dumps(data)[:500],
        ) from error
