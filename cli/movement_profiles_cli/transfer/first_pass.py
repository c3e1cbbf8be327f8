"""The first pass of an import: every row of a file judged, and nothing kept but what the
second pass and the report need.

It keeps the bad rows, 24 bytes a row for the check that no user_id appears twice (`FirstLines`),
and a byte a row saying how the row is to be sent (`LineForms`): 25 MB for a million rows. A
large JSON Lines file is checked by one process a core, each a part of the file.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import zlib
from array import array
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import IO
from uuid import UUID

from movement_profiles_cli.transfer.files import FileProblem, SourceRow, read_blocks
from movement_profiles_cli.transfer.rows import (
    BadRow,
    CatalogueJudge,
    ImportRow,
    LineForm,
    json_object_parser,
    plain_form_judge,
    validate_row,
)


class FirstLines:
    """The line where each user_id first appears, to report the rows that repeat one, in 24
    bytes a row: ids and line numbers are packed into arrays (a set of a million UUID objects
    would take 100 MB), spread by a checksum over buckets that are checked one at a time at the
    end (a checksum, not `hash()`: the buckets of parts read by other processes must match)."""

    _BUCKETS = 256

    def __init__(self) -> None:
        self._ids = [bytearray() for _ in range(self._BUCKETS)]
        self._lines = [array("Q") for _ in range(self._BUCKETS)]

    def add(self, user_id: bytes, line: int) -> None:
        bucket = zlib.crc32(user_id) % self._BUCKETS
        self._ids[bucket] += user_id
        self._lines[bucket].append(line)

    def extend(self, other: FirstLines, line_offset: int) -> None:
        """Add the ids of a later part of the file, whose lines are numbered from 1."""
        for ids, lines, more_ids, more_lines in zip(
            self._ids, self._lines, other._ids, other._lines, strict=True
        ):
            ids += more_ids
            lines.extend(line + line_offset for line in more_lines)

    def repeats(self) -> Iterator[BadRow]:
        """A bad row for each line whose user_id an earlier line has."""
        for ids, first_line in self._first_lines():
            for user_id, line in ids:
                first = first_line[user_id]
                if first != line:
                    yield BadRow(
                        line, f"user_id {UUID(bytes=user_id)} already appears on line {first}"
                    )

    def user_ids(self) -> Iterator[UUID]:
        """Each user_id once."""
        for _, first_line in self._first_lines():
            for user_id in first_line:
                yield UUID(bytes=user_id)

    def _first_lines(self) -> Iterator[tuple[list[tuple[bytes, int]], dict[bytes, int]]]:
        for packed, lines in zip(self._ids, self._lines, strict=True):
            data = bytes(packed)
            ids = [(data[at * 16 : at * 16 + 16], line) for at, line in enumerate(lines)]
            first_line: dict[bytes, int] = {}
            for user_id, line in ids:
                first_line.setdefault(user_id, line)
            yield ids, first_line


def _user_key(row: ImportRow) -> bytes:
    """The user_id of a row `validate_row` passed, as 16 bytes: straight from the hex of the
    usual form, else parsed."""
    assert row.fields is not None  # validate_row sends fields, never text
    user_id = row.fields["user_id"]
    if type(user_id) is str and len(user_id) == 36:
        try:
            return bytes.fromhex(user_id.replace("-", ""))
        except ValueError:
            pass
    return row.user_id.bytes


class LineForms:
    """The `LineForm` of each line, a byte a line (a megabyte for a million); a line never
    marked is `SKIPPED`."""

    def __init__(self) -> None:
        self._forms = bytearray()

    def mark(self, line: int, form: LineForm) -> None:
        if line > len(self._forms):
            self._forms.extend(bytes(line - len(self._forms)))
        self._forms[line - 1] = form

    def __getitem__(self, line: int) -> int:
        return self._forms[line - 1] if line <= len(self._forms) else LineForm.SKIPPED

    def extend(self, other: LineForms, line_offset: int) -> None:
        """Add the forms of a later part of the file, whose lines are numbered from 1."""
        self._forms.extend(bytes(line_offset - len(self._forms)))
        self._forms += other._forms


@dataclass
class Checked:
    """What the first pass keeps: the count of rows (and of lines, blank ones too), the bad
    rows, where each user_id first is, and how each line is to be sent."""

    rows: int = 0
    lines: int = 0
    invalid: list[BadRow] = field(default_factory=list)
    first_lines: FirstLines = field(default_factory=FirstLines)
    forms: LineForms = field(default_factory=LineForms)

    @property
    def valid_rows(self) -> int:
        return self.rows - len(self.invalid)

    def extend(self, part: Checked) -> None:
        """Add what the first pass found in the next part of the file (lines numbered from 1)."""
        offset = self.lines
        self.rows += part.rows
        self.lines += part.lines
        self.invalid.extend(
            BadRow(bad_row.line + offset, bad_row.problem, bad_row.missing_user)
            for bad_row in part.invalid
        )
        self.first_lines.extend(part.first_lines, offset)
        self.forms.extend(part.forms, offset)

    def take(self, row: ImportRow | BadRow) -> None:
        """Count a row as `validate_row` judged it: bad, or valid and rebuilt when sent."""
        self.rows += 1
        if isinstance(row, BadRow):
            self.invalid.append(row)
        else:
            self.forms.mark(row.line, LineForm.REBUILT)
            self.first_lines.add(_user_key(row), row.line)

    def finish(self) -> None:
        """Report the rows that repeat a user_id, once every part is in."""
        for repeat in self.first_lines.repeats():
            self.invalid.append(repeat)
            self.forms.mark(repeat.line, LineForm.SKIPPED)
        self.invalid.sort(key=lambda bad_row: bad_row.line)


def check_jsonl(
    chunks: Iterable[bytes], judge: CatalogueJudge, *, at_start: bool = True
) -> Checked:
    """The first pass over JSON Lines (the whole file, or a part of it that starts at a line,
    as blocks of bytes): every row judged against the catalogue, lines numbered from the part's
    first. One loop, as lean as it can be: it runs once a row. Raises FileProblem for bytes that
    are not UTF-8."""
    from movement_profiles_cli.transfer.files import jsonl_lines, jsonl_record

    checked = Checked()
    json_object = json_object_parser()
    plain_form = plain_form_judge(judge)
    mark, add = checked.forms.mark, checked.first_lines.add
    line = 0
    for line, text in jsonl_lines(chunks, at_start=at_start):
        fields = None if text is None else json_object(text)
        form = None if fields is None else plain_form(fields)
        if form is not None:
            # The usual form: its user_id is a hyphenated UUID string.
            assert fields is not None
            checked.rows += 1
            mark(line, form)
            add(bytes.fromhex(fields["user_id"].replace("-", "")), line)
            continue
        # Anything but a valid row in the usual form: judged (and worded) the thorough way, from
        # the text as the standard library parses it.
        parsed = jsonl_record(line, text)
        if parsed is not None:
            checked.take(validate_row(parsed, judge))
    checked.lines = line
    return checked


def check_records(records: Iterable[SourceRow], judge: CatalogueJudge) -> Checked:
    """The first pass over the records of a CSV file."""
    checked = Checked()
    for record in records:
        checked.take(validate_row(record, judge))
    return checked


#: A JSON Lines file at least this large (about 250,000 rows) is checked by several processes
#: at once, a part each: the first pass is Python, one core's work, while the database waits.
#: A smaller file is not worth the processes' start.
PARALLEL_CHECK_BYTES = 32 * 1024 * 1024
#: At most this many processes (the CLI's own included) check a file.
MAX_CHECK_PROCESSES = 4
#: How they start: forked where that is safe and cheap (Linux; they start with everything
#: imported, and no thread runs yet), elsewhere as fresh interpreters.
CHECK_START_METHOD = "fork" if sys.platform == "linux" else "spawn"


def check_jsonl_part(path: str, start: int, end: int, judge: CatalogueJudge) -> Checked:
    """`check_jsonl` of the lines from byte `start` (the start of a line) to `end`, in a
    process of its own."""
    with open(path, "rb") as stream:
        stream.seek(start)
        return check_jsonl(read_blocks(stream, end - start), judge, at_start=start == 0)


def part_starts(stream: IO[bytes], size: int, parts: int) -> list[int]:
    """Where each part of the file starts: 0, then just after the first newline from each
    equal share on (fewer parts where a share holds no newline)."""
    starts = [0]
    for share in range(1, parts):
        position = max(size * share // parts, starts[-1])
        stream.seek(position)
        # A block at a time: a share may be one enormous line.
        for block in read_blocks(stream, size - position):
            newline = block.find(b"\n")
            if newline >= 0:
                position += newline + 1
                break
            position += len(block)
        if position >= size:
            break
        if position > starts[-1]:
            starts.append(position)
    return starts


def check_processes() -> int:
    """One a core this process may run on, at most `MAX_CHECK_PROCESSES`."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, MAX_CHECK_PROCESSES))


def check_jsonl_file(
    stream: IO[bytes], path: str, processes: int, judge: CatalogueJudge
) -> Checked:
    """`check_jsonl` of a whole file, by up to `processes` processes at once when it is large,
    each a part; the verdicts are the same as one process's. `path` names the file `stream`
    reads, for the other processes to open: by name, as `stream` may be a descriptor forked
    processes would share."""
    size = os.fstat(stream.fileno()).st_size
    starts = part_starts(stream, size, processes) if size >= PARALLEL_CHECK_BYTES else [0]
    stream.seek(0)
    if len(starts) == 1:
        return check_jsonl(read_blocks(stream), judge)
    ends = [*starts[1:], size]
    with ProcessPoolExecutor(
        len(starts) - 1, mp_context=multiprocessing.get_context(CHECK_START_METHOD)
    ) as pool:
        later = [
            pool.submit(check_jsonl_part, path, start, end, judge)
            for start, end in zip(starts[1:], ends[1:], strict=True)
        ]
        # This process checks the first part meanwhile.
        checked = check_jsonl(read_blocks(stream, ends[0]), judge)
        for part in later:
            try:
                checked.extend(part.result())
            except FileProblem as problem:
                # Its lines are numbered from the part's first: the file's, from here.
                raise problem.moved(checked.lines) from None
    return checked
