"""The httpx side of the clients: the headers they send with, and what a failed send means.

`_core` decides every request and judges every response without knowing any HTTP library; this
module is the small part both clients share that does know httpx. It does no I/O either.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping

import httpx

from movement_profiles import errors
from movement_profiles._core import Request, Response, auth_headers

__all__ = ["client_headers", "request_headers", "request_url", "response", "transport_failure"]

#: The schema every request reads and writes, as postgrest-py and supabase-py name it.
SCHEMA = "public"


def client_headers(key: str, access_token: str | None) -> dict[str, str]:
    """Headers of a client the SDK creates itself (not one from supabase-py)."""
    return {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "Accept-Profile": SCHEMA,
        "Content-Profile": SCHEMA,
        "X-Client-Info": f"movement-profiles-python/{_version()}",
        **auth_headers(key, access_token),
    }


def _version() -> str:
    try:
        return importlib.metadata.version("movement-profiles")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def request_url(base_url: str, request: Request) -> str:
    return f"{base_url.rstrip('/')}/{request.path}"


def request_headers(client_headers: Mapping[str, str], request: Request) -> httpx.Headers:
    """The client's headers (key, token, schema profiles) with the request's own on top.

    Sent with each request, never set on the session: an `http_client` of the caller's keeps its
    own default headers, and never learns the key.
    """
    headers = httpx.Headers(client_headers)
    headers.update(request.headers)
    return headers


def response(raw: httpx.Response) -> Response:
    """The core's view of a response; the httpx one rides along for the errors it leads to."""
    return Response(raw.status_code, raw.content, raw.headers, raw)


def transport_failure(error: httpx.TransportError) -> errors.TransportError:
    """The error for a request that got no response, by whether the request left."""
    kind: type[errors.TransportError]
    if isinstance(error, httpx.ConnectTimeout):
        kind, code, what = errors.ConnectError, "connect_timeout", "timed out connecting to the API"
    elif isinstance(error, httpx.PoolTimeout):
        kind, code = errors.ConnectError, "pool_timeout"
        what = "timed out waiting for a free connection to the API"
    elif isinstance(error, httpx.TimeoutException):
        kind, code, what = errors.ResponseTimeoutError, "timeout", "the API did not answer in time"
    elif isinstance(error, httpx.ConnectError):
        kind, code, what = errors.ConnectError, "connect_error", "could not connect to the API"
    else:
        kind, code = errors.ConnectionLostError, "connection_lost"
        what = "the connection to the API failed"
    request = _request(error)
    url = f" at {request.url.scheme}://{request.url.netloc.decode()}" if request else ""
    failure = kind(
        f"{what}{url}", code=code, details=str(error) or type(error).__name__, request=request
    )
    # Not raised yet: it is raised once retrying is over, with httpx's error as its cause.
    failure.__cause__ = error
    return failure


def _request(error: httpx.TransportError) -> httpx.Request | None:
    try:
        return error.request
    except RuntimeError:
        return None
