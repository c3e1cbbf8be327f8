"""The second pass of an import: valid rows sent in batches, several at once, and the rows the
database refuses isolated and reported like invalid ones."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, TypeVar

from movement_profiles_cli.transfer.rows import BadRow, ImportRow

if TYPE_CHECKING:
    from movement_profiles import MovementProfilesClient
    from movement_profiles.errors import MovementProfilesError

T = TypeVar("T")

#: The SDK's largest batch: fewer, larger transactions are what make a bulk import fast.
DEFAULT_BATCH_SIZE = 1000
#: Batches sent at once. Each batch's commit waits for its WAL flush; with more transactions in
#: flight PostgreSQL flushes several commits at once. A million rows on two cores: 33,000 rows/s
#: with 2, 42,500 with 4, 47,000 with 8. Four take four connections of PostgREST's pool (of 10
#: locally) for the import's duration; `--in-flight` lowers it on a busy project.
DEFAULT_IN_FLIGHT = 4


def batches(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class BatchWriter:
    """Upserts batches of valid rows, isolating the rows the database refuses.

    A refused batch wrote nothing (one transaction), so it is split in halves and each half sent
    again, down to single rows; each of those the database still refuses is a bad row. A batch
    that succeeds is never sent again.

    `write` may run in several threads at once (one batch each): the SDK client is thread-safe,
    and the count of written rows is kept under a lock.
    """

    def __init__(self, client: MovementProfilesClient, on_written: Callable[[int], None]) -> None:
        self._client = client
        self._on_written = on_written
        self._lock = threading.Lock()
        self.written = 0

    def write(self, batch: Sequence[ImportRow]) -> list[BadRow]:
        # One request writes one set of columns: rows with and without ids and timestamps go
        # apart, and so do rows sent as written and rows the SDK writes.
        groups: dict[tuple[bool, bool], list[ImportRow]] = {}
        for row in batch:
            groups.setdefault((row.keeps_identity, row.text is not None), []).append(row)
        bad_rows: list[BadRow] = []
        for (keep_identity, as_written), rows in groups.items():
            bad_rows.extend(self._write_isolating(rows, keep_identity, as_written))
        return sorted(bad_rows, key=lambda bad_row: bad_row.line)

    def _write_isolating(
        self, rows: Sequence[ImportRow], keep_identity: bool, as_written: bool
    ) -> list[BadRow]:
        from movement_profiles import errors

        try:
            if as_written:
                # The first pass sends a row as written only when it carries custom_fields
                # (`PLAIN_FIELDS`): every such row writes them.
                self._client.upsert_json_rows(
                    [row.text for row in rows if row.text is not None],
                    keep_identity=keep_identity,
                    custom_fields=True,
                )
            else:
                # One batch per call; `write_overlapped` overlaps the batches, so this sends
                # just one.
                self._client.upsert_many(
                    [row.fields for row in rows if row.fields is not None],
                    batch_size=len(rows),
                    keep_identity=keep_identity,
                    max_in_flight=1,
                )
        except (errors.ValidationError, errors.ConflictError) as error:
            if len(rows) == 1:
                return [_refusal(error, rows[0])]
            middle = len(rows) // 2
            return self._write_isolating(
                rows[:middle], keep_identity, as_written
            ) + self._write_isolating(rows[middle:], keep_identity, as_written)
        with self._lock:
            self.written += len(rows)
            self._on_written(len(rows))
        return []


def write_overlapped(
    writer: BatchWriter,
    batches: Iterable[Sequence[ImportRow]],
    in_flight: int,
    stop_at_refusal: bool,
) -> list[BadRow]:
    """Send the batches with up to `in_flight` of them at once, through the SDK's own pipeline
    (the one `upsert_many` uses); the refused rows, in line order.

    Outcomes are taken in batch order, so reports do not depend on timing. With
    `stop_at_refusal`, a refused row stops sending further batches; the ones already sent are
    still waited for (a write is never abandoned half-way), and their refused rows are reported
    too: with `in_flight` n, a refusal in batch k means batches up to k + n - 1 were sent,
    whatever the timing. The first error other than a refusal is raised once every sent batch
    has finished.
    """
    from movement_profiles.concurrency import run_overlapped

    refused: list[BadRow] = []

    def take(bad_rows: list[BadRow]) -> bool:
        refused.extend(bad_rows)
        return stop_at_refusal and bool(bad_rows)

    run_overlapped(batches, writer.write, in_flight, take)
    return refused


def _refusal(error: MovementProfilesError, row: ImportRow) -> BadRow:
    if error.code == "23503":
        return BadRow(row.line, f"user_id {row.user_id} names no auth user", True)
    return BadRow(row.line, f"{error.message}{f' ({error.details})' if error.details else ''}")
