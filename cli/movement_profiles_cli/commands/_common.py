"""What every command shares: exit codes, one-line errors on stderr, the stack's state folder."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer


class ExitCode(enum.IntEnum):
    """The CLI's exit codes (CONTRACT.md §6)."""

    OK = 0
    SERVICE_ERROR = 1
    INVALID_INPUT = 2
    NOT_FOUND = 3
    CONFLICT = 4
    NOT_ALLOWED = 5


def fail(message: str, code: ExitCode = ExitCode.SERVICE_ERROR) -> NoReturn:
    """Print one clear line on stderr and exit; never a traceback."""
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(int(code))


StateDirOption = Annotated[
    Path | None,
    typer.Option(
        "--state-dir",
        help="Folder holding the local stack's state [default: <project>/.stack, "
        "or $MOVEMENT_PROFILES_STACK_DIR].",
        show_default=False,
    ),
]
