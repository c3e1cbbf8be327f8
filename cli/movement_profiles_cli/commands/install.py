"""`movement-profiles install PROJECT_DIR`: add the component's migrations to a Supabase project."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from movement_profiles_cli.commands._common import ExitCode, fail

app = typer.Typer()


@app.command()
def install(
    project_dir: Annotated[
        Path,
        typer.Argument(
            help="Root of the Supabase project (the folder holding supabase/).",
            file_okay=False,
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would be written; write nothing.")
    ] = False,
) -> None:
    """Copy the component's migrations into PROJECT_DIR/supabase/migrations, after its newest."""
    from movement_profiles_cli import install as installer

    try:
        planned = installer.plan(project_dir)
        written = [] if dry_run else installer.write(project_dir, planned)
    except installer.InstallError as error:
        fail(str(error), ExitCode.INVALID_INPUT)
    except OSError as error:
        fail(f"{error.strerror or error}: {error.filename or ''}".rstrip(": "))
    verb = "would write" if dry_run else "wrote"
    pending = [migration for migration in planned if not migration.installed]
    for migration in planned:
        action = "already installed" if migration.installed else verb
        print(f"{action:<17} supabase/migrations/{migration.target_name}")
        if migration.differs:
            print(
                f"warning: supabase/migrations/{migration.target_name} differs from the "
                f"component's {migration.source.name}; released migrations never change, so "
                "restore it unless you changed it on purpose",
                file=sys.stderr,
            )
    if not pending:
        print("Nothing to do: every migration of movement-profiles is in the project.")
        return
    if dry_run:
        return
    assert len(written) == len(pending)
    print(
        "\nNext: if the project has its own pre-request hook, chain the component's check in it "
        "(docs/deploying.md); then apply with `supabase db push` (hosted) or "
        "`supabase migration up` (local)."
    )
