"""The value options of the profile commands, and the help that says where their values are.

The allowed values are run-time data: the database's catalogue, which an admin changes with
`movement-profiles catalogue` while the CLI is installed. So the options take any string and the
database judges it (an unknown value exits 2 with the database's message and the allowed values);
`--help` names no value list it could not keep true, and says where to see the current one.
Nothing here imports the SDK: `--help` stays fast.
"""

from __future__ import annotations

from typing import Any

import typer

__all__ = [
    "ALLOWED_VALUES_EPILOG",
    "GOAL_METAVAR",
    "PREFERENCE_METAVAR",
    "goal_option",
    "preference_option",
    "set_option",
]

PREFERENCE_METAVAR = "PREFERENCE"
GOAL_METAVAR = "GOAL"

#: The `epilog` of the commands that take values.
ALLOWED_VALUES_EPILOG = (
    "The fields and their allowed values are data in the database (its catalogue), and change "
    "without a new CLI: `movement-profiles catalogue show` lists them. A value outside them is "
    "refused by the database, with the allowed ones (exit 2)."
)


def preference_option(help: str) -> Any:
    """`--training-preference`, repeatable, with `help` saying what it does in this command."""
    return typer.Option(
        "--training-preference", help=help, metavar=PREFERENCE_METAVAR, show_default=False
    )


def goal_option(help: str) -> Any:
    """`--goal`, repeatable, with `help` saying what it does in this command."""
    return typer.Option("--goal", help=help, metavar=GOAL_METAVAR, show_default=False)


def set_option(help: str, name: str = "--set") -> Any:
    """`--set FIELD=VALUE[,VALUE...]`, repeatable (also `--has` of `list`)."""
    return typer.Option(name, help=help, metavar="FIELD=VALUES", show_default=False)
