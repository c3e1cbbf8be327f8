"""`AsyncMovementProfilesClient`, the asyncio client. It moves bytes; `_core` decides the rest.

`_sync.py` is generated from `_async.py` by ``scripts/unasync.py`` (``make generate``): edit
`_async.py` only; `make lint` fails while `_sync.py` is stale.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import (
    AsyncIterator,
    Callable,
    Collection,
    Iterable,
    Mapping,
    Sequence,
)
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar
from uuid import UUID

import httpx

from movement_profiles import _core, _transport, config
from movement_profiles._core.catalogue import RemoveProfiles, RetireProfiles
from movement_profiles.catalogue import Catalogue, CatalogueChange, CatalogueField
from movement_profiles.concurrency import async_run_overlapped
from movement_profiles.concurrency._workers import async_sleep
from movement_profiles.models import (
    Goal,
    MovementProfile,
    MovementProfileCreate,
    MovementProfileOptions,
    MovementProfileUpdate,
    TrainingPreference,
)

if TYPE_CHECKING:
    from supabase import AsyncClient as SupabaseClient

T = TypeVar("T")

__all__ = ["AsyncMovementProfilesClient"]


@dataclass(frozen=True)
class _Endpoint:
    """Where requests go: the REST root, the session that sends and the headers sent along."""

    session: httpx.AsyncClient
    base_url: str
    headers: Mapping[str, str]


class AsyncMovementProfilesClient:
    """The /movement-profiles contract over a Supabase project's REST API (in asyncio).

    Act as a user by passing the anon key and the user's `access_token` (row-level security then
    limits every call to that user's profile), or as an admin by passing the service role key.

    Args:
        url: the project URL, e.g. ``http://127.0.0.1:54321`` or ``https://<ref>.supabase.co``.
        key: the anon (publishable) key or the service role key.
        access_token: a user's JWT; requests then run as that user.
        timeout: seconds (or an ``httpx.Timeout``) each request may take.
        max_retries: how often a failed read is retried (writes: see `RetryPolicy`).
        retry_backoff: seconds before the first retry; doubled for each further one, with jitter.
        http_client: an httpx.AsyncClient to send with (proxies, custom transports); it is not
            closed by `aclose()`. By default the client opens its own pooled one.

    The client keeps its connections open: reuse one instance, and `await aclose()` it (or use
    it in ``async with``) when done. Use it from one event loop.
    """

    def __init__(
        self,
        url: str,
        key: str,
        access_token: str | None = None,
        *,
        timeout: float | httpx.Timeout = _core.DEFAULT_TIMEOUT,
        max_retries: int = _core.DEFAULT_MAX_RETRIES,
        retry_backoff: float = _core.DEFAULT_RETRY_BACKOFF,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        endpoint = _Endpoint(
            http_client or httpx.AsyncClient(timeout=timeout),
            _core.rest_url(url),
            _transport.client_headers(key, access_token),
        )
        self._setup(
            lambda: endpoint,
            owned_session=None if http_client else endpoint.session,
            timeout=timeout,
            retry=_core.RetryPolicy(max_retries, retry_backoff),
        )

    def _setup(
        self,
        endpoint: Callable[[], _Endpoint],
        *,
        owned_session: httpx.AsyncClient | None,
        timeout: float | httpx.Timeout,
        retry: _core.RetryPolicy,
    ) -> None:
        self._endpoint = endpoint
        self._owned_session = owned_session
        self._timeout = timeout
        self._retry = retry

    @classmethod
    def from_env(
        cls,
        *,
        service_role: bool = False,
        access_token: str | None = None,
        env_file: str | os.PathLike[str] | None = None,
        timeout: float | httpx.Timeout = _core.DEFAULT_TIMEOUT,
        max_retries: int = _core.DEFAULT_MAX_RETRIES,
        retry_backoff: float = _core.DEFAULT_RETRY_BACKOFF,
    ) -> Self:
        """A client configured from ``SUPABASE_URL`` and the keys, all from one place: the
        environment, a ``.env`` file, or the local stack, in that order (see
        `movement_profiles.config`); never a URL from one and a key from another.

        Uses ``SUPABASE_ANON_KEY``, or ``SUPABASE_SERVICE_ROLE_KEY`` when `service_role` is true.
        Raises `ConfigurationError` when nothing is configured and there is no local stack.
        """
        settings = config.load_settings(env_file)
        return cls(
            settings.url,
            settings.key(service_role=service_role),
            access_token,
            timeout=timeout,
            max_retries=max_retries,
            retry_backoff=retry_backoff,
        )

    @classmethod
    def from_supabase(
        cls,
        client: SupabaseClient,
        *,
        timeout: float | httpx.Timeout = _core.DEFAULT_TIMEOUT,
        max_retries: int = _core.DEFAULT_MAX_RETRIES,
        retry_backoff: float = _core.DEFAULT_RETRY_BACKOFF,
    ) -> Self:
        """A client that sends through an existing supabase-py `AsyncClient`
        (``await acreate_client(...)``).

        It reuses the client's PostgREST connections, URL and headers, and acts as whoever the
        client acts as: the key it was created with, a user signed in with ``client.auth``, or an
        ``Authorization`` header given in its options. `aclose()` leaves the supabase client open.
        """
        instance = cls.__new__(cls)
        # Read at every request: supabase-py replaces its PostgREST client when a user signs in.
        instance._setup(
            lambda: _Endpoint(
                client.postgrest.session, str(client.postgrest.base_url), client.postgrest.headers
            ),
            owned_session=None,
            timeout=timeout,
            retry=_core.RetryPolicy(max_retries, retry_backoff),
        )
        return instance

    # -- transport ------------------------------------------------------------------------------

    async def _send(self, request: _core.Request) -> _core.Response:
        attempts = self._retry.start(request)
        while True:
            endpoint = self._endpoint()
            try:
                raw = await endpoint.session.request(
                    request.method,
                    _transport.request_url(endpoint.base_url, request),
                    params=request.params,
                    headers=_transport.request_headers(endpoint.headers, request),
                    content=request.body,
                    timeout=self._timeout,
                )
            except httpx.TransportError as error:
                delay = attempts.after_no_response(_transport.transport_failure(error))
            else:
                outcome = attempts.after_response(_transport.response(raw))
                if isinstance(outcome, _core.Response):
                    return outcome
                delay = outcome
            await async_sleep(delay)

    async def _run(self, operation: _core.Operation[T]) -> T:
        try:
            request = next(operation)
            while True:
                request = operation.send(await self._send(request))
        except StopIteration as finished:
            result: T = finished.value
            return result

    # -- the contract ---------------------------------------------------------------------------

    async def create(self, profile: MovementProfileCreate | Mapping[str, Any]) -> MovementProfile:
        """Create a profile (``POST /movement-profiles``) and return it as stored.

        Raises `ValidationError` (invalid arrays, before any request), `ConflictError` (the user
        already has one), `PermissionDeniedError` (a user creating someone else's), `AuthError`.
        """
        return await self._run(_core.create(profile))

    async def get(self, user_id: UUID | str) -> MovementProfile:
        """The profile of `user_id` (``GET /movement-profiles/{user_id}``).

        Raises `NotFoundError` when there is none, or when it is not the caller's.
        """
        return await self._run(_core.get(user_id))

    async def update(
        self,
        user_id: UUID | str,
        changes: MovementProfileUpdate | Mapping[str, Any],
        expected_updated_at: datetime | str | None = None,
    ) -> MovementProfile:
        """Change the given fields of a profile (``PUT /movement-profiles/{user_id}``).

        With `expected_updated_at` (the ``updated_at`` of the profile as last read) the change is
        written only if nobody changed the profile since; otherwise `StaleUpdateError` (a
        `ConflictError`) is raised and nothing is written. Raises `NotFoundError` when there is no
        such profile or it is not the caller's.
        """
        return await self._run(_core.update(user_id, changes, expected_updated_at))

    async def list(
        self,
        training_preference: TrainingPreference
        | str
        | Collection[TrainingPreference | str]
        | None = None,
        goal: Goal | str | Collection[Goal | str] | None = None,
        limit: int = 100,
        offset: int = 0,
        *,
        custom_fields: Mapping[str, str | Collection[str]] | None = None,
    ) -> builtins.list[MovementProfile]:
        """Profiles that include the given training preference(s), goal(s) and custom field
        values (``custom_fields={"injuries": ["knee"]}``), by user_id.

        Several values (a list) must all be present. Uses the GIN-indexed containment operator
        (``@>``). Any string may be asked for: a value no profile holds matches none. `limit` is
        at most 1000. A user sees only their own profile.
        """
        return await self._run(
            _core.list_profiles(training_preference, goal, limit, offset, custom_fields)
        )

    async def delete(self, user_id: UUID | str) -> None:
        """Delete the profile of `user_id`. Service key only: users get `PermissionDeniedError`.

        Raises `NotFoundError` when there is no such profile.
        """
        await self._run(_core.delete(user_id))

    async def options(self) -> MovementProfileOptions:
        """Every field's allowed values, as the catalogue holds them now:
        ``{"training_preferences": [...], "goals": [...], "injuries": [...]}``, each field's
        values in display order (the fields in jsonb's order of keys, not display order).
        `catalogue()` gives the same in display order, with labels, descriptions and which
        fields are required."""
        return await self._run(_core.options())

    # -- the catalogue --------------------------------------------------------------------------

    async def catalogue(self) -> Catalogue:
        """The catalogue: every field (built-in first) and its active values, in display order,
        with labels and descriptions. Anyone may read it; see `movement_profiles.catalogue`."""
        return await self._run(_core.catalogue.catalogue())

    async def add_field(
        self,
        field: str,
        *,
        label: str,
        description: str = "",
        required: bool = False,
        allowed_values: Collection[str] = (),
    ) -> CatalogueField:
        """Add a field, stored in each profile's ``custom_fields``, with its first values in
        display order; return it. Service key only.

        A required field can only be added while no profile exists (each would lack it):
        `ValidationError` otherwise, as for a bad or reserved name. `ConflictError` when the
        field exists already.
        """
        return await self._run(
            _core.catalogue.add_field(field, label, description, required, tuple(allowed_values))
        )

    async def add_value(
        self, field: str, value: str, *, label: str | None = None, description: str = ""
    ) -> CatalogueField:
        """Append `value` to a field's allowed values (built-in or custom); return the field.
        Service key only.

        `label` defaults to the value with spaces for underscores and its first letter upper
        case. Adding a retired value brings it back. `ConflictError` when it is active already.
        """
        return await self._run(_core.catalogue.add_value(field, value, label, description))

    async def relabel(
        self,
        field: str,
        *,
        label: str,
        value: str | None = None,
        description: str | None = None,
    ) -> CatalogueField:
        """Change the label (and, when given, the description) of a field, or of one of its
        values when `value` is given; return the field. Stored values do not change. Service key
        only."""
        return await self._run(_core.catalogue.relabel(field, label, value, description))

    async def retire_value(
        self,
        field: str,
        value: str,
        *,
        profiles: RetireProfiles = "refuse",
        replacement: str | None = None,
    ) -> int:
        """Retire a value: no longer allowed, no longer listed. Return how many profiles changed.
        Service key only.

        While profiles hold it, `profiles` says what to do with them, in the same transaction:
        ``"refuse"`` (`ConflictError`, code ``23503``, its message says how many hold it),
        ``"remove"`` (take it out of them; refused as well when a required field would be left
        empty), ``"replace"`` (put the active value `replacement` in its place).
        """
        return await self._run(_core.catalogue.retire_value(field, value, profiles, replacement))

    async def remove_field(self, field: str, *, profiles: RemoveProfiles = "refuse") -> int:
        """Remove a custom field and its values; return how many profiles changed. Service key
        only.

        While profiles hold values for it, ``profiles="refuse"`` raises `ConflictError` (code
        ``23503``) and ``"remove"`` deletes the field from them. Built-in fields cannot be
        removed (`ValidationError`).
        """
        return await self._run(_core.catalogue.remove_field(field, profiles))

    async def apply_catalogue(
        self, catalogue: Catalogue | Mapping[str, Any], *, profiles: RemoveProfiles = "refuse"
    ) -> int:
        """Bring the catalogue to `catalogue` (the shape of `catalogue()`), in one transaction:
        add fields and values, relabel, reorder, and retire values and remove fields it does not
        list (refused with `ConflictError` while profiles hold them, unless
        ``profiles="remove"``). Return the number of changes; applying it again returns 0.
        Service key only."""
        return await self._run(_core.catalogue.apply_catalogue(catalogue, profiles))

    async def catalogue_sql(self) -> str:
        """A migration file's content that gives another environment this catalogue (through
        ``supabase db push`` or psql). Service key only."""
        return await self._run(_core.catalogue.catalogue_sql())

    async def catalogue_changes(self, max_rows: int = 100) -> builtins.list[CatalogueChange]:
        """The recorded changes of the catalogue, newest first: who, when, what. Service key
        only."""
        return await self._run(_core.catalogue.catalogue_changes(max_rows))

    # -- bulk, for imports and exports ----------------------------------------------------------

    async def upsert_many(
        self,
        profiles: Iterable[MovementProfileCreate | MovementProfile | Mapping[str, Any]],
        *,
        batch_size: int = _core.DEFAULT_UPSERT_BATCH_SIZE,
        on_batch: Callable[[int], None] | None = None,
        keep_identity: bool = False,
        max_in_flight: int = _core.DEFAULT_UPSERT_IN_FLIGHT,
    ) -> int:
        """Insert or overwrite profiles by user_id, one request per batch; return rows written.

        Service key only. Every profile needs a `user_id`, at most once in the input. Existing
        profiles are replaced: both arrays and ``custom_fields`` (a profile given without custom
        fields has none afterwards); ``created_at`` is kept, ``updated_at`` moves. Each
        batch is one transaction: when one fails, the batches before it stay written and the
        error is raised; `on_batch` is called with each batch's row count, e.g. to drive a
        progress bar or to know how far an import got. Never retried unless it could not connect.

        Up to `max_in_flight` batches are sent at once, so the next batch is validated and
        encoded while the database writes the last. When a batch fails, the batches sent after
        it (at most `max_in_flight` - 1) still complete, and count in `on_batch`, before the
        first error is raised; `on_batch` is called in batch order. Profiles given as built
        models (`MovementProfileCreate`, `MovementProfile`) are sent as they are; mappings are
        validated first.

        With `keep_identity` (restoring an export) each profile is a `MovementProfile` or a mapping
        with ``id``, ``created_at`` and ``updated_at`` too, and new rows keep them; on an existing
        user's row the database still keeps its ``created_at`` and sets ``updated_at`` to now.
        """
        _core.check_in_flight(max_in_flight)
        written = 0

        def count(rows: int) -> bool:
            nonlocal written
            written += rows
            if on_batch is not None:
                on_batch(rows)
            return False

        batches = _core.upsert_batches(profiles, batch_size, keep_identity=keep_identity)
        await async_run_overlapped(batches, self._upsert_batch, max_in_flight, count)
        return written

    async def _upsert_batch(self, batch: _core.UpsertBatch) -> int:
        return await self._run(_core.upsert_batch(batch))

    async def upsert_json_rows(
        self, rows: Sequence[bytes], *, keep_identity: bool = False, custom_fields: bool = False
    ) -> int:
        """Upsert rows that are already JSON, in one request and one transaction; rows written.

        For a caller that has validated its rows with the SDK's rules already and holds them as
        text, such as an import that checked a whole file first: each item is one JSON object
        with the `upsert_many` fields (``id``, ``created_at`` and ``updated_at`` too with
        `keep_identity`; ``custom_fields`` in every row with `custom_fields`, which then
        replaces the stored one; without it, rows' ``custom_fields`` are ignored, new profiles
        get none and existing ones keep theirs), and is sent as it is,
        without being parsed again. Nothing here looks inside the rows: the database checks
        every row, and a batch it refuses raises the same errors as `upsert_many`
        (`ValidationError`, `ConflictError`) with nothing written.
        Service key only; 1 to 1,000 rows.
        """
        return await self._run(_core.upsert_json_rows(rows, keep_identity, custom_fields))

    def iter_all(self, page_size: int = _core.MAX_PAGE_SIZE) -> AsyncIterator[MovementProfile]:
        """Every profile the caller may read, ordered by user_id, fetched `page_size` at a time.

        Pages are keyset ranges (``user_id > last``), so the export is consistent per page and
        never skips or repeats a row because of concurrent inserts.
        """
        _core.check_page_size(page_size)
        return self._iter_profiles(page_size)

    def iter_pages(
        self, page_size: int = _core.MAX_PAGE_SIZE
    ) -> AsyncIterator[builtins.list[MovementProfile]]:
        """The profiles of `iter_all`, one list per request (at most `page_size` each), for a
        caller that handles a page at a time."""
        _core.check_page_size(page_size)
        return self._iter_pages(page_size)

    async def _iter_profiles(self, page_size: int) -> AsyncIterator[MovementProfile]:
        async for page in self._iter_pages(page_size):
            for profile in page:
                yield profile

    async def _iter_pages(self, page_size: int) -> AsyncIterator[builtins.list[MovementProfile]]:
        after: UUID | None = None
        while page := await self._run(_core.page_after(after, page_size)):
            yield page
            after = page[-1].user_id

    # -- lifetime -------------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the connections this client opened (not those of an http_client or supabase
        client it was given)."""
        if self._owned_session is not None:
            await self._owned_session.aclose()

    # unasync: async only
    async def close(self) -> None:
        """The same as `aclose()`."""
        await self.aclose()

    # unasync: end

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
