"""The allowed values as Typer choices, so `--help` lists them and anything else exits 2.

`movement_profiles.options` imports only the standard library, so building the command tree (on
every invocation, `--help` included) does not load the SDK's HTTP stack.

The values are listed below the options, in text as wide as the terminal, and each option shows a
short name (``PREFERENCE``, ``GOAL``) where Click would print ``[strength_training|running|...]``:
Rich wraps text between words, so every value stays whole at any width, where the ``|``-joined
list in the options' narrow column was cut mid-word.
"""

from __future__ import annotations

import enum
from typing import Any

import typer

from movement_profiles.options import Goal, TrainingPreference

__all__ = [
    "ALLOWED_VALUES_EPILOG",
    "GOAL_METAVAR",
    "PREFERENCE_METAVAR",
    "Goal",
    "TrainingPreference",
    "goal_option",
    "preference_option",
]

PREFERENCE_METAVAR = "PREFERENCE"
GOAL_METAVAR = "GOAL"


def _values(choices: type[enum.StrEnum]) -> str:
    return ", ".join(member.value for member in choices)


#: The `epilog` of the commands that take values: one paragraph per option.
ALLOWED_VALUES_EPILOG = (
    f"Values of --training-preference: {_values(TrainingPreference)}.\n\n"
    f"Values of --goal: {_values(Goal)}."
)


def preference_option(help: str) -> Any:
    """`--training-preference`, repeatable, with `help` saying what it does in this command."""
    return typer.Option(
        "--training-preference", help=help, metavar=PREFERENCE_METAVAR, show_default=False
    )


def goal_option(help: str) -> Any:
    """`--goal`, repeatable, with `help` saying what it does in this command."""
    return typer.Option("--goal", help=help, metavar=GOAL_METAVAR, show_default=False)
