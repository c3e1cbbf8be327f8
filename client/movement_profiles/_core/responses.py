"""Responses read: PostgREST's errors mapped to the SDK's exceptions, bodies parsed to models."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

import pydantic

from movement_profiles import errors
from movement_profiles._core.wire import Response
from movement_profiles.models import (
    MovementProfile,
)

# -- responses --------------------------------------------------------------------------------


def error_payload(response: Response) -> dict[str, Any]:
    try:
        payload = json.loads(response.body)
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        return payload
    text = response.body.decode("utf-8", "replace").strip()
    return {"details": text[:500] or None}


def _text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)


_VALIDATION_CODES = {"23514", "22P02", "23502", "PGRST102"}
# 413/414/431: the gateway's limits on body, URL and header size.
_VALIDATION_STATUSES = {400, 413, 414, 422, 431}
_AUTH_CODES = {"PGRST301", "PGRST302", "PGRST303", "PT401"}


def database_connection_lost(status: int, payload: Mapping[str, Any]) -> bool:
    """PostgREST 12's answer when PostgreSQL dies under a request: 400 with an empty code and
    message. It is no verdict on the input, and a write's outcome is unknown."""
    return status == 400 and not payload.get("code") and not payload.get("message")


def error_from_response(
    response: Response, *, not_found: str = "no such movement profile, or it is not yours"
) -> errors.MovementProfilesError:
    """The one exception an error response of PostgREST or the gateway maps to.

    The code decides first (it says what happened), the HTTP status second (the gateway's and
    proxies' bodies carry no code). See `movement_profiles.errors` for the table.
    """
    payload = error_payload(response)
    if database_connection_lost(response.status, payload):
        return errors.ServerError(
            "the database connection was lost during the request; a write may or may not have "
            "been applied",
            response=response.raw,
            code="database_connection_lost",
            details=_text(payload.get("details")),
        )
    code = _text(payload.get("code"))
    message = _text(payload.get("message")) or f"the API answered HTTP {response.status}"
    fields: dict[str, Any] = {
        "response": response.raw,
        "code": code,
        "details": _text(payload.get("details")),
        "hint": _text(payload.get("hint")),
    }
    status = response.status
    if code == "PGRST116":
        return errors.NotFoundError(not_found, **fields)
    if status >= 500 or status == 429:
        return errors.ServerError(message, **fields)
    if code in _VALIDATION_CODES or status in _VALIDATION_STATUSES:
        if code == "22023" and message.startswith("role "):
            # A token naming a role the database does not have: the token is what is wrong.
            return errors.AuthError(message, **fields)
        if code == "23503":
            fields["hint"] = fields["hint"] or "user_id"
        return errors.ValidationError(message, **fields)
    if code == "23503":
        # PostgREST answers a foreign-key violation with 409, but nothing conflicts: the input
        # names an auth user that does not exist.
        return errors.ValidationError(message, **{**fields, "hint": fields["hint"] or "user_id"})
    if code == "23505" or status == 409:
        return errors.ConflictError(message, **fields)
    if code in _AUTH_CODES or status == 401:
        # 42501 arrives as 401 for anonymous callers: a token would help, so it is AuthError.
        return errors.AuthError(message, **fields)
    if code == "42501" or status == 403:
        return errors.PermissionDeniedError(message, **fields)
    if status == 404:
        hint = (
            "is the URL the project URL (SUPABASE_URL), and is the schema cache of PostgREST "
            "up to date?"
        )
        return errors.UnexpectedResponseError(message, **{**fields, "hint": hint})
    return errors.UnexpectedResponseError(message, **fields)


def _json_body(response: Response) -> Any:
    try:
        return json.loads(response.body)
    except ValueError as error:
        raise errors.UnexpectedResponseError(
            f"the API answered HTTP {response.status} with a body that is not JSON",
            response=response.raw,
            details=response.body[:500].decode("utf-8", "replace"),
        ) from error


def checked_body(
    response: Response, *, expected: int | Collection[int] = (200,), not_found: str
) -> Any:
    """The response's JSON when its status is expected; else the mapped error is raised."""
    check_status(response, expected=expected, not_found=not_found)
    return _json_body(response) if response.body else None


def check_status(
    response: Response, *, expected: int | Collection[int] = (200,), not_found: str
) -> None:
    """Raise the mapped error unless the response's status is expected."""
    statuses = {expected} if isinstance(expected, int) else set(expected)
    if response.status not in statuses:
        if 200 <= response.status < 300:
            raise errors.UnexpectedResponseError(
                f"the API answered HTTP {response.status}, expected {sorted(statuses)}",
                response=response.raw,
            )
        raise error_from_response(response, not_found=not_found)


_PROFILE_LIST: pydantic.TypeAdapter[list[MovementProfile]] = pydantic.TypeAdapter(
    list[MovementProfile]
)


def _unexpected_row(error: pydantic.ValidationError) -> errors.UnexpectedResponseError:
    return errors.UnexpectedResponseError(
        "the API returned a movement profile this SDK cannot read (a column of another shape? "
        "upgrade the SDK)",
        details=str(error),
    )


def parse_profile(data: Any) -> MovementProfile:
    try:
        return MovementProfile.model_validate(data)
    except pydantic.ValidationError as error:
        raise _unexpected_row(error) from None


def parse_profiles(data: Any) -> list[MovementProfile]:
    try:
        return _PROFILE_LIST.validate_python(data)
    except pydantic.ValidationError as error:
        raise _unexpected_row(error) from None


def parse_profiles_body(response: Response) -> list[MovementProfile]:
    """The profiles of a response body, parsed and validated in one pass of pydantic-core: a
    page of an export costs a fifth of `json.loads` and `parse_profiles`. A body that does not
    pass goes that slower way, for its exact error."""
    try:
        return _PROFILE_LIST.validate_json(response.body)
    except pydantic.ValidationError:
        return parse_profiles(_json_body(response))


def content_range_total(response: Response) -> int | None:
    # "0-9/10" or "*/10" with `Prefer: count=exact`.
    content_range = response.header("Content-Range") or ""
    _, _, total = content_range.partition("/")
    return int(total) if total.isdigit() else None
