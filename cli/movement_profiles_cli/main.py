"""The `movement-profiles` command: admin operations on profiles, and the local stack.

Commands are thin: parse, call the SDK or the stack, print. Heavy imports (the SDK, supabase-py,
Rich tables) happen inside the commands that need them so `--help` answers fast.
"""

from __future__ import annotations

import typer

from movement_profiles_cli.commands import catalogue, dev, install, profiles, stack, transfer

app = typer.Typer(
    name="movement-profiles",
    help="Manage movement profiles, the catalogue of their fields and values, and the local "
    "Supabase stack.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
# Without a name, a sub-app's commands join the top level: `movement-profiles get`, not `... x get`.
app.add_typer(profiles.app)
app.add_typer(transfer.app)
app.add_typer(install.app)
app.add_typer(catalogue.app, name="catalogue")
app.add_typer(stack.app, name="stack")
app.add_typer(dev.app, name="dev")


if __name__ == "__main__":  # pragma: no cover
    app()
