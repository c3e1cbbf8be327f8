"""One row of an import judged: valid (and how it is to be sent) or bad (and why, in one line).

The allowed values are the database's catalogue, fetched once when the import starts (a
`CatalogueJudge`); the database checks every row again as it is written, against the catalogue
at that moment. A row in the form `export` writes is judged by a shortcut (sets of the allowed
values) and later sent as the file spells it; any other row, and any row the shortcut cannot
pass, is judged the thorough way: the SDK's model for its shape, the catalogue for its values,
in the database's words.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any, NamedTuple
from uuid import UUID

from movement_profiles.options import ASSIGNED_COLUMNS
from movement_profiles_cli.transfer.files import MAX_PROBLEM_CHARS, SourceRow, printable

if TYPE_CHECKING:
    from movement_profiles.catalogue import Catalogue
    from movement_profiles.errors import FieldProblem

#: A row that carries any of ASSIGNED_COLUMNS (id and the timestamps) restores them as given.
_IDENTITY_COLUMN_SET = frozenset(ASSIGNED_COLUMNS)
#: The fields stored as columns of their own, then the object holding every other field.
BUILT_IN_FIELDS = ("training_preferences", "goals")
CUSTOM_FIELDS = "custom_fields"
#: The fields of a row in the form `export` writes, without the identity columns.
PLAIN_FIELDS = frozenset(("user_id", *BUILT_IN_FIELDS, CUSTOM_FIELDS))
#: The fields a value problem can be about, as the SDK's models name them.
_VALUE_FIELDS = (*BUILT_IN_FIELDS, CUSTOM_FIELDS)


class CatalogueJudge:
    """The catalogue as an import checks rows against it: sets of the allowed values for the
    shortcut taken a row at a time, and the catalogue's own words (`Catalogue.problem`,
    `custom_fields_problem`, the database's messages) for the rows that fail it. Picklable: the
    processes that check parts of a large file get it."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self._allowed = {field.name: frozenset(field.allowed) for field in catalogue.fields}
        self._custom = {
            field.name: self._allowed[field.name]
            for field in catalogue.fields
            if field.name not in BUILT_IN_FIELDS
        }
        self._required_custom = tuple(
            field.name
            for field in catalogue.fields
            if field.required and field.name not in BUILT_IN_FIELDS
        )

    def allowed(self, field: str) -> frozenset[str]:
        """The allowed values of `field` (none for a field the catalogue lacks)."""
        return self._allowed.get(field, frozenset())

    def plain_custom_fields(self, value: object) -> bool:
        """An object of known added fields, each a list of distinct allowed strings, every
        required one given a value."""
        if type(value) is not dict:
            return False
        if not value:
            return not self._required_custom
        for name, values in value.items():
            allowed = self._custom.get(name)
            if (
                allowed is None
                or type(values) is not list
                or not _distinct_allowed(values, allowed)
            ):
                return False
        return all(value.get(name) for name in self._required_custom)

    def problems(self, fields: dict[str, Any]) -> dict[str, str]:
        """The database's message for each value field of a record it would refuse, by the
        field the SDK's models name it (`custom_fields` for any added field). An absent
        built-in is judged as missing; absent custom fields as none."""
        found: dict[str, str] = {}
        for name in BUILT_IN_FIELDS:
            problem = self.catalogue.problem(name, fields.get(name))
            if problem is not None:
                found[name] = problem
        custom = self.catalogue.custom_fields_problem(fields.get(CUSTOM_FIELDS, {}))
        if custom is not None:
            found[CUSTOM_FIELDS] = custom[1]
        return found


_JUST_STR = {str}


def _distinct_allowed(values: list[Any], allowed: frozenset[str]) -> bool:
    # In C, once a row: the types, the allowed set, then no value twice.
    return (
        (not values or set(map(type, values)) == _JUST_STR)
        and allowed.issuperset(values)
        and len(set(values)) == len(values)
    )


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
    identity when it carries all three (the first pass made sure it has all or none). A record
    without `custom_fields` (a file from before they existed) is a profile without added
    fields, as `export` would have written it: every row of a batch then writes the same
    columns."""
    if CUSTOM_FIELDS not in fields:
        fields = {**fields, CUSTOM_FIELDS: {}}
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


def plain_form_judge(judge: CatalogueJudge) -> Callable[[dict[str, Any]], LineForm | None]:
    """The judge of rows in the form `export` writes (and most files have): how the row may be
    sent when it is valid in that form, None when `validate_row` must judge it. Sets of the
    allowed values, several times faster than building the SDK's model. Made once per pass: the
    SDK is imported once, not once a row (that would cost a second a million rows)."""
    from movement_profiles.errors import ValidationError
    from movement_profiles.models import aware_datetime, is_hyphenated_uuid, parse_uuid

    plain_size = len(PLAIN_FIELDS)
    restoring_size = plain_size + len(ASSIGNED_COLUMNS)
    plain_custom_fields = judge.plain_custom_fields
    preferences, goals = judge.allowed("training_preferences"), judge.allowed("goals")

    def is_plain(fields: dict[str, Any]) -> bool:
        training_preferences, chosen_goals = fields["training_preferences"], fields["goals"]
        return (
            is_hyphenated_uuid(fields["user_id"])
            and type(training_preferences) is list
            and len(training_preferences) > 0
            and _distinct_allowed(training_preferences, preferences)
            and type(chosen_goals) is list
            and len(chosen_goals) > 0
            and _distinct_allowed(chosen_goals, goals)
            and plain_custom_fields(fields[CUSTOM_FIELDS])
        )

    def plain_form(fields: dict[str, Any]) -> LineForm | None:
        if len(fields) == plain_size:
            return (
                LineForm.AS_WRITTEN if fields.keys() == PLAIN_FIELDS and is_plain(fields) else None
            )
        if len(fields) != restoring_size:
            return None
        try:
            if not fields.keys() >= PLAIN_FIELDS or not is_plain(fields):
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


def validate_row(row: SourceRow, judge: CatalogueJudge) -> ImportRow | BadRow:
    """The row as the SDK's models judge its shape and the catalogue its values: a record to
    send, or every problem in one line. A field the catalogue refuses is reported in the
    database's words, instead of whatever the model said about it."""
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
    value_problems = judge.problems(fields)
    try:
        MovementProfileCreate.model_validate(fields)
    except errors.ValidationError as error:
        custom = fields.get(CUSTOM_FIELDS)
        custom_names = custom.keys() if isinstance(custom, dict) else ()
        problems.extend(
            _worded(problem)
            for problem in error.problems
            if _value_field(problem, custom_names) not in value_problems
        )
    problems.extend(value_problems.values())
    if problems:
        return BadRow(row.line, "; ".join(problems))
    return row_to_send(row.line, row.fields)


def _value_field(problem: FieldProblem, custom_names: Iterable[str]) -> str | None:
    """The value field a model's problem is about (`custom_fields` for any added field, which
    the model names by the field's own name)."""
    name = (problem.field or "").split(".", 1)[0]
    if name in _VALUE_FIELDS:
        return name
    return CUSTOM_FIELDS if name in custom_names else None


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
