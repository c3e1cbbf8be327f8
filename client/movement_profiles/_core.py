"""The sans-I/O core shared by the sync and async clients.

Everything that decides what goes over the wire and what comes back lives here, in plain functions
that never touch a socket: each operation is a generator that yields `Request`s and is sent the
`Response`s, and returns the result (a `MovementProfile`, a list, a count) or raises the one right
exception. The clients only move bytes: they send each `Request` with their httpx session, wait
(in their own way) between retries, and feed the `Response` back. So
`update`'s stale-or-missing follow-up read, `iter_all`'s keyset paging and the whole error mapping
exist once, and are tested without a network (tests/sdk/test_mapping.py). This module imports
no HTTP library; `_transport` holds the little that knows httpx.

Why not postgrest-py: its `APIError` carries no HTTP status (it is needed to tell 401 from 403
for the same ``42501``), its built-in retry follows a schedule of its own (1 s, 2 s, 4 s, ... up to
30 s between tries) that the SDK's `max_retries` and `retry_backoff` could not govern, its request
builders cannot be driven sans-I/O, and some of its releases write the key into the default
headers of an `http_client` they are given. The clients send with httpx directly; `from_supabase`
sends through a supabase-py client's own PostgREST session, URL and headers, and so reuses its
connections and follows its signed-in user.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Collection, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import pydantic
import pydantic_core

from movement_profiles import errors
from movement_profiles.models import (
    Goal,
    MovementProfile,
    MovementProfileCreate,
    MovementProfileOptions,
    MovementProfileUpdate,
    TrainingPreference,
    allowed_values_detail,
    aware_datetime,
    parse_uuid,
    plain_create_row,
)
from movement_profiles.options import (
    ASSIGNED_COLUMNS,
    OPTION_COLUMNS,
    PROFILE_COLUMNS,
    WRITABLE_COLUMNS,
)

T = TypeVar("T")

TABLE = "movement_profiles"
OPTIONS_FUNCTION = "rpc/movement_profile_options"
SINGLE_OBJECT = "application/vnd.pgrst.object+json"
#: Rows one request may return: PostgREST's ``db-max-rows`` here and hosted Supabase's default.
MAX_PAGE_SIZE = 1000
DEFAULT_UPSERT_BATCH_SIZE = 500
#: Upsert requests `upsert_many` keeps open at once: two let the client build the next batch while
#: the database writes the last; more only queue up in the database.
DEFAULT_UPSERT_IN_FLIGHT = 2
MAX_UPSERT_IN_FLIGHT = 8
# ~150 kB per request at most, well under the gateway's 1 MiB body limit.
MAX_UPSERT_BATCH_SIZE = 1000
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_RETRIES = 2
DEFAULT_RETRY_BACKOFF = 0.2
_MAX_RETRY_DELAY = 5.0
_SELECT_COLUMNS = ",".join(MovementProfile.COLUMNS)


@dataclass(frozen=True)
class Request:
    """One HTTP request, relative to the REST root (``<project URL>/rest/v1``)."""

    method: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None

    @property
    def idempotent(self) -> bool:
        """Whether sending it twice is harmless, so any transient failure may be retried."""
        return self.method in {"GET", "HEAD"}


@dataclass(frozen=True)
class Response:
    """One HTTP response; header names are matched case-insensitively.

    `raw` is the client's own response (an `httpx.Response`), handed on untouched to the errors
    it leads to; typed loosely, as the core names no HTTP library.
    """

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    raw: Any = field(default=None, compare=False, repr=False)

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


#: An operation: yields requests, is sent their responses, returns its result.
Operation = Generator[Request, Response, T]


# -- settings ---------------------------------------------------------------------------------


def rest_url(project_url: str) -> str:
    """The REST root of a Supabase project URL (``https://x.supabase.co`` or the local gateway).

    A URL that already ends in ``/rest/v1`` is accepted as is.
    """
    url = project_url.strip().rstrip("/")
    if not re.match(r"^https?://[^/]+", url):
        raise errors.ConfigurationError(
            f"the project URL must start with http:// or https://, got {project_url!r}"
        )
    return url if url.endswith("/rest/v1") else f"{url}/rest/v1"


def auth_headers(key: str, access_token: str | None) -> dict[str, str]:
    """Headers of every request: the API key, and the user's token or else the key as bearer."""
    if not key:
        raise errors.ConfigurationError("an API key (anon or service role) is required")
    return {"apikey": key, "Authorization": f"Bearer {access_token or key}"}


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently failed requests are retried.

    Reads (GET) are retried on any `ServiceUnavailableError` worth retrying (no answer, 429, 502,
    503, 504, PostgREST's ``PGRST000``-``PGRST003``). Writes are retried only on a `ConnectError`,
    when the request provably never left this process (connection refused, connect or pool
    timeout): a write whose fate is unknown is never sent twice.
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    backoff: float = DEFAULT_RETRY_BACKOFF

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.backoff < 0:
            raise errors.ConfigurationError("max_retries and retry_backoff must not be negative")

    def delay(
        self,
        request: Request,
        failure: errors.ServiceUnavailableError,
        attempt: int,
        status: int | None = None,
    ) -> float | None:
        """Seconds to wait before retrying after `attempt` (0-based) failed, or None to give up.

        `status` is the HTTP status of the answer that failed, None when none came back."""
        if attempt >= self.max_retries or not _may_retry(request, failure, status):
            return None
        # Exponential with jitter, so clients that failed together do not retry together.
        base: float = self.backoff * (2**attempt)
        return min(base * (0.5 + random.random() / 2), _MAX_RETRY_DELAY)

    def start(self, request: Request) -> Attempts:
        """The retry state of one request, for a client's send loop."""
        return Attempts(self, request)


class Attempts:
    """The retry state of one request; the clients' send loops are driven by it.

    After each try the client reports what happened: `after_response` returns the response to
    hand on or the seconds to wait before the next try; `after_no_response` (given the
    `TransportError` a send that got no answer stands for) returns the seconds to wait. Both
    raise the failure, counted (`attempts`), when retrying is over or not allowed.
    """

    def __init__(self, policy: RetryPolicy, request: Request) -> None:
        self._policy = policy
        self._request = request
        self._count = 0

    def after_response(self, response: Response) -> Response | float:
        self._count += 1
        failure = transient_failure(response)
        return response if failure is None else self._next_delay(failure, response.status)

    def after_no_response(self, failure: errors.TransportError) -> float:
        self._count += 1
        return self._next_delay(failure, None)

    def _next_delay(self, failure: errors.ServiceUnavailableError, status: int | None) -> float:
        delay = self._policy.delay(self._request, failure, self._count - 1, status)
        if delay is None:
            raise failure.after_attempts(self._count)
        return delay


_RETRYABLE_STATUSES = {429, 502, 503, 504}
_RETRYABLE_CODES = {"PGRST000", "PGRST001", "PGRST002", "PGRST003"}


def _may_retry(
    request: Request, failure: errors.ServiceUnavailableError, status: int | None
) -> bool:
    if isinstance(failure, errors.ConnectError):
        return True
    if not request.idempotent:
        return False
    return (
        isinstance(failure, errors.TransportError)
        or status in _RETRYABLE_STATUSES
        or failure.code in _RETRYABLE_CODES
    )


def _database_connection_lost(status: int, payload: Mapping[str, Any]) -> bool:
    """PostgREST 12's answer when PostgreSQL dies under a request: 400 with an empty code and
    message. It is no verdict on the input, and a write's outcome is unknown."""
    return status == 400 and not payload.get("code") and not payload.get("message")


def transient_failure(response: Response) -> errors.ServerError | None:
    """The error a response stands for when it is a service failure (5xx, 429, or the database
    lost under the request), else None."""
    if (
        response.status >= 500
        or response.status == 429
        # Only a 400 can be that; the body of any other (an export's page of a thousand
        # profiles) is not parsed here a first time.
        or (
            response.status == 400
            and _database_connection_lost(response.status, _error_payload(response))
        )
    ):
        mapped = error_from_response(response)
        assert isinstance(mapped, errors.ServerError)
        return mapped
    return None


# -- responses --------------------------------------------------------------------------------


def _error_payload(response: Response) -> dict[str, Any]:
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


def error_from_response(
    response: Response, *, not_found: str = "no such movement profile, or it is not yours"
) -> errors.MovementProfilesError:
    """The one exception an error response of PostgREST or the gateway maps to.

    The code decides first (it says what happened), the HTTP status second (the gateway's and
    proxies' bodies carry no code). See `movement_profiles.errors` for the table.
    """
    payload = _error_payload(response)
    if _database_connection_lost(response.status, payload):
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


def _check(response: Response, *, expected: int | Collection[int] = (200,), not_found: str) -> Any:
    """The response's JSON when its status is expected; else the mapped error is raised."""
    _check_status(response, expected=expected, not_found=not_found)
    return _json_body(response) if response.body else None


def _check_status(
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
        "the API returned a movement profile this SDK cannot read (a value newer than its "
        "enums? upgrade the SDK)",
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


def _content_range_total(response: Response) -> int | None:
    # "0-9/10" or "*/10" with `Prefer: count=exact`.
    content_range = response.header("Content-Range") or ""
    _, _, total = content_range.partition("/")
    return int(total) if total.isdigit() else None


# -- requests ---------------------------------------------------------------------------------


def _encode(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _not_found_message(user_id: UUID) -> str:
    return f"no movement profile for user {user_id}, or it is not yours"


RequestModel = TypeVar("RequestModel", MovementProfileCreate, MovementProfileUpdate)


def _coerce(model: type[RequestModel], value: RequestModel | Mapping[str, Any]) -> RequestModel:
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
    profile = _coerce(MovementProfileCreate, profile)
    response = yield Request(
        "POST",
        TABLE,
        params=(("select", _SELECT_COLUMNS),),
        headers={
            "Accept": SINGLE_OBJECT,
            "Content-Type": "application/json",
            "Prefer": "return=representation",
        },
        body=_encode(profile.to_json()),
    )
    not_found = "the created profile is not readable by the caller"
    return parse_profile(_check(response, expected=201, not_found=not_found))


def get(user_id: UUID | str) -> Operation[MovementProfile]:
    """GET /movement-profiles/{user_id}: the profile, or NotFoundError (also when not yours)."""
    user = parse_uuid(user_id)
    response = yield Request(
        "GET",
        TABLE,
        params=(("select", _SELECT_COLUMNS), ("user_id", f"eq.{user}")),
        headers={"Accept": SINGLE_OBJECT},
    )
    return parse_profile(_check(response, not_found=_not_found_message(user)))


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
    update_ = _coerce(MovementProfileUpdate, changes)
    expected = (
        None
        if expected_updated_at is None
        else aware_datetime(expected_updated_at, field="expected_updated_at")
    )
    params = [("select", _SELECT_COLUMNS), ("user_id", f"eq.{user}")]
    if expected is not None:
        params.append(("updated_at", f"eq.{expected.isoformat()}"))
    response = yield Request(
        "PATCH",
        TABLE,
        params=tuple(params),
        headers={"Content-Type": "application/json", "Prefer": "return=representation"},
        body=_encode(update_.to_json()),
    )
    rows = parse_profiles(_check(response, not_found=_not_found_message(user)))
    if rows:
        return rows[0]
    if expected is None:
        raise errors.NotFoundError(
            _not_found_message(user), code="not_found", response=response.raw
        )
    current = yield Request(
        "GET", TABLE, params=(("select", "updated_at"), ("user_id", f"eq.{user}"))
    )
    stored = _check(current, not_found=_not_found_message(user))
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


def _containment_filter(
    column: str, values: str | Collection[str] | None
) -> tuple[tuple[str, str], ...]:
    if values is None:
        return ()
    requested = [values] if isinstance(values, str) else list(values)
    enum_type = OPTION_COLUMNS[column]
    parameter = column.removesuffix("s")
    allowed = {member.value for member in enum_type}
    for value in requested:
        if not isinstance(value, str) or str(value) not in allowed:
            raise errors.ValidationError(
                f"{parameter} filter contains an invalid value: {json.dumps(str(value))}",
                code="invalid_argument",
                details=allowed_values_detail(column),
                hint=parameter,
            )
    if not requested:
        return ()
    # `cs` is jsonb's @>, which the GIN (jsonb_path_ops) index on the column serves.
    encoded = json.dumps([str(value) for value in requested], separators=(",", ":"))
    return ((column, f"cs.{encoded}"),)


def _check_range(name: str, value: int, low: int, high: int | None = None) -> None:
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
) -> Operation[list[MovementProfile]]:
    """Profiles containing every given preference and goal, ordered by user_id."""
    _check_range("limit", limit, 0, MAX_PAGE_SIZE)
    _check_range("offset", offset, 0)
    params = (
        ("select", _SELECT_COLUMNS),
        *_containment_filter("training_preferences", training_preference),
        *_containment_filter("goals", goal),
        ("order", "user_id.asc"),
        ("limit", str(limit)),
        ("offset", str(offset)),
    )
    response = yield Request("GET", TABLE, params=params)
    return parse_profiles(_check(response, not_found="no profiles"))


def check_page_size(page_size: int) -> None:
    _check_range("page_size", page_size, 1, MAX_PAGE_SIZE)


def page_after(after: UUID | None, page_size: int) -> Operation[list[MovementProfile]]:
    """The next `page_size` profiles by user_id after `after` (keyset paging for `iter_all`).

    Keyset rather than offset: every page is an index range scan, and rows inserted meanwhile
    never shift a page. The caller stops at the first empty page, not at a short one, so a server
    that caps rows below `page_size` cannot end the export early.
    """
    params = [("select", _SELECT_COLUMNS), ("order", "user_id.asc"), ("limit", str(page_size))]
    if after is not None:
        params.append(("user_id", f"gt.{after}"))
    response = yield Request("GET", TABLE, params=tuple(params))
    _check_status(response, not_found="no profiles")
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
    if not _check(response, not_found=_not_found_message(user)):
        raise errors.NotFoundError(
            _not_found_message(user), code="not_found", response=response.raw
        )


def options() -> Operation[MovementProfileOptions]:
    """The allowed values as the database defines them (`public.movement_profile_options()`)."""
    response = yield Request("GET", OPTIONS_FUNCTION)
    data = _check(response, not_found="movement_profile_options() is missing")
    if not isinstance(data, dict) or not all(
        isinstance(data.get(column), list) and all(isinstance(value, str) for value in data[column])
        for column in OPTION_COLUMNS
    ):
        raise errors.UnexpectedResponseError(
            "movement_profile_options() returned an unexpected shape",
            details=json.dumps(data)[:500],
        )
    return MovementProfileOptions(
        training_preferences=list(data["training_preferences"]), goals=list(data["goals"])
    )


@dataclass(frozen=True)
class UpsertBatch:
    """Validated rows of one upsert request, JSON-ready, all with exactly `columns`."""

    rows: list[dict[str, Any]]
    columns: tuple[str, ...]


def _upsert_row(
    item: MovementProfile | MovementProfileCreate | Mapping[str, Any], keep_identity: bool
) -> dict[str, Any]:
    # Built models were validated when they were built: they are sent as they are, so a bulk
    # import validates each row once. Only mappings are validated here.
    if isinstance(item, MovementProfile):
        return _stored_profile_row(item, keep_identity)
    if not keep_identity:
        return _created_row(item)
    if not isinstance(item, Mapping):
        raise errors.ValidationError(
            "keep_identity needs stored profiles (MovementProfile or a mapping with id, "
            f"created_at and updated_at), got {type(item).__name__}",
            code="invalid_argument",
        )
    row = _created_row({column: item.get(column) for column in WRITABLE_COLUMNS})
    for column in ASSIGNED_COLUMNS:
        if item.get(column) is None:
            raise errors.ValidationError(
                f"{column} is required to keep identity", code="invalid_argument", hint=column
            )
    row["id"] = str(parse_uuid(item["id"], field="id"))
    for column in ("created_at", "updated_at"):
        row[column] = aware_datetime(item[column], field=column).isoformat()
    return row


def _created_row(item: MovementProfileCreate | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(item, Mapping):
        plain = plain_create_row(item)
        if plain is not None:
            return plain
    profile = _coerce(MovementProfileCreate, item)
    if profile.user_id is None:
        raise errors.ValidationError(
            "user_id is required to upsert", code="invalid_argument", hint="user_id"
        )
    return _created_profile_row(profile, profile.user_id)


def _created_profile_row(profile: MovementProfileCreate, user_id: UUID) -> dict[str, Any]:
    # What `to_json()` gives, built directly: pydantic's dump costs more than the rest of a row.
    # The enum members are `str`s, so they encode as their values.
    return {
        "user_id": str(user_id),
        "training_preferences": profile.training_preferences,
        "goals": profile.goals,
    }


def _stored_profile_row(profile: MovementProfile, keep_identity: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "user_id": str(profile.user_id),
        "training_preferences": profile.training_preferences,
        "goals": profile.goals,
    }
    if keep_identity:
        row["id"] = str(profile.id)
        row["created_at"] = profile.created_at.isoformat()
        row["updated_at"] = profile.updated_at.isoformat()
    return row


def upsert_batches(
    profiles: Iterable[MovementProfile | MovementProfileCreate | Mapping[str, Any]],
    batch_size: int,
    *,
    keep_identity: bool = False,
) -> Iterator[UpsertBatch]:
    """Validated batches for `upsert_many`, lazily, so a large import streams.

    Every profile needs a user_id, and no user_id may appear twice in the whole input (within one
    request PostgreSQL refuses it; across requests the later would silently win). An invalid
    profile raises `ValidationError` when its batch is built, after earlier batches were sent.
    With `keep_identity` each row also carries its `id`, `created_at` and `updated_at`.
    """
    _check_range("batch_size", batch_size, 1, MAX_UPSERT_BATCH_SIZE)
    columns = PROFILE_COLUMNS if keep_identity else WRITABLE_COLUMNS
    seen: set[str] = set()
    rows: list[dict[str, Any]] = []
    for index, item in enumerate(profiles):
        try:
            row = _upsert_row(item, keep_identity)
        except errors.ValidationError as error:
            raise error.of_item(index) from error
        if row["user_id"] in seen:
            raise errors.ValidationError(
                f"profile #{index}: user_id {row['user_id']} appears more than once",
                code="invalid_argument",
                hint="user_id",
            )
        seen.add(row["user_id"])
        rows.append(row)
        if len(rows) == batch_size:
            yield UpsertBatch(rows, columns)
            rows = []
    if rows:
        yield UpsertBatch(rows, columns)


def check_in_flight(max_in_flight: int) -> None:
    _check_range("max_in_flight", max_in_flight, 1, MAX_UPSERT_IN_FLIGHT)


def upsert_batch(batch: UpsertBatch) -> Operation[int]:
    """One bulk upsert on user_id: insert new profiles, overwrite the given columns of existing
    ones (the database's trigger still keeps ``created_at`` and moves ``updated_at`` of those)."""
    # pydantic-core's encoder: the same compact UTF-8 JSON as `_encode`, in a fifth of the
    # time, which a bulk import spends on every row.
    return (
        yield from _upsert_body(pydantic_core.to_json(batch.rows), len(batch.rows), batch.columns)
    )


def upsert_json_rows(rows: Sequence[bytes], keep_identity: bool) -> Operation[int]:
    """`upsert_batch` for rows that are already JSON object texts, sent as they are."""
    if not 1 <= len(rows) <= MAX_UPSERT_BATCH_SIZE:
        raise errors.ValidationError(
            f"rows must hold 1 to {MAX_UPSERT_BATCH_SIZE} profiles (one request), got {len(rows)}",
            code="invalid_argument",
            hint="rows",
        )
    columns = PROFILE_COLUMNS if keep_identity else WRITABLE_COLUMNS
    return (yield from _upsert_body(b"[" + b",".join(rows) + b"]", len(rows), columns))


def _upsert_body(body: bytes, rows: int, columns: tuple[str, ...]) -> Operation[int]:
    response = yield Request(
        "POST",
        TABLE,
        # `columns` names what the rows carry, so PostgREST hands the body to PostgreSQL without
        # parsing it; PostgreSQL reads each row's fields by those names, and ignores others.
        params=(("on_conflict", "user_id"), ("columns", ",".join(columns))),
        headers={
            "Content-Type": "application/json",
            "Prefer": "resolution=merge-duplicates,return=minimal,count=exact",
        },
        body=body,
    )
    _check(response, expected=(200, 201), not_found="no profiles")
    written = _content_range_total(response)
    return rows if written is None else written
