"""The `movement-profiles` admin CLI and local stack: ``pip install 'movement-profiles[cli]'``."""

from __future__ import annotations

import sys

#: The CLI's own dependencies, which the bare SDK does not install.
CLI_EXTRA_MODULES = frozenset({"typer", "rich", "click", "jwt"})


def main() -> None:
    """The console script: the Typer app, or one line saying how to install it."""
    try:
        from movement_profiles_cli.main import app
    except ModuleNotFoundError as error:
        if error.name not in CLI_EXTRA_MODULES:
            raise
        print(
            f"error: the movement-profiles command needs {error.name}, which the SDK alone does "
            "not install: pip install 'movement-profiles[cli]'",
            file=sys.stderr,
        )
        raise SystemExit(1) from None
    app()
