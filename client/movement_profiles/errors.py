"""The SDK's exceptions: one class per outcome of the /movement-profiles contract.

    MovementProfilesError              any error of this SDK
    ├── ValidationError          400   invalid input (or catalogue change); nothing was stored
    ├── AuthError                401   missing, expired or badly signed token, or bad API key
    ├── PermissionDeniedError    403   authenticated, but not allowed to do this
    ├── NotFoundError            404   no such profile, or not yours
    ├── ConflictError            409   a profile already exists for this user; a catalogue
    │                                  field or value exists already, or is held by profiles
    │   └── StaleUpdateError     409   the profile changed since `expected_updated_at`
    ├── ServiceUnavailableError  503   the API could not be reached, or could not serve
    │   ├── TransportError       503   no answer came back
    │   │   ├── ConnectError           could not connect: the request was never sent
    │   │   ├── ResponseTimeoutError   sent, but no answer in time
    │   │   └── ConnectionLostError    sent, but the connection failed before the answer
    │   └── ServerError          503   the service answered that it failed (5xx, 429)
    ├── UnexpectedResponseError  502   the server answered something the contract does not foresee
    └── ConfigurationError      None   no URL or key could be found (raised before any request)

Every instance carries where it came from:

- ``status``: the contract's status for the outcome (the column above), the same for every
  instance of a class. It is the status a service re-exposing the contract would answer with, so
  it holds even where PostgREST's differs (PostgREST answers 406 for "no row"; that is
  ``status == 404`` here). What came over the wire is ``response.status_code``.
- ``request`` and ``response``: the `httpx.Request` sent and the `httpx.Response` received, or
  None where there was none: a `TransportError` has a request and no response; an error the SDK
  raised before sending (invalid input, configuration) has neither.
- ``code``: PostgREST's ``PGRST...`` code or PostgreSQL's SQLSTATE (``23514``, ``23505``, ...) when
  the server sent one; otherwise a short code of the SDK's (listed with each class).
- ``message``, ``details``, ``hint``: as the server sent them (for a rejected array ``hint`` is the
  field's name and ``details`` lists its allowed values), or the SDK's equivalents.

An error is complete when it is raised and never changed afterwards; one raised in place of
another says so with ``raise ... from``.

Input the SDK can check without the catalogue is checked before any request and raises
`ValidationError` (``status`` 400, the contract's status for invalid input, whichever side
noticed, and ``response is None``). For the fields' arrays its message, ``hint`` and ``code``
(``23514``) are the database's words for the same rule, so handling a local and a server
rejection is one code path; ``details`` is None, as the allowed values are the catalogue's.
Which values are allowed the database judges (or `Catalogue.problem`, before any request).

The catalogue's admin functions (`add_field`, `retire_value`, ...) raise `ValidationError` for
``22023`` (an unknown or badly named field or value, a built-in field to remove, a required
field added while profiles exist), `ConflictError` for ``23505`` (it exists already) and for
``23503`` (profiles hold the value or field; the message says how many), and `AuthError` or
`PermissionDeniedError` for callers without the service key (``42501``).

This module imports neither httpx nor pydantic at run time: importing the errors stays cheap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypedDict, Unpack

if TYPE_CHECKING:
    import httpx
    import pydantic

__all__ = [
    "AuthError",
    "ConfigurationError",
    "ConflictError",
    "ConnectError",
    "ConnectionLostError",
    "FieldProblem",
    "MovementProfilesError",
    "NotFoundError",
    "Origin",
    "PermissionDeniedError",
    "ResponseTimeoutError",
    "ServerError",
    "ServiceUnavailableError",
    "StaleUpdateError",
    "TransportError",
    "UnexpectedResponseError",
    "ValidationError",
]


class Origin(TypedDict, total=False):
    """Where an error came from: the keyword arguments every error class takes."""

    code: str | None
    details: str | None
    hint: str | None
    request: httpx.Request | None
    response: httpx.Response | None


class MovementProfilesError(Exception):
    """Base class of every error the SDK raises."""

    #: The contract's status for this kind of outcome (see the module's table).
    status: ClassVar[int | None] = None

    def __init__(self, message: str, **origin: Unpack[Origin]) -> None:
        super().__init__(message)
        self.message = message
        self.code = origin.get("code")
        self.details = origin.get("details")
        self.hint = origin.get("hint")
        self.response = origin.get("response")
        request = origin.get("request")
        self.request = request if request is not None else _request_of(self.response)

    def origin(self) -> Origin:
        """This error's origin, to raise another error from the same place."""
        return Origin(
            code=self.code,
            details=self.details,
            hint=self.hint,
            request=self.request,
            response=self.response,
        )

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r}, details={self.details!r}, hint={self.hint!r})"
        )


def _request_of(response: httpx.Response | None) -> httpx.Request | None:
    if response is None:
        return None
    try:
        return response.request
    except RuntimeError:  # a response built by hand, e.g. in a test, has none
        return None


@dataclass(frozen=True)
class FieldProblem:
    """One invalid field of a rejected input."""

    field: str | None
    message: str


class ValidationError(MovementProfilesError, ValueError):
    """The input is invalid; nothing was stored.

    Raised before any request when the SDK can tell (the array rules, a UUID, an aware datetime,
    an update without fields), and for the server's 400s: ``23514`` (a CHECK constraint),
    ``22P02`` (a value of the wrong type), ``23502`` (a missing value, e.g. ``user_id`` with the
    service key), ``23503`` (``user_id`` names no auth user), ``22023`` (a catalogue change
    naming an unknown field or value, or a bad name), ``PGRST102`` (a malformed body) and the
    gateway's size limits (413 body, 414 URL, 431 headers). SDK codes: ``23514`` for the array
    rules (the database's own code for them), ``invalid_argument`` for anything else.

    `problems` lists every invalid field when the SDK checked the input; `message` joins them.
    """

    status = 400

    def __init__(
        self, message: str, *, problems: Sequence[FieldProblem] = (), **origin: Unpack[Origin]
    ) -> None:
        super().__init__(message, **origin)
        self.problems: tuple[FieldProblem, ...] = tuple(problems) or (
            FieldProblem(self.hint, message),
        )

    @classmethod
    def from_pydantic(
        cls, error: pydantic.ValidationError, *, field: str | None = None
    ) -> ValidationError:
        """The SDK's error for pydantic's, worded as the database words the same rule."""
        problems: list[FieldProblem] = []
        code = details = hint = None
        for index, item in enumerate(error.errors(include_url=False)):
            context: Mapping[str, Any] = item.get("ctx") or {}
            location = ".".join(str(part) for part in item["loc"])
            name = str(item["loc"][0]) if item["loc"] else field
            if item["type"] == "option_array":
                problem = FieldProblem(str(context["column"]), item["msg"])
            elif location or field:
                problem = FieldProblem(name, f"{location or field}: {item['msg']}")
            else:
                problem = FieldProblem(None, item["msg"])
            problems.append(problem)
            if index == 0:
                code = "23514" if item["type"] == "option_array" else "invalid_argument"
                details = context.get("details") if item["type"] == "option_array" else None
                hint = problem.field
        return cls(
            "; ".join(problem.message for problem in problems),
            code=code,
            details=details,
            hint=hint,
            problems=problems,
        )

    def of_item(self, index: int) -> ValidationError:
        """The same error, its message naming the item of a bulk input it is about."""
        return ValidationError(
            f"profile #{index}: {self.message}", problems=self.problems, **self.origin()
        )


class AuthError(MovementProfilesError):
    """Not authenticated: 401.

    The token is missing, expired, badly signed or names a role that does not exist (PostgREST's
    ``PGRST301``, ``PGRST302``, ``PGRST303``; ``22023`` "role ... does not exist"), its claims were
    refused before any table was touched (``PT401`` from the database's pre-request check: no
    ``sub``, a deleted user, ...), the gateway rejected the API key (no code), or an
    anonymous caller (anon key, no access token) touched what needs a user: PostgreSQL's ``42501``
    arriving with HTTP 401. A token would help; compare `PermissionDeniedError`.
    """

    status = 401


class PermissionDeniedError(MovementProfilesError):
    """Authenticated, but not allowed: 403 (``42501``).

    E.g. a user creating a profile for someone else, or deleting a profile (only the service key
    may delete).
    """

    status = 403


class NotFoundError(MovementProfilesError):
    """No such profile, or it is not yours (existence is not leaked): 404.

    PostgREST's ``PGRST116`` (HTTP 406, "no row" for a single-object request), or a write that
    matched no row (HTTP 200); SDK code ``not_found`` for the latter.
    """

    status = 404


class ConflictError(MovementProfilesError):
    """The write conflicts with the stored state: 409.

    ``23505``: a profile already exists for this user, or a catalogue field or value being added
    exists already. ``23503`` from a catalogue change: profiles hold the value being retired or
    the field being removed (the message says how many; ``hint`` is the field).
    `StaleUpdateError`, a subclass, is raised for a stale optimistic update, so
    ``except ConflictError`` catches both.
    """

    status = 409


class StaleUpdateError(ConflictError):
    """`update(..., expected_updated_at=T)` found the profile changed since T: nothing was written.

    Code ``stale_update``. `expected_updated_at` and `current_updated_at` say what was expected and
    what is stored now; read the profile again, reapply the change, and retry with the new value.
    `response` is the read that found the stored value.
    """

    def __init__(
        self,
        message: str,
        *,
        expected_updated_at: datetime,
        current_updated_at: datetime,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(
            message,
            code="stale_update",
            details=f"expected updated_at {expected_updated_at.isoformat()}, "
            f"stored updated_at {current_updated_at.isoformat()}",
            response=response,
        )
        self.expected_updated_at = expected_updated_at
        self.current_updated_at = current_updated_at


class ServiceUnavailableError(MovementProfilesError):
    """The API could not be reached, or could not serve: 503. Worth trying again later.

    Never raised itself: a `TransportError` (no answer) or a `ServerError` (an answer saying the
    service failed); ``except ServiceUnavailableError`` catches both. Reads were retried before
    this was raised; writes only when the request provably never left (`ConnectError`).
    `attempts` says how many requests were made.
    """

    status = 503

    def __init__(self, message: str, *, attempts: int = 1, **origin: Unpack[Origin]) -> None:
        super().__init__(message, **origin)
        self.attempts = attempts

    def after_attempts(self, attempts: int) -> ServiceUnavailableError:
        """The same error, raised after `attempts` requests: a new instance."""
        return type(self)(self.message, attempts=attempts, **self.origin())


class TransportError(ServiceUnavailableError):
    """No answer came back: `response` is None, `request` is what was being sent.

    One of its three subclasses is raised, by whether the request left; httpx's exception is its
    ``__cause__``. The message ends with the number of attempts, e.g. "(3 attempts)".
    """

    def after_attempts(self, attempts: int) -> ServiceUnavailableError:
        counted = type(self)(
            f"{self.message} ({attempts} attempt{'' if attempts == 1 else 's'})",
            attempts=attempts,
            **self.origin(),
        )
        counted.__cause__ = self.__cause__
        return counted


class ConnectError(TransportError):
    """No connection could be had, so the request was never sent: safe to send again, even a write.

    SDK codes ``connect_error`` (refused, unknown host), ``connect_timeout`` and ``pool_timeout``
    (no free connection of the client's pool in time).
    """


class ResponseTimeoutError(TransportError):
    """The request was sent and no answer came in time: a write may or may not have been applied.

    SDK code ``timeout``.
    """


class ConnectionLostError(TransportError):
    """The request was sent, and the connection failed before the answer: a write may or may not
    have been applied.

    SDK code ``connection_lost``.
    """


class ServerError(ServiceUnavailableError):
    """The service answered that it could not serve the request: `response` says how.

    5xx answers (``PGRST000``-``PGRST003``: PostgREST cannot reach the database; the gateway's
    ``SERVICE_UNAVAILABLE``: PostgREST is down; ``XX000``: an internal error), 429 (too many
    requests), and PostgREST's empty 400 when the database connection was lost under the request
    (SDK code ``database_connection_lost``: a write may or may not have been applied).
    """


class UnexpectedResponseError(MovementProfilesError):
    """The server answered outside the contract: a status or body the SDK does not expect: 502.

    E.g. 404 from a wrong URL (``SUPABASE_URL`` must be the project URL), ``PGRST205`` (the table
    is missing from PostgREST's schema cache), or a row or catalogue in a shape the SDK cannot read.
    `status` is 502, what a service re-exposing the contract answers for an upstream answer it
    cannot use; `response` is the answer.
    """

    status = 502


class ConfigurationError(MovementProfilesError):
    """No URL or key could be found, or they are malformed; raised before any request."""
