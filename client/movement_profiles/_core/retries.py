"""When a failed request is tried again, and how long to wait first."""

from __future__ import annotations

import random
from dataclasses import dataclass

from movement_profiles import errors
from movement_profiles._core.responses import (
    database_connection_lost,
    error_from_response,
    error_payload,
)
from movement_profiles._core.wire import Request, Response

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_RETRIES = 2
DEFAULT_RETRY_BACKOFF = 0.2
_MAX_RETRY_DELAY = 5.0


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
            and database_connection_lost(response.status, error_payload(response))
        )
    ):
        mapped = error_from_response(response)
        assert isinstance(mapped, errors.ServerError)
        return mapped
    return None
