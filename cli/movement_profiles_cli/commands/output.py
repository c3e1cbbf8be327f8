"""What the data commands print: Rich tables for people, JSON for machines (`--json`).

Imported only inside commands, after parsing: Rich and the SDK's models are the heavy imports
`--help` must not pay for.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter
from rich.console import Console
from rich.table import Table

from movement_profiles import MovementProfile, MovementProfileOptions

#: Columns for output to a pipe or file, instead of Rich's 80: tables are only as wide as needed.
PIPE_WIDTH = 200
#: Narrower terminals get no updated_at column in `list`: the arrays need the room more.
WIDTH_FOR_UPDATED_AT = 120


def profile_record(profile: MovementProfile) -> dict[str, Any]:
    """A profile as JSON-ready values, the columns in table order: `--json`, `export` and
    `import` share this shape."""
    return profile.model_dump(mode="json")


def profile_records(profiles: Sequence[MovementProfile]) -> list[dict[str, Any]]:
    """`profile_record` of each profile, in one call of pydantic's serializer (an export's
    page at a time)."""
    records: list[dict[str, Any]] = _PROFILE_LIST.dump_python(list(profiles), mode="json")
    return records


_PROFILE_LIST: TypeAdapter[list[MovementProfile]] = TypeAdapter(list[MovementProfile])


def print_json(value: object) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def _console() -> Console:
    # Made per call, on the current sys.stdout (tests swap it). A pipe gets plain text, and room
    # for whole rows instead of Rich's 80 columns: tables are only as wide as their content.
    console = Console(file=sys.stdout, highlight=False)
    if not console.is_terminal:
        console = Console(file=sys.stdout, highlight=False, width=PIPE_WIDTH)
    return console


def _timestamp(value: datetime) -> str:
    # Seconds are enough to read; --json and export keep the microseconds.
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def show_profile(profile: MovementProfile, *, as_json: bool) -> None:
    """One profile: its JSON object, or a two-column table with a field per row."""
    if as_json:
        print_json(profile_record(profile))
        return
    table = Table(show_header=False, box=None)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("user_id", str(profile.user_id))
    table.add_row("training_preferences", ", ".join(profile.training_preferences))
    table.add_row("goals", ", ".join(profile.goals))
    # Fields an admin added, as the profile holds them (an empty one is shown empty).
    for name, values in profile.custom_fields.items():
        table.add_row(name, ", ".join(values))
    table.add_row("id", str(profile.id))
    table.add_row("created_at", f"{_timestamp(profile.created_at)} UTC")
    table.add_row("updated_at", f"{_timestamp(profile.updated_at)} UTC")
    _console().print(table)


def show_profiles(profiles: Sequence[MovementProfile], *, as_json: bool) -> None:
    """Profiles: a JSON array, or a table with one per row (a sentence when there are none)."""
    if as_json:
        print_json([profile_record(profile) for profile in profiles])
        return
    if not profiles:
        print("No movement profiles found.")
        return
    console = _console()
    # updated_at only where there is room: in an 80-column terminal the arrays need it more.
    with_updated_at = console.width >= WIDTH_FOR_UPDATED_AT
    table = Table()
    table.add_column("user_id", no_wrap=True)
    # Folded, not cut, in a narrow terminal: every value stays readable.
    table.add_column("training_preferences", overflow="fold")
    table.add_column("goals", overflow="fold")
    # A column for each added field that a profile of this page holds, in order of appearance.
    custom = list(dict.fromkeys(name for profile in profiles for name in profile.custom_fields))
    for name in custom:
        table.add_column(name, overflow="fold")
    if with_updated_at:
        table.add_column("updated_at (UTC)", no_wrap=True)
    for profile in profiles:
        cells = [
            str(profile.user_id),
            ", ".join(profile.training_preferences),
            ", ".join(profile.goals),
            *(", ".join(profile.custom_fields.get(name, ())) for name in custom),
        ]
        if with_updated_at:
            cells.append(_timestamp(profile.updated_at))
        table.add_row(*cells)
    console.print(table)


def show_options(options: MovementProfileOptions, *, as_json: bool) -> None:
    """The allowed values: the JSON object, or a table with a column per field (every field of
    the catalogue, the built-in ones first)."""
    if as_json:
        print_json(options)
        return
    names = [
        *(name for name in ("training_preferences", "goals") if name in options),
        *(name for name in options if name not in ("training_preferences", "goals")),
    ]
    columns = [options[name] for name in names]
    table = Table()
    for name in names:
        table.add_column(name)
    for index in range(max((len(values) for values in columns), default=0)):
        table.add_row(*(values[index] if index < len(values) else "" for values in columns))
    _console().print(table)
