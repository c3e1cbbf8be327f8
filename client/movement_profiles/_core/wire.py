"""What goes over the wire: a request, a response, an operation that trades them, the API's paths
and the client's headers."""

from __future__ import annotations

import re
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from movement_profiles import errors
from movement_profiles.options import PROFILE_COLUMNS

T = TypeVar("T")

TABLE = "movement_profiles"
OPTIONS_FUNCTION = "rpc/movement_profile_options"
#: The catalogue's functions: ``rpc/movement_profile_<name>``.
RPC_PREFIX = "rpc/movement_profile_"
SINGLE_OBJECT = "application/vnd.pgrst.object+json"
#: Rows one request may return: PostgREST's ``db-max-rows`` here and hosted Supabase's default.
MAX_PAGE_SIZE = 1000
SELECT_COLUMNS = ",".join(PROFILE_COLUMNS)


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
