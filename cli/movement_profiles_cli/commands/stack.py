"""`movement-profiles stack ...`: run the local Supabase-compatible stack (no Docker)."""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from movement_profiles_cli.commands._common import ExitCode, StateDirOption, fail

if TYPE_CHECKING:
    from movement_profiles_cli.stack.local_stack import LocalStack
    from movement_profiles_cli.stack.state import StackState

app = typer.Typer(help="Start, stop, inspect and reset the local stack.", no_args_is_help=True)


class StatusFormat(enum.StrEnum):
    table = "table"
    json = "json"
    env = "env"


@contextmanager
def _stack_errors() -> Iterator[None]:
    from movement_profiles_cli.stack.errors import StackError

    try:
        yield
    except StackError as error:
        fail(str(error), ExitCode.SERVICE_ERROR)
    except FileNotFoundError as error:
        fail(str(error), ExitCode.INVALID_INPUT)
    except OSError as error:
        fail(f"{error.strerror or error}: {error.filename or ''}".rstrip(": "))


def _open(
    state_dir: Path | None,
    *,
    api_port: int | None = None,
    db_port: int | None = None,
    free_ports: bool = False,
    pg_major: int | None = None,
    supabase_project: Path | None = None,
) -> LocalStack:
    from movement_profiles_cli.stack.local_stack import LocalStack
    from movement_profiles_cli.stack.state import default_state_dir

    directory = (state_dir or default_state_dir()).resolve()
    return LocalStack.open(
        directory,
        api_port=api_port,
        db_port=db_port,
        free_ports=free_ports,
        pg_major=pg_major,
        supabase_project=supabase_project,
    )


@app.command()
def up(
    state_dir: StateDirOption = None,
    api_port: Annotated[
        int | None, typer.Option(help="Gateway port.", show_default="54321")
    ] = None,
    db_port: Annotated[
        int | None, typer.Option(help="PostgreSQL port.", show_default="54322")
    ] = None,
    free_ports: Annotated[
        bool, typer.Option("--free-ports", help="Pick unused ports (throwaway stacks for tests).")
    ] = False,
    pg: Annotated[
        int | None,
        typer.Option(
            "--pg",
            envvar="MP_PG",
            help="PostgreSQL major of a new stack: 15 or 17, the majors hosted Supabase runs. "
            "An existing stack keeps its own.",
            show_default="supabase/config.toml's db.major_version (15)",
        ),
    ] = None,
    supabase_project: Annotated[
        Path | None,
        typer.Option(
            "--supabase-project",
            help="Apply another Supabase project's supabase/migrations and supabase/seed.sql "
            "(e.g. the project movement-profiles is installed into); the stack remembers it.",
            show_default="this checkout",
            file_okay=False,
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on success.")] = False,
) -> None:
    """Start PostgreSQL, PostgREST and the gateway; apply migrations; seed on first run."""
    if pg is not None:
        from movement_profiles_cli.stack.errors import StackError
        from movement_profiles_cli.stack.postgresql import parse_major

        try:
            parse_major(pg)
        except StackError as error:
            fail(str(error), ExitCode.INVALID_INPUT)
    if supabase_project is not None:
        from movement_profiles_cli.stack.errors import StackError
        from movement_profiles_cli.stack.local_stack import supabase_project_dir

        try:
            supabase_project_dir(supabase_project)
        except StackError as error:
            fail(str(error), ExitCode.INVALID_INPUT)
    with _stack_errors():
        stack = _open(
            state_dir,
            api_port=api_port,
            db_port=db_port,
            free_ports=free_ports,
            pg_major=pg,
            supabase_project=supabase_project,
        )
        stack.up()
    if not quiet:
        _print_summary(stack.state)


@app.command()
def down(
    state_dir: StateDirOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on success.")] = False,
    remove_data: Annotated[
        bool,
        typer.Option(
            "--remove-data", help="Also delete the stack's data and state (throwaway stacks)."
        ),
    ] = False,
) -> None:
    """Stop the stack's processes (data is kept unless --remove-data)."""
    with _stack_errors():
        stack = _open(state_dir)
        if remove_data:
            stack.destroy()
        else:
            stack.down()
    if not quiet:
        print("Stopped and removed." if remove_data else "Stopped.")


@app.command()
def reset(state_dir: StateDirOption = None) -> None:
    """Drop all data, reapply migrations and seed."""
    with _stack_errors():
        _open(state_dir).reset()
    print("Database reset: migrations and seed reapplied.")


@app.command()
def status(
    state_dir: StateDirOption = None,
    output: Annotated[
        StatusFormat, typer.Option("--output", "-o", help="table, or json / env for machines.")
    ] = StatusFormat.table,
) -> None:
    """Show whether each part runs, with the URLs and keys (this is where secrets are printed)."""
    with _stack_errors():
        stack = _open(state_dir)
        components = stack.status()
    environment = stack.state.environment()
    if output is StatusFormat.json:
        print(
            json.dumps(
                {
                    **environment,
                    "PG_MAJOR": stack.state.pg_major,
                    "components": {c.name: c.running for c in components},
                },
                indent=2,
            )
        )
    elif output is StatusFormat.env:
        for name, value in environment.items():
            print(f'{name}="{value}"')
    else:
        for component in components:
            state = "running" if component.running else "stopped"
            print(
                f"{component.name:<10} {state:<8} pid {component.pid or '-':<8} {component.detail}"
            )
        print()
        for name, value in environment.items():
            print(f"{name:<17} {value}")
    if not all(component.running for component in components):
        raise typer.Exit(int(ExitCode.SERVICE_ERROR))


def _print_summary(state: StackState) -> None:
    print("movement-profiles local stack is running.\n")
    for name, value in state.environment().items():
        if name in {"JWT_SECRET", "SERVICE_ROLE_KEY"}:
            value = "(hidden: `movement-profiles stack status` prints it)"
        print(f"  {name:<17} {value}")
    print("\nStop it with `make down`; reset the data with `movement-profiles stack reset`.")
