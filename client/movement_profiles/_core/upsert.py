"""Bulk upserts: rows validated and cut into batches, each sent as one request."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pydantic_core

from movement_profiles import errors
from movement_profiles._core.operations import check_range, coerce
from movement_profiles._core.responses import checked_body, content_range_total
from movement_profiles._core.wire import TABLE, Operation, Request
from movement_profiles.models import (
    MovementProfile,
    MovementProfileCreate,
    aware_datetime,
    parse_uuid,
    plain_create_row,
)
from movement_profiles.options import (
    ASSIGNED_COLUMNS,
    CUSTOM_FIELDS_COLUMN,
    PROFILE_COLUMNS,
    WRITABLE_COLUMNS,
)

DEFAULT_UPSERT_BATCH_SIZE = 500
#: Upsert requests `upsert_many` keeps open at once: two let the client build the next batch while
#: the database writes the last; more only queue up in the database.
DEFAULT_UPSERT_IN_FLIGHT = 2
MAX_UPSERT_IN_FLIGHT = 8
# ~150 kB per request at most, well under the gateway's 1 MiB body limit.
MAX_UPSERT_BATCH_SIZE = 1000


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
    row = _created_row(
        {
            column: item.get(column)
            for column in WRITABLE_COLUMNS
            # Left out, custom_fields is empty (an export from before the catalogue has none).
            if column != CUSTOM_FIELDS_COLUMN or item.get(column) is not None
        }
    )
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
            plain.setdefault(CUSTOM_FIELDS_COLUMN, {})
            return plain
    profile = coerce(MovementProfileCreate, item)
    if profile.user_id is None:
        raise errors.ValidationError(
            "user_id is required to upsert", code="invalid_argument", hint="user_id"
        )
    return _created_profile_row(profile, profile.user_id)


def _created_profile_row(profile: MovementProfileCreate, user_id: UUID) -> dict[str, Any]:
    # What `to_json()` gives, built directly: pydantic's dump costs more than the rest of a row.
    # Every row carries custom_fields, {} for none: an upsert writes the whole profile (see
    # `_upsert_body` for why not `Prefer: missing=default`).
    return {
        "user_id": str(user_id),
        "training_preferences": profile.training_preferences,
        "goals": profile.goals,
        CUSTOM_FIELDS_COLUMN: profile.custom_fields,
    }


def _stored_profile_row(profile: MovementProfile, keep_identity: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "user_id": str(profile.user_id),
        "training_preferences": profile.training_preferences,
        "goals": profile.goals,
        CUSTOM_FIELDS_COLUMN: profile.custom_fields,
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
    check_range("batch_size", batch_size, 1, MAX_UPSERT_BATCH_SIZE)
    columns = _columns(keep_identity, custom_fields=True)
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
    check_range("max_in_flight", max_in_flight, 1, MAX_UPSERT_IN_FLIGHT)


def upsert_batch(batch: UpsertBatch) -> Operation[int]:
    """One bulk upsert on user_id: insert new profiles, overwrite the given columns of existing
    ones (the database's trigger still keeps ``created_at`` and moves ``updated_at`` of those)."""
    # pydantic-core's encoder: the same compact UTF-8 JSON as `operations.encode`, in a fifth of the
    # time, which a bulk import spends on every row.
    return (
        yield from _upsert_body(pydantic_core.to_json(batch.rows), len(batch.rows), batch.columns)
    )


def _columns(keep_identity: bool, *, custom_fields: bool) -> tuple[str, ...]:
    columns = PROFILE_COLUMNS if keep_identity else WRITABLE_COLUMNS
    return columns if custom_fields else tuple(c for c in columns if c != CUSTOM_FIELDS_COLUMN)


def upsert_json_rows(
    rows: Sequence[bytes], keep_identity: bool, custom_fields: bool = False
) -> Operation[int]:
    """`upsert_batch` for rows that are already JSON object texts, sent as they are.

    With `custom_fields` every row carries ``custom_fields`` and it is written; without, rows'
    ``custom_fields`` are ignored: new profiles get none, existing ones keep theirs."""
    if not 1 <= len(rows) <= MAX_UPSERT_BATCH_SIZE:
        raise errors.ValidationError(
            f"rows must hold 1 to {MAX_UPSERT_BATCH_SIZE} profiles (one request), got {len(rows)}",
            code="invalid_argument",
            hint="rows",
        )
    columns = _columns(keep_identity, custom_fields=custom_fields)
    return (yield from _upsert_body(b"[" + b",".join(rows) + b"]", len(rows), columns))


def _upsert_body(body: bytes, rows: int, columns: tuple[str, ...]) -> Operation[int]:
    response = yield Request(
        "POST",
        TABLE,
        # `columns` names what the rows carry, so PostgREST hands the body to PostgreSQL without
        # parsing it; PostgreSQL reads each row's fields by those names, and ignores others. A
        # named column a row lacks is written as null: `Prefer: missing=default` would write
        # the column's default instead, but PostgREST before 12.2.4 takes the default of a
        # domain-typed column (custom_fields) from its domain, which has none.
        params=(("on_conflict", "user_id"), ("columns", ",".join(columns))),
        headers={
            "Content-Type": "application/json",
            "Prefer": "resolution=merge-duplicates,return=minimal,count=exact",
        },
        body=body,
    )
    checked_body(response, expected=(200, 201), not_found="no profiles")
    written = content_range_total(response)
    return rows if written is None else written
