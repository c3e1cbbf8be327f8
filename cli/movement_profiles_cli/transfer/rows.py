"""One row of an import judged: valid (and how it is to be sent) or bad (and why, in one line).

A row in the form `export` writes is judged by the SDK's shortcut and later sent as the file
spells it; any other row is judged by the SDK's models, the thorough way, and rebuilt when sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any, NamedTuple
from uuid import UUID

from movement_profiles.options import ASSIGNED_COLUMNS
from movement_profiles_cli.transfer.files import MAX_PROBLEM_CHARS, SourceRow, printable

if TYPE_CHECKING:
    from movement_profiles.errors import FieldProblem

#: A row that carries any of ASSIGNED_COLUMNS (id and the timestamps) restores them as given.
_IDENTITY_COLUMN_SET = frozenset(ASSIGNED_COLUMNS)


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
        if "id" in fields and None not in (fields.get(column) for column in ASSIGNED_COLUMNS):
            return ImportRow(line, fields, True)
        fields = {
            key: value
            for key, value in fields.items()
            if value is not None or key not in ASSIGNED_COLUMNS
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
    restoring_size = plain_size + len(ASSIGNED_COLUMNS)

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
    for column in ASSIGNED_COLUMNS:
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
    if identity and identity < len(ASSIGNED_COLUMNS) and not problems:
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
