"""The two file formats of `import` and `export`: JSON Lines and CSV, with line numbers.

Standard library only, and no validation beyond the file's own syntax: the rows come out as plain
dicts that the SDK's models then judge, so a file row and an API request are held to one set of
rules.

JSON Lines: one JSON object per line, with the keys `export` writes (`id`, `user_id`,
`training_preferences`, `goals`, `created_at`, `updated_at`); blank lines are ignored.

CSV: a header row naming the columns, in any order. `user_id`, `training_preferences` and `goals`
are required; `id`, `created_at` and `updated_at` may be left out or left empty. An array cell is
either its values joined by `|` (`strength_training|yoga`, what `export` writes) or a JSON array
(`["strength_training", "yoga"]`).
"""

from __future__ import annotations

import codecs
import csv
import enum
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from movement_profiles import MovementProfile

#: The columns of a stored profile, in the order `export` writes them.
PROFILE_COLUMNS = ("id", "user_id", "training_preferences", "goals", "created_at", "updated_at")
REQUIRED_COLUMNS = ("user_id", "training_preferences", "goals")
ARRAY_COLUMNS = ("training_preferences", "goals")
#: Joins array values in a CSV cell; no allowed value contains it.
CSV_ARRAY_SEPARATOR = "|"


class FileFormat(enum.StrEnum):
    jsonl = "jsonl"
    csv = "csv"


_SUFFIXES = {".jsonl": FileFormat.jsonl, ".ndjson": FileFormat.jsonl, ".csv": FileFormat.csv}


def format_from_suffix(path: Path) -> FileFormat | None:
    """The format a file name implies (`.jsonl`/`.ndjson` or `.csv`), if any."""
    return _SUFFIXES.get(path.suffix.lower())


class FileProblem(Exception):
    """The file as a whole cannot be read (no header, unknown columns, not UTF-8)."""


@dataclass(frozen=True)
class SourceRow:
    """One record of the file: its fields, or why they could not be read."""

    line: int
    fields: dict[str, Any] | None = None
    problem: str | None = None


def read_rows(stream: IO[bytes], file_format: FileFormat) -> Iterator[SourceRow]:
    """Yield each record of `stream` (the file's bytes) with the line it starts on (1-based, as
    editors count), reading as it goes."""
    if file_format is FileFormat.jsonl:
        for line_number, line in jsonl_lines(stream):
            record = jsonl_record(line_number, line)
            if record is not None:
                yield record
        return
    # utf-8-sig: a byte-order mark (spreadsheet exports write one) is not part of line 1.
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        yield from _read_csv(text)
    except UnicodeDecodeError as error:
        raise FileProblem(f"the file is not UTF-8 text ({error.reason})") from None
    finally:
        # The caller owns `stream` (it may read it again): the wrapper must not close it.
        text.detach()


# A lone carriage return ends a line too, as in text mode with newline="".
_LONE_CARRIAGE_RETURN = re.compile(rb"(?<=\r)(?!\n)")


def jsonl_lines(stream: Iterable[bytes], *, at_start: bool = True) -> Iterator[tuple[int, bytes]]:
    """The lines of a JSON Lines file as bytes, numbered from 1, without decoding them (the
    fast way to the JSON parser): split where text mode with newline="" splits (`\\n`, `\\r\\n`
    and a lone `\\r`), with line 1's byte-order mark removed. `stream` is the file, or its
    lines from a line on (not `at_start`: they are numbered from 1 all the same, and a mark is
    left where it is, as on any later line)."""
    number = 0
    for chunk in stream:
        if at_start and number == 0 and chunk.startswith(codecs.BOM_UTF8):
            chunk = chunk[len(codecs.BOM_UTF8) :]
        pieces: Iterable[bytes] = (
            _LONE_CARRIAGE_RETURN.split(chunk) if b"\r" in chunk[:-2] else (chunk,)
        )
        for line in pieces:
            if line:  # the split after a final lone `\r` leaves nothing behind it
                number += 1
                yield number, line


def jsonl_record(line_number: int, line: bytes) -> SourceRow | None:
    """The record of one line of a JSON Lines file, or None for a blank line."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FileProblem(f"the file is not UTF-8 text ({error.reason})") from None
    if not text.strip():
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        return SourceRow(line_number, problem=f"not valid JSON ({error.msg})")
    if not isinstance(value, dict):
        return SourceRow(line_number, problem="expected a JSON object")
    return SourceRow(line_number, fields=value)


def _read_csv(stream: TextIO) -> Iterator[SourceRow]:
    reader = csv.reader(stream, strict=True)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise FileProblem(f"line 1: the CSV header cannot be read ({error})") from None
    if header is None:
        raise FileProblem("the CSV file is empty: expected a header row")
    columns = [name.strip() for name in header]
    _check_header(columns)
    while True:
        # A quoted cell may span lines: the record starts on the line after the previous one.
        start_line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield SourceRow(start_line, problem=f"not valid CSV ({error})")
            return
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(columns):
            yield SourceRow(
                start_line,
                problem=f"expected {len(columns)} cells as in the header, got {len(cells)}",
            )
            continue
        yield _csv_record(start_line, dict(zip(columns, cells, strict=True)))


def _check_header(columns: list[str]) -> None:
    unknown = [name for name in columns if name not in PROFILE_COLUMNS]
    if unknown:
        raise FileProblem(
            f"line 1: unknown CSV column {unknown[0]!r}; "
            f"the columns are {', '.join(PROFILE_COLUMNS)}"
        )
    duplicated = sorted({name for name in columns if columns.count(name) > 1})
    if duplicated:
        raise FileProblem(f"line 1: the CSV column {duplicated[0]!r} appears twice")
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise FileProblem(f"line 1: the CSV header lacks the required column {missing[0]!r}")


def _csv_record(line: int, cells: dict[str, str]) -> SourceRow:
    fields: dict[str, Any] = {}
    for column, cell in cells.items():
        text = cell.strip()
        if column in ARRAY_COLUMNS:
            try:
                fields[column] = parse_array_cell(text)
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
    if not text:
        return []
    return [value.strip() for value in text.split(CSV_ARRAY_SEPARATOR)]


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
                else record[column]
                for column in PROFILE_COLUMNS
            ]
            for record in records
        )


# What `json.dumps(record, ensure_ascii=False)` writes, without building an encoder a record.
_JSON_ENCODER = json.JSONEncoder(ensure_ascii=False)
