"""`movement-profiles import FILE` and `movement-profiles export`: profiles in bulk.

Import reads the file twice, and holds neither the file nor its rows. The first pass validates
every row: a file with a bad row writes nothing (unless `--skip-invalid`), and every bad row is
reported with its line number and the reason, in the database's own words. It keeps only the bad
rows, 24 bytes a row for the check that no user_id appears twice, and a byte a row saying how the
row is to be sent (25 MB for a million rows). A large JSON Lines file is checked by one process
a core, each a part of the file. The second pass reads the file again and sends its valid rows
in batches as it reads them: upserts on user_id (one request and one transaction each), so
importing the same file twice is harmless. A row in the usual form (the form `export` writes) is
sent as the file spells it, not parsed and encoded again: the first pass found it valid, and
PostgreSQL reads JSON as Python does (escapes decoded, the last of a repeated key). Up to
`--in-flight` batches are sent at once, so the client reads the next batch while the database
writes the last; no more are held. Standard input cannot be read twice: the first pass copies it
to a temporary file, which the second reads (and which is gone when the import ends). Export
pages through every profile by user_id, writing each page as it comes while the next is
fetched, and writes what import reads; a file that carries `id`, `created_at` and `updated_at`
is restored with them.

One rule import cannot check beforehand: a profile's user must exist in auth.users (the
`user_id` foreign key). A batch the database refuses for it is split until the rows at fault are
found; they are reported like invalid rows. Without `--skip-invalid` the import stops there, with
the batches before it written, and those already sent after it (at most `--in-flight` - 1, their
refused rows reported too, so the outcome does not depend on timing); with
`--create-missing-users` the local stack gets the missing users first (local development only: a
hosted project's users come from Supabase Auth).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import shutil
import stat
import sys
import tempfile
import threading
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, NamedTuple, TextIO, TypeVar
from uuid import UUID

import typer

from movement_profiles_cli.commands._common import (
    AccessTokenOption,
    ExitCode,
    KeyOption,
    StateDirOption,
    UrlOption,
    fail,
)
from movement_profiles_cli.commands.profile_files import (
    MAX_PROBLEM_CHARS,
    FileFormat,
    FileProblem,
    SourceRow,
    format_from_suffix,
    printable,
    read_blocks,
)

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from movement_profiles import MovementProfilesClient
    from movement_profiles.errors import FieldProblem, MovementProfilesError
    from movement_profiles_cli.commands._common import Connection

app = typer.Typer()

T = TypeVar("T")

#: The columns a row may carry besides user_id and the arrays, restored as given.
IDENTITY_COLUMNS = ("id", "created_at", "updated_at")
_IDENTITY_COLUMN_SET = frozenset(IDENTITY_COLUMNS)
#: The SDK's largest batch: fewer, larger transactions are what make a bulk import fast.
DEFAULT_BATCH_SIZE = 1000
#: Batches sent at once. Each batch's commit waits for its WAL flush; with more transactions in
#: flight PostgreSQL flushes several commits at once. A million rows on two cores: 33,000 rows/s
#: with 2, 42,500 with 4, 47,000 with 8. Four take four connections of PostgREST's pool (of 10
#: locally) for the import's duration; `--in-flight` lowers it on a busy project.
DEFAULT_IN_FLIGHT = 4


# -- reading and validating -----------------------------------------------------------------------


class ImportRow(NamedTuple):
    """A valid row: its line, and either the fields to send (the SDK validates them again as it
    sends, the cheap way for rows in the usual form) or, for a row in the usual form, the line's
    own JSON text, sent as it is; and whether it restores an id and timestamps."""

    line: int
    fields: dict[str, Any] | None
    keeps_identity: bool
    text: bytes | None = None

    @property
    def user_id(self) -> UUID:
        from pydantic_core import from_json

        from movement_profiles.models import parse_uuid

        fields = self.fields if self.fields is not None else from_json(self.text or b"{}")
        return parse_uuid(fields["user_id"])


@dataclass(frozen=True)
class BadRow:
    line: int
    problem: str
    #: The database refused the row because auth.users has no such user.
    missing_user: bool = False

    def __post_init__(self) -> None:
        # Reported on one line of a terminal or of JSON, however hostile the value it quotes.
        object.__setattr__(self, "problem", printable(self.problem, MAX_PROBLEM_CHARS))

    def __str__(self) -> str:
        return f"line {self.line}: {self.problem}"


def row_to_send(line: int, fields: dict[str, Any]) -> ImportRow:
    """A record as it is sent: identity columns left empty are left out, and the row restores
    identity when it carries all three (the first pass made sure it has all or none)."""
    if not _IDENTITY_COLUMN_SET.isdisjoint(fields):
        if "id" in fields and None not in (fields.get(column) for column in IDENTITY_COLUMNS):
            return ImportRow(line, fields, True)
        fields = {
            key: value
            for key, value in fields.items()
            if value is not None or key not in IDENTITY_COLUMNS
        }
    return ImportRow(line, fields, False)


class LineForm(IntEnum):
    """How the second pass treats a line of a JSON Lines file, as the first pass found it."""

    #: Blank, or a bad row: not sent.
    SKIPPED = 0
    #: A valid row in the form `export` writes: its text is sent as it is, not parsed again.
    AS_WRITTEN = 1
    #: The same, with the id and timestamps it restores.
    AS_WRITTEN_RESTORING = 2
    #: A valid row in another form (a UUID in braces, a timestamp the database would read
    #: differently...): parsed again and sent as the SDK writes it.
    REBUILT = 3


#: A timestamp that PostgreSQL reads as the same instant as Python does: ISO 8601 with seconds,
#: at most microseconds (the database would round more digits, Python cuts them) and an offset.
_EXACT_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")


def plain_form_judge() -> Callable[[dict[str, Any]], LineForm | None]:
    """The judge of rows in the form `export` writes (and most files have): how the row may be
    sent when it is valid in that form, None when `validate_row` must judge it. The same rules
    by the SDK's shortcut (`is_plain_create_row`), about five times faster than building its
    model. Made once per pass: the SDK is imported once, not once a row (that would cost a
    second a million rows)."""
    from movement_profiles.errors import ValidationError
    from movement_profiles.models import (
        CREATE_FIELDS,
        aware_datetime,
        is_hyphenated_uuid,
        is_plain_create_row,
        parse_uuid,
    )

    plain_size = len(CREATE_FIELDS)
    restoring_size = plain_size + len(IDENTITY_COLUMNS)

    def plain_form(fields: dict[str, Any]) -> LineForm | None:
        if len(fields) == plain_size:
            return LineForm.AS_WRITTEN if is_plain_create_row(fields) else None
        if len(fields) != restoring_size:
            return None
        try:
            if not is_plain_create_row({column: fields[column] for column in CREATE_FIELDS}):
                return None
            identity = fields["id"], fields["created_at"], fields["updated_at"]
            parse_uuid(identity[0], field="id")
            aware_datetime(identity[1], field="created_at")
            aware_datetime(identity[2], field="updated_at")
        except (KeyError, ValidationError):
            return None
        if is_hyphenated_uuid(identity[0]) and all(
            type(value) is str and _EXACT_TIMESTAMP.fullmatch(value) for value in identity[1:]
        ):
            return LineForm.AS_WRITTEN_RESTORING
        return LineForm.REBUILT

    return plain_form


def validate_row(row: SourceRow) -> ImportRow | BadRow:
    """The row as the SDK's models judge it: a record to send, or every problem in one line."""
    from movement_profiles import MovementProfileCreate, errors
    from movement_profiles.models import aware_datetime, parse_uuid

    if row.fields is None:
        return BadRow(row.line, row.problem or "cannot be read")
    fields = dict(row.fields)
    problems: list[str] = []
    identity = 0
    for column in IDENTITY_COLUMNS:
        value = fields.pop(column, None)
        if value is None:
            continue
        identity += 1
        try:
            if column == "id":
                parse_uuid(value, field=column)
            else:
                aware_datetime(value, field=column)
        except errors.ValidationError as error:
            problems.extend(problem.message for problem in error.problems)
    if identity and identity < len(IDENTITY_COLUMNS) and not problems:
        # Restoring is all or nothing: a row keeps its id and timestamps, or gets new ones.
        problems.append("id, created_at and updated_at go together: give all three, or none")
    if fields.get("user_id") is None:
        # The model allows none (a user creating their own profile); an import names the user.
        problems.append("user_id is required")
    try:
        MovementProfileCreate.model_validate(fields)
    except errors.ValidationError as error:
        problems.extend(_worded(problem) for problem in error.problems)
    if problems:
        return BadRow(row.line, "; ".join(problems))
    return row_to_send(row.line, row.fields)


def _worded(problem: FieldProblem) -> str:
    # pydantic's words for a key the model does not have; say which key, as a file's author sees it.
    if problem.field and problem.message == f"{problem.field}: Extra inputs are not permitted":
        return f"unknown field {json.dumps(problem.field)}"
    return problem.message


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


def check_jsonl(chunks: Iterable[bytes], *, at_start: bool = True) -> Checked:
    """The first pass over JSON Lines (the whole file, or a part of it that starts at a line,
    as blocks of bytes): every row judged, lines numbered from the part's first. One loop, as
    lean as it can be: it runs once a row. Raises FileProblem for bytes that are not UTF-8."""
    from movement_profiles_cli.commands.profile_files import jsonl_lines, jsonl_record

    checked = Checked()
    json_object = json_object_parser()
    plain_form = plain_form_judge()
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
            checked.take(validate_row(parsed))
    checked.lines = line
    return checked


def check_records(records: Iterable[SourceRow]) -> Checked:
    """The first pass over the records of a CSV file."""
    checked = Checked()
    for record in records:
        checked.take(validate_row(record))
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


def check_jsonl_part(path: str, start: int, end: int) -> Checked:
    """`check_jsonl` of the lines from byte `start` (the start of a line) to `end`, in a
    process of its own."""
    with open(path, "rb") as stream:
        stream.seek(start)
        return check_jsonl(read_blocks(stream, end - start), at_start=start == 0)


def _part_starts(stream: IO[bytes], size: int, parts: int) -> list[int]:
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


def _check_processes() -> int:
    """One a core this process may run on, at most `MAX_CHECK_PROCESSES`."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, MAX_CHECK_PROCESSES))


class ImportSource:
    """The file to import, read once to validate and once to write, a line at a time.

    Standard input (`-`) is copied, as the first pass reads it, to an unnamed temporary file
    that the second pass reads: it cannot be read twice, and holding it would cost its size.
    """

    def __init__(self, path: Path, file_format: FileFormat | None) -> None:
        self.path = path
        self.is_stdin = str(path) == "-"
        # As messages and --json show it: a name that is not UTF-8 still prints.
        self.name = "standard input" if self.is_stdin else printable(str(path))
        chosen = file_format or (None if self.is_stdin else format_from_suffix(path))
        if chosen is None:
            fail(
                f"cannot tell the format of {self.name} from its name: pass --format jsonl "
                "or --format csv",
                ExitCode.INVALID_INPUT,
            )
        self.format: FileFormat = chosen
        self._spooled: IO[bytes] | None = None
        self._stat: tuple[int, int] | None = None

    def __enter__(self) -> ImportSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._spooled is not None:
            self._spooled.close()

    def check(self, processes: int | None = None) -> Checked:
        """The first pass: every row judged, nothing kept but the bad rows, `FirstLines` and
        `LineForms`. A large JSON Lines file is read by up to `processes` processes at once
        (default: one a core, at most `MAX_CHECK_PROCESSES`), each a part; the verdicts are the
        same as one process's, and rows repeating a user_id are found across the parts."""
        from movement_profiles_cli.commands.profile_files import read_rows

        with self._reading(first_pass=True) as stream:
            if self.format is FileFormat.csv:
                checked = check_records(read_rows(stream, self.format))
            else:
                checked = self._check_jsonl(stream, processes or _check_processes())
        checked.finish()
        return checked

    def _check_jsonl(self, stream: IO[bytes], processes: int) -> Checked:
        size = os.fstat(stream.fileno()).st_size
        starts = _part_starts(stream, size, processes) if size >= PARALLEL_CHECK_BYTES else [0]
        stream.seek(0)
        if len(starts) == 1:
            return check_jsonl(read_blocks(stream))
        ends = [*starts[1:], size]
        # By name: `stream` may be the file's descriptor, which forked processes share.
        path = self._spooled.name if self._spooled is not None else str(self.path)
        with ProcessPoolExecutor(
            len(starts) - 1, mp_context=multiprocessing.get_context(CHECK_START_METHOD)
        ) as pool:
            later = [
                pool.submit(check_jsonl_part, path, start, end)
                for start, end in zip(starts[1:], ends[1:], strict=True)
            ]
            # This process checks the first part meanwhile.
            checked = check_jsonl(read_blocks(stream, ends[0]))
            for part in later:
                try:
                    checked.extend(part.result())
                except FileProblem as problem:
                    # Its lines are numbered from the part's first: the file's, from here.
                    raise problem.moved(checked.lines) from None
        return checked

    def valid_rows(self, forms: LineForms) -> Iterator[ImportRow]:
        """The second pass: the rows to send, in file order, as `forms` (the first pass's
        verdicts) says: a line's own text, or its fields rebuilt; bad rows left out."""
        from movement_profiles_cli.commands.profile_files import (
            jsonl_lines,
            jsonl_record,
            read_rows,
        )

        with self._reading(first_pass=False) as stream:
            if self.format is FileFormat.csv:
                for record in read_rows(stream, self.format):
                    if forms[record.line] == LineForm.REBUILT and record.fields is not None:
                        yield row_to_send(record.line, record.fields)
                return
            json_object = json_object_parser()
            for line, text in jsonl_lines(read_blocks(stream)):
                form = forms[line]
                if text is None:
                    continue
                if form == LineForm.AS_WRITTEN:
                    yield ImportRow(line, None, False, text)
                elif form == LineForm.AS_WRITTEN_RESTORING:
                    yield ImportRow(line, None, True, text)
                elif form == LineForm.REBUILT:
                    fields = json_object(text)
                    if fields is None:
                        parsed = jsonl_record(line, text)
                        if parsed is None or parsed.fields is None:
                            continue
                        fields = parsed.fields
                    yield row_to_send(line, fields)

    @contextmanager
    def _reading(self, *, first_pass: bool) -> Iterator[IO[bytes]]:
        try:
            if self.is_stdin:
                yield self._spooled_stdin()
                return
            with self._open() as stream:
                self._check_unchanged(os.fstat(stream.fileno()), first_pass)
                yield stream
        except FileProblem as problem:
            fail(f"{self.name}: {problem}", ExitCode.INVALID_INPUT)
        except OSError as error:
            fail(f"cannot read {self.name}: {error.strerror or error}", ExitCode.INVALID_INPUT)

    def _open(self) -> IO[bytes]:
        """The file, if it is a regular one. Anything else is refused before it is read: a
        FIFO would block until a writer comes and could not be read twice, a device may never
        end; opened without blocking, so that the check is made on what is read."""
        descriptor = os.open(self.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            os.close(descriptor)
            kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
            if stat.S_ISFIFO(mode):
                kind = "a pipe (FIFO)"
            raise FileProblem(
                f"{kind}: import reads a regular file, or standard input as `-` with --format"
            )
        if hasattr(os, "set_blocking"):
            os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")

    def _spooled_stdin(self) -> IO[bytes]:
        if self._spooled is None:
            # Copied a block at a time: memory stays flat however much arrives. Closed with
            # the source (`__exit__`), which deletes it.
            # Named: the processes that check parts of a large input open it by name.
            self._spooled = tempfile.NamedTemporaryFile()  # noqa: SIM115
            shutil.copyfileobj(sys.stdin.buffer, self._spooled)
        self._spooled.seek(0)
        return self._spooled

    def _check_unchanged(self, stat: os.stat_result, first_pass: bool) -> None:
        # The second pass must read what the first validated.
        seen = (stat.st_size, stat.st_mtime_ns)
        if first_pass:
            self._stat = seen
        elif seen != self._stat:
            fail(
                f"{self.name} changed after it was validated; nothing was written: import it again",
                ExitCode.INVALID_INPUT,
            )


def json_object_parser() -> Callable[[bytes], dict[str, Any] | None]:
    """A line's JSON object by pydantic-core's parser (a third of `json.loads`' time), or None
    when it has none: then the standard library's parser has the last word, and its error."""
    from pydantic_core import from_json

    def json_object(line: bytes) -> dict[str, Any] | None:
        try:
            value = from_json(line)
        except ValueError:
            return None
        return value if type(value) is dict else None

    return json_object


def _batches(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# -- writing --------------------------------------------------------------------------------------


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
                self._client.upsert_json_rows(
                    [row.text for row in rows if row.text is not None],
                    keep_identity=keep_identity,
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


@contextmanager
def _progress(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr when it is a terminal; yields the function that advances it."""
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda count: None
        return
    progress = _progress_display(console, total)
    with progress:
        task = progress.add_task(description, total=total)
        yield lambda count: progress.advance(task, count)


def _progress_display(console: Console, total: int | None) -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    if total is None:
        return Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.completed:,} profiles"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


# -- --create-missing-users -----------------------------------------------------------------------


def _project_url(url: str) -> str:
    """`url` as the project URL, so the local stack's matches however it was written."""
    return url.strip().rstrip("/").removesuffix("/rest/v1").replace("://localhost", "://127.0.0.1")


def add_missing_auth_users(
    user_ids: Iterable[UUID], connection: Connection, state_dir: Path | None
) -> int:
    """Add the user_ids auth.users lacks, on the local stack only; how many were added."""
    from movement_profiles_cli.stack.errors import StackError
    from movement_profiles_cli.stack.local_stack import LocalStack
    from movement_profiles_cli.stack.state import StackState, default_state_dir

    directory = (state_dir or default_state_dir()).resolve()
    state = StackState.load(directory)
    if state is None:
        fail(
            f"--create-missing-users needs the local stack, and there is none in {directory}",
            ExitCode.INVALID_INPUT,
        )
    if _project_url(connection.url) != _project_url(state.api_url):
        fail(
            f"--create-missing-users works only against the local stack ({state.api_url}), "
            f"not {connection.url}: users of a hosted project come from Supabase Auth",
            ExitCode.INVALID_INPUT,
        )
    # The ids go through a file that psql copies in: a million of them fit in no statement.
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="ascii") as ids:
        ids.writelines(f"{user_id}\n" for user_id in user_ids)
        ids.flush()
        # psql expands no variables in \\copy's file name: quoted here, as psql reads quotes.
        quoted_name = "'" + ids.name.replace("'", "''") + "'"
        script = (
            "create temporary table import_users (id uuid not null);\n"
            f"\\copy import_users from {quoted_name}\n"
            "with added as (insert into auth.users (id) select id from import_users "
            "on conflict (id) do nothing returning 1) select count(*) from added;\n"
        )
        try:
            output = LocalStack.open(directory).psql(script=script)
        except StackError as error:
            fail(str(error), ExitCode.SERVICE_ERROR)
    return int(output.strip() or 0)


# -- the commands ---------------------------------------------------------------------------------


def _report(bad_rows: Sequence[BadRow]) -> None:
    for bad_row in bad_rows:
        print(bad_row, file=sys.stderr)


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


@app.command("import")
def import_profiles(
    file: Annotated[
        Path,
        typer.Argument(
            # Checked when opened, not with exists=True: Typer's check refuses `-` (stdin).
            help="A .jsonl or .csv file as `export` writes it; `-` reads standard input.",
            show_default=False,
        ),
    ],
    file_format: Annotated[
        FileFormat | None,
        typer.Option(
            "--format", help="The file's format.", show_default="from the file's extension"
        ),
    ] = None,
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid",
            help="Import the valid rows even if some are invalid (those are still reported).",
        ),
    ] = False,
    create_missing_users: Annotated[
        bool,
        typer.Option(
            "--create-missing-users",
            help="Local stack only: first add to auth.users the user_ids it lacks.",
        ),
    ] = False,
    batch_size: Annotated[
        int, typer.Option(help="Profiles per request (each one transaction).", min=1, max=1000)
    ] = DEFAULT_BATCH_SIZE,
    in_flight: Annotated[
        int,
        typer.Option(
            help="Batches sent at once. After a refused row (without --skip-invalid), the "
            "batches already sent still complete.",
            min=1,
            max=8,
        ),
    ] = DEFAULT_IN_FLIGHT,
    json_output: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the outcome as JSON (rows, imported, skipped, not_written, invalid).",
        ),
    ] = False,
    url: UrlOption = None,
    key: KeyOption = None,
    access_token: AccessTokenOption = None,
    state_dir: StateDirOption = None,
) -> None:
    """Create or overwrite profiles from a .jsonl or .csv file, by user_id.

    Every row is validated first; if any is invalid, nothing is written (unless --skip-invalid).
    """
    from movement_profiles import errors
    from movement_profiles_cli.commands._common import (
        describe,
        exit_code_for,
        resolve_connection,
        sdk_client,
    )

    with ImportSource(file, file_format) as source:
        checked = source.check()
        invalid = checked.invalid
        valid_rows = checked.valid_rows
        # Every record is counted once: rows = imported + skipped + not_written.
        outcome: dict[str, Any] = {
            "file": source.name,
            "format": source.format.value,
            "rows": checked.rows,
            "imported": 0,
            "skipped": 0,
            "not_written": 0,
            "users_created": 0,
            "invalid": [],
        }

        def finish(refused: Sequence[BadRow], written: int) -> None:
            bad_rows = sorted([*invalid, *refused], key=lambda bad_row: bad_row.line)
            outcome["imported"] = written
            outcome["skipped"] = len(bad_rows)
            outcome["not_written"] = checked.rows - written - len(bad_rows)
            outcome["invalid"] = [{"line": row.line, "problem": row.problem} for row in bad_rows]
            _report(bad_rows)
            if json_output:
                from movement_profiles_cli.commands.output import print_json

                print_json(outcome)

        if invalid and not skip_invalid:
            finish((), 0)
            fail(
                f"{_plural(len(invalid), 'invalid row')} in {source.name}; nothing was written "
                "(fix them, or pass --skip-invalid to import the "
                f"{_plural(valid_rows, 'valid row')})",
                ExitCode.INVALID_INPUT,
            )

        try:
            connection = resolve_connection(url, key, access_token)
        except errors.ConfigurationError as error:
            fail(describe(error), exit_code_for(error))
        if create_missing_users:
            outcome["users_created"] = add_missing_auth_users(
                checked.first_lines.user_ids(), connection, state_dir
            )

        refused: list[BadRow] = []
        with (
            sdk_client(connection) as client,
            _progress(f"Importing {source.name}", valid_rows) as advance,
        ):
            writer = BatchWriter(client, advance)
            try:
                rows = source.valid_rows(checked.forms)
                refused = write_overlapped(
                    writer, _batches(rows, batch_size), in_flight, stop_at_refusal=not skip_invalid
                )
            except errors.MovementProfilesError:
                print(
                    f"import stopped: {_plural(writer.written, 'profile')} of {valid_rows:,} "
                    "were written before this error",
                    file=sys.stderr,
                )
                raise
        finish(refused, writer.written)
        if refused and not skip_invalid:
            remedy = (
                "create the missing users (on the local stack: --create-missing-users)"
                if any(row.missing_user for row in refused)
                else "fix them"
            )
            fail(
                f"the database refused {_plural(len(refused), 'row')}; import stopped after "
                f"writing {_plural(writer.written, 'profile')} of {valid_rows:,} "
                f"({outcome['not_written']:,} not sent). To finish, "
                f"{remedy} and "
                "import again: rows already written are simply overwritten",
                ExitCode.INVALID_INPUT,
            )
        if not json_output:
            skipped = len(invalid) + len(refused)
            print(
                f"Imported {_plural(writer.written, 'profile')} from {source.name}"
                + (
                    f"; skipped {_plural(skipped, 'invalid row')} (reported above)"
                    if skipped
                    else ""
                )
                + (
                    f"; created {_plural(outcome['users_created'], 'auth user')}"
                    if outcome["users_created"]
                    else ""
                )
                + "."
            )


@app.command("export")
def export_profiles(
    file_format: Annotated[
        FileFormat | None,
        typer.Option(
            "--format",
            help="jsonl or csv.",
            show_default="from --output's extension, else jsonl",
        ),
    ] = None,
    output_path: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write to this file; it is replaced only once the export is complete.",
            dir_okay=False,
            show_default="standard output",
        ),
    ] = None,
    page_size: Annotated[int, typer.Option(help="Profiles per request.", min=1, max=1000)] = 1000,
    url: UrlOption = None,
    key: KeyOption = None,
    access_token: AccessTokenOption = None,
) -> None:
    """Write every profile, ordered by user_id, in the format `import` reads."""
    from movement_profiles_cli.commands._common import connected
    from movement_profiles_cli.commands.profile_files import RecordWriter

    chosen = file_format or (format_from_suffix(output_path) if output_path else None)
    chosen = chosen or FileFormat.jsonl
    temporary = (
        output_path.with_name(f".{output_path.name}.{os.getpid()}.partial") if output_path else None
    )
    exported = 0
    try:
        with (
            connected(url, key, access_token) as client,
            _open_output(temporary) as stream,
            _progress("Exporting", None) as advance,
        ):
            writer = RecordWriter(stream, chosen)
            for page in _fetched_ahead(client.iter_pages(page_size=page_size)):
                writer.write_profiles(page)
                exported += len(page)
                advance(len(page))
        if output_path is not None and temporary is not None:
            temporary.replace(output_path)
    except BrokenPipeError:
        # The reader went away (`export | head`): Typer ends quietly, as a pipeline expects.
        raise
    except OSError as error:
        target = output_path or "standard output"
        fail(f"cannot write {target}: {error.strerror or error}", ExitCode.INVALID_INPUT)
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
    where = f" to {output_path}" if output_path else ""
    print(f"Exported {_plural(exported, 'profile')}{where}.", file=sys.stderr)


@contextmanager
def _open_output(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    with path.open("w", encoding="utf-8", newline="") as stream:
        yield stream


def _fetched_ahead(pages: Iterator[T]) -> Iterator[T]:
    """`pages`, each fetched in a thread while the caller handles the one before: the database
    and the client work at once. One page is ahead at most, so memory holds two."""
    with ThreadPoolExecutor(1, thread_name_prefix="movement-profiles-export") as executor:
        following = executor.submit(next, pages, None)
        while (page := following.result()) is not None:
            following = executor.submit(next, pages, None)
            yield page
