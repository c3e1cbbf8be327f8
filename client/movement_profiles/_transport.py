"""The httpx side of the clients: the headers they send with, and what a failed send means.

`_core` decides every request and judges every response without knowing any HTTP library; this
module is the small part both clients share that does know httpx. It does no I/O either.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping

import httpx

from movement_profiles import errors
from movement_profiles._core import Request, auth_headers

__all__ = ["client_headers", "request_headers", "request_url", "transport_failure"]

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


def transport_failure(error: httpx.TransportError) -> errors.ServiceUnavailableError:
    """The error for a request that got no response."""
    code: str
    if isinstance(error, httpx.ConnectTimeout):
        code, what = "connect_timeout", "timed out connecting to the API"
    elif isinstance(error, httpx.PoolTimeout):
        code, what = "pool_timeout", "timed out waiting for a free connection to the API"
    elif isinstance(error, httpx.TimeoutException):
        code, what = "timeout", "the API did not answer in time"
    elif isinstance(error, httpx.ConnectError):
        code, what = "connect_error", "could not connect to the API"
    else:
        code, what = "connection_lost", "the connection to the API failed"
    url = _request_url(error)
    return errors.ServiceUnavailableError(
        f"{what}{f' at {url}' if url else ''}",
        code=code,
        details=str(error) or type(error).__name__,
    )


def _request_url(error: httpx.TransportError) -> str | None:
    try:
        request = error.request
    except RuntimeError:
        return None
    return f"{request.url.scheme}://{request.url.netloc.decode()}"
