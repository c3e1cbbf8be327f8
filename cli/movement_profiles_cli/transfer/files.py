"""The two file formats of `import` and `export`: JSON Lines and CSV, with line numbers.

Standard library only, and no validation beyond the file's own syntax: the rows come out as plain
dicts that the SDK's models then judge, so a file row and an API request are held to one set of
rules.

JSON Lines: one JSON object per line, with the keys `export` writes (`id`, `user_id`,
`training_preferences`, `goals`, `custom_fields`, `created_at`, `updated_at`); blank lines are
ignored.

CSV: a header row naming the columns, in any order. `user_id`, `training_preferences` and `goals`
are required; `custom_fields`, `id`, `created_at` and `updated_at` may be left out or left empty.
An array cell is either its values joined by `|` (`strength_training|yoga`, what `export` writes)
or a JSON array (`["strength_training", "yoga"]`). The `custom_fields` cell is the JSON object
the database stores (`{"injuries":["knee"]}`): its fields are the catalogue's, which changes at
run time, so the file's columns do not depend on it.

What a record is, so that every one is counted once, whatever the bytes: a JSON Lines record is
a line that is not blank. A CSV record is a line, or, when a quoted cell holds a line break (RFC
4180), the lines up to the one that closes it; it is numbered by its first line. A record that
is not valid CSV (`"[""yoga""]"x`, a cell over csv's size limit) is a bad record that ends on
its line: reading goes on with the next. A quote still open after `MAX_RECORD_LINES` lines or at
the end of the file cannot tell where its record ends: the line that opened it is a bad record
alone, and reading goes on with the line after it. A line longer than `MAX_LINE_BYTES` is a bad
record alone, never held in memory. Bytes that are not UTF-8 make the whole file unreadable, with
the line where they are.
"""

from __future__ import annotations

import codecs
import csv
import enum
import json
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TextIO

from movement_profiles import options

if TYPE_CHECKING:
    from movement_profiles import MovementProfile

#: The columns of a stored profile, in the order `export` writes them (custom_fields beside the
#: built-in fields it extends), and those a record needs.
PROFILE_COLUMNS = (
    "id",
    "user_id",
    *options.OPTION_COLUMNS,
    options.CUSTOM_FIELDS_COLUMN,
    "created_at",
    "updated_at",
)
REQUIRED_COLUMNS = ("user_id", "training_preferences", "goals")
#: The built-in fields, each a column of its own.
ARRAY_COLUMNS = ("training_preferences", "goals")
#: Every other field, in one JSON object.
OBJECT_COLUMNS = ("custom_fields",)
#: Joins array values in a CSV cell; no allowed value contains it.
CSV_ARRAY_SEPARATOR = "|"
#: The longest line read (a valid record takes well under a kilobyte): a longer one is a bad
#: record, skipped as it is read, so that memory stays flat whatever the file holds.
MAX_LINE_BYTES = 1024 * 1024
#: A quoted CSV cell may hold line breaks, but its record spans at most this many lines: no valid
#: value holds one, and a quote left open must not swallow the rows after it.
MAX_RECORD_LINES = 100
#: How much of a file is read at a time.
READ_BLOCK_BYTES = 1024 * 1024
#: The longest problem reported for a record: it may quote a value of the file.
MAX_PROBLEM_CHARS = 500


class FileFormat(enum.StrEnum):
    jsonl = "jsonl"
    csv = "csv"


_SUFFIXES = {".jsonl": FileFormat.jsonl, ".ndjson": FileFormat.jsonl, ".csv": FileFormat.csv}


def format_from_suffix(path: Path) -> FileFormat | None:
    """The format a file name implies (`.jsonl`/`.ndjson` or `.csv`), if any."""
    return _SUFFIXES.get(path.suffix.lower())


class FileProblem(Exception):
    """The file as a whole cannot be read (no header, unknown columns, not UTF-8), with the line
    at fault when there is one."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason, line)
        self.reason = reason
        self.line = line

    def __str__(self) -> str:
        return self.reason if self.line is None else f"line {self.line}: {self.reason}"

    def moved(self, lines: int) -> FileProblem:
        """The same problem in a part of the file that starts after `lines` lines."""
        return FileProblem(self.reason, None if self.line is None else self.line + lines)


def printable(text: str, limit: int | None = None) -> str:
    """`text` as one line that any terminal or UTF-8 stream takes: line breaks and other control
    characters escaped, so are lone surrogates (a JSON escape such as `\\ud800` makes one), and
    cut at `limit` characters."""
    if limit is not None and len(text) > limit:
        text = text[:limit] + "..."
    if text.isprintable():
        return text
    return (
        "".join(
            character if character.isprintable() else character.encode("unicode_escape").decode()
            for character in text
        )
        .encode("utf-8", "backslashreplace")
        .decode("utf-8")
    )


@dataclass(frozen=True)
class SourceRow:
    """One record of the file: its fields, or why they could not be read."""

    line: int
    fields: dict[str, Any] | None = None
    problem: str | None = None


def read_rows(stream: IO[bytes], file_format: FileFormat) -> Iterator[SourceRow]:
    """Yield each record of `stream` (the file's bytes) with the line it starts on (1-based, as
    editors count), reading as it goes. Raises FileProblem when the file cannot be read as a
    whole."""
    if file_format is FileFormat.jsonl:
        for line_number, line in jsonl_lines(read_blocks(stream)):
            record = jsonl_record(line_number, line)
            if record is not None:
                yield record
        return
    yield from _read_csv(text_lines(read_blocks(stream)))


def read_blocks(stream: IO[bytes], size: int | None = None) -> Iterator[bytes]:
    """`stream` a block at a time, up to `size` bytes if given."""
    while size is None or size > 0:
        block = stream.read(READ_BLOCK_BYTES if size is None else min(READ_BLOCK_BYTES, size))
        if not block:
            return
        if size is not None:
            size -= len(block)
        yield block


def jsonl_lines(
    blocks: Iterable[bytes], *, at_start: bool = True
) -> Iterator[tuple[int, bytes | None]]:
    """The lines of a file as bytes, numbered from 1, without decoding them (the fast way to the
    JSON parser): split where text mode with newline="" splits (`\\n`, `\\r\\n` and a lone
    `\\r`), with line 1's byte-order mark removed, each with its line break. A line longer than
    `MAX_LINE_BYTES` comes as None, and is never held whole. `blocks` are the file's bytes, cut
    anywhere, or its bytes from a line on (not `at_start`: they are numbered from 1 all the
    same, and a mark is left where it is, as on any later line)."""
    number = 0
    carried = b""  # the start of a line that goes on in the next block
    overlong = False  # the line being read is too long: its bytes are dropped as they come
    mark_unseen = at_start  # a byte-order mark may still come (blocks may be a byte each)
    for block in blocks:
        if (
            b"\n" not in block
            and b"\r" not in block
            and not mark_unseen
            and not carried.endswith(b"\r")
        ):
            # The middle of a long line (or of a file cut finely): no need to split again.
            if not overlong:
                carried += block
                if len(carried) > MAX_LINE_BYTES:
                    overlong, carried = True, b""
            continue
        data = carried + block
        if mark_unseen:
            if len(data) < len(codecs.BOM_UTF8) and codecs.BOM_UTF8.startswith(data):
                carried = data
                continue
            data, mark_unseen = data.removeprefix(codecs.BOM_UTF8), False
        lines = data.splitlines(keepends=True)
        carried = lines.pop() if lines else b""
        if carried.endswith(b"\n"):  # a whole line: nothing to carry
            lines.append(carried)
            carried = b""
        # Else a line without its end yet, or one ending in \r whose \n may start the next block.
        for line in lines:
            number += 1
            if overlong or len(line) > MAX_LINE_BYTES:
                overlong = False
                yield number, None
            else:
                yield number, line
        if len(carried) > MAX_LINE_BYTES:
            overlong, carried = True, b""
    if carried or overlong:
        yield number + 1, None if overlong else carried


_LONG_NUMBER = "a number with more digits than Python reads"


def _too_long() -> str:
    return f"the line is longer than {MAX_LINE_BYTES:,} bytes"


def jsonl_record(line_number: int, line: bytes | None) -> SourceRow | None:
    """The record of one line of a JSON Lines file, or None for a blank line."""
    if line is None:
        return SourceRow(line_number, problem=_too_long())
    text = _decoded(line_number, line)
    if not text.strip():
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        return SourceRow(line_number, problem=f"not valid JSON ({error.msg})")
    except RecursionError:
        return SourceRow(line_number, problem="not valid JSON (nested too deeply)")
    except ValueError:
        # An integer of more digits than Python converts (4,300 by default).
        return SourceRow(line_number, problem=f"not valid JSON ({_LONG_NUMBER})")
    if not isinstance(value, dict):
        return SourceRow(line_number, problem="expected a JSON object")
    return SourceRow(line_number, fields=value)


def _decoded(line_number: int, line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FileProblem(
            f"the file is not UTF-8 text ({error.reason} at byte {error.start + 1} of the line)",
            line_number,
        ) from None


def text_lines(blocks: Iterable[bytes]) -> Iterator[tuple[int, str | None]]:
    """The lines of a UTF-8 file, numbered from 1 (None for one that is too long)."""
    for number, line in jsonl_lines(blocks):
        yield number, None if line is None else _decoded(number, line)


@dataclass(frozen=True)
class CsvRecord:
    """A record of a CSV file, as the module docstring defines it: its cells, or its problem."""

    line: int
    cells: list[str] | None = None
    problem: str | None = None


# The rest of a quoted cell up to its closing quote (or to the end of the line): a doubled
# quote is a quote in the cell.
_QUOTED_CELL = re.compile(r'[^"]*(?:""[^"]*)*')


def _ends_in_a_quoted_cell(line: str, quoted: bool) -> bool:
    """Whether a record that reaches the end of `line` is still in a quoted cell there, as
    `csv.reader(strict=True)` reads it: a quote opens a cell only where the cell starts, and
    anything but a comma after its closing quote is an error that ends the record on this
    line. `quoted`: the line starts inside a quoted cell."""
    at, end = 0, len(line)
    while True:
        if quoted:
            at = _QUOTED_CELL.match(line, at).end()  # type: ignore[union-attr]
            if at >= end:
                return True
            at += 1  # the closing quote
            if at >= end or line[at] != ",":
                return False
            at += 1
            quoted = False
        if at < end and line[at] == '"':
            quoted, at = True, at + 1
            continue
        comma = line.find(",", at)
        if comma < 0:
            return False
        at = comma + 1


def csv_records(lines: Iterable[tuple[int, str | None]]) -> Iterator[CsvRecord]:
    """The records of a CSV file's lines (blank ones too), as the module docstring defines
    them."""
    source = iter(lines)
    # Lines read ahead for a quote that never closed: read again, as records of their own.
    again: deque[tuple[int, str | None]] = deque()

    def next_line() -> tuple[int, str | None] | None:
        return again.popleft() if again else next(source, None)

    while (first := next_line()) is not None:
        number, text = first
        if text is None:
            yield CsvRecord(number, problem=_too_long())
            continue
        if '"' not in text or not _ends_in_a_quoted_cell(text, False):
            yield _csv_cells(number, [text])
            continue
        taken: list[str] = [text]
        read_ahead: list[tuple[int, str | None]] = []
        quoted = True
        while quoted and len(taken) < MAX_RECORD_LINES:
            following = next_line()
            if following is None:
                break
            read_ahead.append(following)
            if following[1] is None:
                break
            taken.append(following[1])
            quoted = _ends_in_a_quoted_cell(following[1], True)
        if quoted:
            again.extendleft(reversed(read_ahead))
            yield CsvRecord(
                number,
                problem=f"a quoted cell opened on this line is not closed within "
                f"{MAX_RECORD_LINES} lines or by the end of the file",
            )
            continue
        yield _csv_cells(number, taken)


def _csv_cells(line: int, lines: list[str]) -> CsvRecord:
    reader = csv.reader(lines, strict=True)
    try:
        cells = next(reader)
        extra = next(reader, None)
    except csv.Error as error:
        return CsvRecord(line, problem=f"not valid CSV ({error})")
    if extra is not None:  # `csv_records` ends a record where csv does: never seen
        return CsvRecord(line, problem="not valid CSV (more than one record)")
    return CsvRecord(line, cells)


def _read_csv(lines: Iterable[tuple[int, str | None]]) -> Iterator[SourceRow]:
    records = csv_records(lines)
    header = next(records, None)
    if header is None:
        raise FileProblem("the CSV file is empty: expected a header row")
    if header.cells is None:
        raise FileProblem(f"the CSV header cannot be read ({header.problem})", header.line)
    columns = [name.strip() for name in header.cells]
    _check_header(columns, header.line)
    for record in records:
        if record.cells is None:
            yield SourceRow(record.line, problem=record.problem)
            continue
        cells = record.cells
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(columns):
            yield SourceRow(
                record.line,
                problem=f"expected {len(columns)} cells as in the header, got {len(cells)}",
            )
            continue
        yield _csv_record(record.line, dict(zip(columns, cells, strict=True)))


def _check_header(columns: list[str], line: int) -> None:
    unknown = [name for name in columns if name not in PROFILE_COLUMNS]
    if unknown:
        raise FileProblem(
            f"unknown CSV column {printable(unknown[0], 100)!r}; "
            f"the columns are {', '.join(PROFILE_COLUMNS)}",
            line,
        )
    duplicated = sorted({name for name in columns if columns.count(name) > 1})
    if duplicated:
        raise FileProblem(f"the CSV column {printable(duplicated[0], 100)!r} appears twice", line)
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise FileProblem(f"the CSV header lacks the required column {missing[0]!r}", line)


def _csv_record(line: int, cells: dict[str, str]) -> SourceRow:
    fields: dict[str, Any] = {}
    for column, cell in cells.items():
        text = cell.strip()
        if column in ARRAY_COLUMNS:
            try:
                fields[column] = parse_array_cell(text)
            except ValueError as error:
                return SourceRow(line, problem=f"{column} {error}")
        elif column in OBJECT_COLUMNS:
            try:
                fields[column] = parse_object_cell(text)
            except ValueError as error:
                return SourceRow(line, problem=f"{column} {error}")
        elif text:
            fields[column] = text
        elif column in REQUIRED_COLUMNS:
            return SourceRow(line, problem=f"{column} is empty")
    return SourceRow(line, fields=fields)


def parse_array_cell(text: str) -> object:
    """`a|b` or a JSON array; an empty cell is an empty array (which validation then rejects)."""
    if text.startswith("["):
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"is not a valid JSON array ({error.msg})") from None
        except RecursionError:
            raise ValueError("is not a valid JSON array (nested too deeply)") from None
        except ValueError:
            raise ValueError(f"is not a valid JSON array ({_LONG_NUMBER})") from None
    if not text:
        return []
    return [value.strip() for value in text.split(CSV_ARRAY_SEPARATOR)]


def parse_object_cell(text: str) -> object:
    """A JSON object (what the database reads; the catalogue judges it); empty means none."""
    if not text:
        return {}
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"is not a valid JSON object ({error.msg})") from None
    except RecursionError:
        raise ValueError("is not a valid JSON object (nested too deeply)") from None
    except ValueError:
        raise ValueError(f"is not a valid JSON object ({_LONG_NUMBER})") from None


class RecordWriter:
    """Writes profile records (`PROFILE_COLUMNS` as JSON-ready values) in one of the formats."""

    def __init__(self, stream: TextIO, file_format: FileFormat) -> None:
        self._stream = stream
        self._format = file_format
        self._csv = csv.writer(stream, lineterminator="\n")
        if file_format is FileFormat.csv:
            self._csv.writerow(PROFILE_COLUMNS)

    def write(self, record: Mapping[str, Any]) -> None:
        self.write_all((record,))

    def write_profiles(self, profiles: Sequence[MovementProfile]) -> None:
        """Write a page of an export. JSON Lines straight from the models, each line
        pydantic-core's compact JSON of the profile (the same fields and values as its record,
        in half the time of building the record and encoding it); CSV through the records."""
        if self._format is FileFormat.jsonl:
            self._stream.write("".join(f"{profile.model_dump_json()}\n" for profile in profiles))
            return
        from movement_profiles_cli.commands.output import profile_records

        self.write_all(profile_records(profiles))

    def write_all(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Write the records, a page at a time: one write call for all of them."""
        if self._format is FileFormat.jsonl:
            self._stream.write("".join(f"{_JSON_ENCODER.encode(record)}\n" for record in records))
            return
        self._csv.writerows(
            [
                CSV_ARRAY_SEPARATOR.join(record[column])
                if column in ARRAY_COLUMNS
                else _COMPACT_JSON.encode(record[column])
                if column in OBJECT_COLUMNS
                else record[column]
                for column in PROFILE_COLUMNS
            ]
            for record in records
        )


# What `json.dumps(record, ensure_ascii=False)` writes, without building an encoder a record.
_JSON_ENCODER = json.JSONEncoder(ensure_ascii=False)
# A CSV cell's object, compact as pydantic writes JSON Lines.
_COMPACT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
