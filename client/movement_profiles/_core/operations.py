"""The operations on one profile or a page of them: the requests each sends, what it makes of
the answers."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from movement_profiles import errors
from movement_profiles._core.responses import (
    check_status,
    checked_body,
    parse_profile,
    parse_profiles,
    parse_profiles_body,
)
from movement_profiles._core.wire import (
    MAX_PAGE_SIZE,
    OPTIONS_FUNCTION,
    SELECT_COLUMNS,
    SINGLE_OBJECT,
    TABLE,
    Operation,
    Request,
)
from movement_profiles.models import (
    Goal,
    MovementProfile,
    MovementProfileCreate,
    MovementProfileOptions,
    MovementProfileUpdate,
    TrainingPreference,
    aware_datetime,
    parse_uuid,
)
from movement_profiles.options import CUSTOM_FIELDS_COLUMN

# -- requests ---------------------------------------------------------------------------------


def encode(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _not_found_message(user_id: UUID) -> str:
    return f"no movement profile for user {user_id}, or it is not yours"


RequestModel = TypeVar("RequestModel", MovementProfileCreate, MovementProfileUpdate)


def coerce(model: type[RequestModel], value: RequestModel | Mapping[str, Any]) -> RequestModel:
    if isinstance(value, model):
        return value
    if isinstance(value, Mapping):
        return model.model_validate(dict(value))
    raise errors.ValidationError(
        f"expected a {model.__name__} or a mapping, got {type(value).__name__}",
        code="invalid_argument",
    )


def create(profile: MovementProfileCreate | Mapping[str, Any]) -> Operation[MovementProfile]:
    """POST /movement-profiles: insert one profile and return it as stored (201)."""
    profile = coerce(MovementProfileCreate, profile)
    response = yield Request(
        "POST",
        TABLE,
        params=(("select", SELECT_COLUMNS),),
        headers={
            "Accept": SINGLE_OBJECT,
            "Content-Type": "application/json",
            "Prefer": "return=representation",
        },
        body=encode(profile.to_json()),
    )
    not_found = "the created profile is not readable by the caller"
    return parse_profile(checked_body(response, expected=201, not_found=not_found))


def get(user_id: UUID | str) -> Operation[MovementProfile]:
    """GET /movement-profiles/{user_id}: the profile, or NotFoundError (also when not yours)."""
    user = parse_uuid(user_id)
    response = yield Request(
        "GET",
        TABLE,
        params=(("select", SELECT_COLUMNS), ("user_id", f"eq.{user}")),
        headers={"Accept": SINGLE_OBJECT},
    )
    return parse_profile(checked_body(response, not_found=_not_found_message(user)))


def update(
    user_id: UUID | str,
    changes: MovementProfileUpdate | Mapping[str, Any],
    expected_updated_at: datetime | str | None = None,
) -> Operation[MovementProfile]:
    """PUT /movement-profiles/{user_id} as a PATCH of the row, optionally optimistic.

    With `expected_updated_at` the row's ``updated_at`` is part of the filter, so the database
    writes only a row that has not changed since (atomically: a concurrent writer's row lock makes
    this one re-check the filter). No row written means stale or missing; one read tells which.
    """
    user = parse_uuid(user_id)
    update_ = coerce(MovementProfileUpdate, changes)
    expected = (
        None
        if expected_updated_at is None
        else aware_datetime(expected_updated_at, field="expected_updated_at")
    )
    params = [("select", SELECT_COLUMNS), ("user_id", f"eq.{user}")]
    if expected is not None:
        params.append(("updated_at", f"eq.{expected.isoformat()}"))
    response = yield Request(
        "PATCH",
        TABLE,
        params=tuple(params),
        headers={"Content-Type": "application/json", "Prefer": "return=representation"},
        body=encode(update_.to_json()),
    )
    rows = parse_profiles(checked_body(response, not_found=_not_found_message(user)))
    if rows:
        return rows[0]
    if expected is None:
        raise errors.NotFoundError(
            _not_found_message(user), code="not_found", response=response.raw
        )
    current = yield Request(
        "GET", TABLE, params=(("select", "updated_at"), ("user_id", f"eq.{user}"))
    )
    stored = checked_body(current, not_found=_not_found_message(user))
    if not stored:
        raise errors.NotFoundError(_not_found_message(user), code="not_found", response=current.raw)
    current_updated_at = aware_datetime(stored[0]["updated_at"], field="updated_at")
    raise errors.StaleUpdateError(
        f"the movement profile of user {user} changed since {expected.isoformat()} "
        f"(it is now at {current_updated_at.isoformat()}); nothing was written",
        expected_updated_at=expected,
        current_updated_at=current_updated_at,
        response=current.raw,
    )


def _filter_values(parameter: str, values: object) -> list[str]:
    """The values of one filter as a list of strings. Any string may be asked for (the catalogue
    may hold values newer than this SDK); a value no profile holds simply matches none."""
    requested = [values] if isinstance(values, str) else values
    if not isinstance(requested, Collection) or isinstance(requested, Mapping | bytes):
        raise errors.ValidationError(
            f"{parameter} filter must be a string or a list of strings, got "
            f"{type(values).__name__}",
            code="invalid_argument",
            hint=parameter,
        )
    for value in requested:
        if not isinstance(value, str):
            raise errors.ValidationError(
                f"{parameter} filter contains a value that is not a string: {value!r}",
                code="invalid_argument",
                hint=parameter,
            )
    # str() turns an enum member into its value.
    return [str(value) for value in requested]


def _containment_filter(
    column: str, values: str | Collection[str] | None
) -> tuple[tuple[str, str], ...]:
    if values is None:
        return ()
    requested = _filter_values(column.removesuffix("s"), values)
    if not requested:
        return ()
    # `cs` is jsonb's @>, which the GIN (jsonb_path_ops) index on the column serves.
    encoded = json.dumps(requested, separators=(",", ":"), ensure_ascii=False)
    return ((column, f"cs.{encoded}"),)


def _custom_fields_filter(
    custom_fields: Mapping[str, str | Collection[str]] | None,
) -> tuple[tuple[str, str], ...]:
    """``custom_fields=cs.{"injuries":["knee"]}``: rows holding every given value of every given
    field (jsonb's @>, served by the GIN index on ``custom_fields``). An empty list asks only
    that the profile has the field."""
    if custom_fields is None:
        return ()
    if not isinstance(custom_fields, Mapping) or not all(
        isinstance(name, str) for name in custom_fields
    ):
        raise errors.ValidationError(
            "custom_fields filter must be a mapping of field name to values, got "
            f"{type(custom_fields).__name__}",
            code="invalid_argument",
            hint=CUSTOM_FIELDS_COLUMN,
        )
    if not custom_fields:
        return ()
    wanted = {name: _filter_values(name, values) for name, values in custom_fields.items()}
    encoded = json.dumps(wanted, separators=(",", ":"), ensure_ascii=False)
    return ((CUSTOM_FIELDS_COLUMN, f"cs.{encoded}"),)


def check_range(name: str, value: int, low: int, high: int | None = None) -> None:
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or value < low
        or (high is not None and value > high)
    ):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise errors.ValidationError(
            f"{name} must be an integer {bounds}, got {value!r}", code="invalid_argument", hint=name
        )


def list_profiles(
    training_preference: TrainingPreference | str | Collection[TrainingPreference | str] | None,
    goal: Goal | str | Collection[Goal | str] | None,
    limit: int,
    offset: int,
    custom_fields: Mapping[str, str | Collection[str]] | None = None,
) -> Operation[list[MovementProfile]]:
    """Profiles containing every given preference, goal and custom field value, by user_id."""
    check_range("limit", limit, 0, MAX_PAGE_SIZE)
    check_range("offset", offset, 0)
    params = (
        ("select", SELECT_COLUMNS),
        *_containment_filter("training_preferences", training_preference),
        *_containment_filter("goals", goal),
        *_custom_fields_filter(custom_fields),
        ("order", "user_id.asc"),
        ("limit", str(limit)),
        ("offset", str(offset)),
    )
    response = yield Request("GET", TABLE, params=params)
    return parse_profiles(checked_body(response, not_found="no profiles"))


def check_page_size(page_size: int) -> None:
    check_range("page_size", page_size, 1, MAX_PAGE_SIZE)


def page_after(after: UUID | None, page_size: int) -> Operation[list[MovementProfile]]:
    """The next `page_size` profiles by user_id after `after` (keyset paging for `iter_all`).

    Keyset rather than offset: every page is an index range scan, and rows inserted meanwhile
    never shift a page. The caller stops at the first empty page, not at a short one, so a server
    that caps rows below `page_size` cannot end the export early.
    """
    params = [("select", SELECT_COLUMNS), ("order", "user_id.asc"), ("limit", str(page_size))]
    if after is not None:
        params.append(("user_id", f"gt.{after}"))
    response = yield Request("GET", TABLE, params=tuple(params))
    check_status(response, not_found="no profiles")
    return parse_profiles_body(response)


def delete(user_id: UUID | str) -> Operation[None]:
    """Delete a user's profile (service key only: users have no delete grant)."""
    user = parse_uuid(user_id)
    response = yield Request(
        "DELETE",
        TABLE,
        params=(("select", "user_id"), ("user_id", f"eq.{user}")),
        headers={"Prefer": "return=representation"},
    )
    if not checked_body(response, not_found=_not_found_message(user)):
        raise errors.NotFoundError(
            _not_found_message(user), code="not_found", response=response.raw
        )


def options() -> Operation[MovementProfileOptions]:
    """Every field's allowed values as the database's catalogue holds them now
    (`public.movement_profile_options()`): ``{field: [value, ...]}``, in display order."""
    response = yield Request("GET", OPTIONS_FUNCTION)
    data = checked_body(response, not_found="movement_profile_options() is missing")
    if not isinstance(data, dict) or not all(
        isinstance(values, list) and all(isinstance(value, str) for value in values)
        for values in data.values()
    ):
        raise errors.UnexpectedResponseError(
            "movement_profile_options() returned an unexpected shape",
            details=json.dumps(data)[:500],
        )
    return {str(field): list(values) for field, values in data.items()}
