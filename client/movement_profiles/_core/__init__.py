"""The sans-I/O core shared by the sync and async clients.

Everything that decides what goes over the wire and what comes back lives here, in plain functions
that never touch a socket: each operation is a generator that yields `Request`s and is sent the
`Response`s, and returns the result (a `MovementProfile`, a list, a count) or raises the one right
exception. Its modules, each on one side of the exchange: `wire` (requests, responses, headers),
`operations` (one profile or a page), `catalogue` (the catalogue and its admin functions),
`upsert` (bulk writes in batches), `responses` (answers
mapped to models and errors) and `retries` (what is tried again, after how long).

The clients only move bytes: they send each `Request` with their httpx session, wait (in their
own way) between retries, and feed the `Response` back. So
`update`'s stale-or-missing follow-up read, `iter_all`'s keyset paging and the whole error mapping
exist once, and are tested without a network (tests/sdk/test_mapping.py). This package imports
no HTTP library; `_transport` holds the little that knows httpx.

Why not postgrest-py: its `APIError` carries no HTTP status (it is needed to tell 401 from 403
for the same ``42501``), its built-in retry follows a schedule of its own (1 s, 2 s, 4 s, ... up to
30 s between tries) that the SDK's `max_retries` and `retry_backoff` could not govern, its request
builders cannot be driven sans-I/O, and some of its releases write the key into the default
headers of an `http_client` they are given. The clients send with httpx directly; `from_supabase`
sends through a supabase-py client's own PostgREST session, URL and headers, and so reuses its
connections and follows its signed-in user.
"""

from movement_profiles._core import catalogue
from movement_profiles._core.operations import (
    check_page_size,
    create,
    delete,
    encode,
    get,
    list_profiles,
    options,
    page_after,
    update,
)
from movement_profiles._core.responses import error_from_response, parse_profile
from movement_profiles._core.retries import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_RETRY_BACKOFF,
    DEFAULT_TIMEOUT,
    Attempts,
    RetryPolicy,
    transient_failure,
)
from movement_profiles._core.upsert import (
    DEFAULT_UPSERT_BATCH_SIZE,
    DEFAULT_UPSERT_IN_FLIGHT,
    MAX_UPSERT_BATCH_SIZE,
    MAX_UPSERT_IN_FLIGHT,
    UpsertBatch,
    check_in_flight,
    upsert_batch,
    upsert_batches,
    upsert_json_rows,
)
from movement_profiles._core.wire import (
    MAX_PAGE_SIZE,
    Operation,
    Request,
    Response,
    auth_headers,
    rest_url,
)

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_RETRY_BACKOFF",
    "DEFAULT_TIMEOUT",
    "DEFAULT_UPSERT_BATCH_SIZE",
    "DEFAULT_UPSERT_IN_FLIGHT",
    "MAX_PAGE_SIZE",
    "MAX_UPSERT_BATCH_SIZE",
    "MAX_UPSERT_IN_FLIGHT",
    "Attempts",
    "Operation",
    "Request",
    "Response",
    "RetryPolicy",
    "UpsertBatch",
    "auth_headers",
    "catalogue",
    "check_in_flight",
    "check_page_size",
    "create",
    "delete",
    "encode",
    "error_from_response",
    "get",
    "list_profiles",
    "options",
    "page_after",
    "parse_profile",
    "rest_url",
    "transient_failure",
    "update",
    "upsert_batch",
    "upsert_batches",
    "upsert_json_rows",
]
