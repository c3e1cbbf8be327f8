"""`movement-profiles import FILE` and `movement-profiles export`: profiles in bulk.

Thin commands: they parse the options, run the engine (`movement_profiles_cli.transfer`, where
how an import reads, checks and writes is told), and print its outcome: counts, the bad rows on
stderr, a progress bar on a terminal, one line and the exit code when it cannot go on.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer

from movement_profiles_cli.commands._common import (
    AccessTokenOption,
    ExitCode,
    KeyOption,
    StateDirOption,
    UrlOption,
    fail,
)
from movement_profiles_cli.transfer import InvalidInputError
from movement_profiles_cli.transfer.files import FileFormat, format_from_suffix
from movement_profiles_cli.transfer.writer import DEFAULT_BATCH_SIZE, DEFAULT_IN_FLIGHT

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from movement_profiles_cli.transfer.rows import BadRow

app = typer.Typer()


@contextmanager
def exits_on_input_errors() -> Iterator[None]:
    """The engine's `InvalidInputError` as the CLI reports it: one line, exit code 2."""
    try:
        yield
    except InvalidInputError as error:
        fail(str(error), ExitCode.INVALID_INPUT)


@contextmanager
def _progress(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr when it is a terminal; yields the function that advances it."""
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda count: None
        return
    progress = _progress_display(console, total)
    with progress:
        task = progress.add_task(description, total=total)
        yield lambda count: progress.advance(task, count)


def _progress_display(console: Console, total: int | None) -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    if total is None:
        return Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.completed:,} profiles"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


def _report(bad_rows: Sequence[BadRow]) -> None:
    for bad_row in bad_rows:
        print(bad_row, file=sys.stderr)


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


@app.command("import")
def import_profiles(
    file: Annotated[
        Path,
        typer.Argument(
            # Checked when opened, not with exists=True: Typer's check refuses `-` (stdin).
            help="A .jsonl or .csv file as `export` writes it; `-` reads standard input.",
            show_default=False,
        ),
    ],
    file_format: Annotated[
        FileFormat | None,
        typer.Option(
            "--format", help="The file's format.", show_default="from the file's extension"
        ),
    ] = None,
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid",
            help="Import the valid rows even if some are invalid (those are still reported).",
        ),
    ] = False,
    create_missing_users: Annotated[
        bool,
        typer.Option(
            "--create-missing-users",
            help="Local stack only: first add to auth.users the user_ids it lacks.",
        ),
    ] = False,
    batch_size: Annotated[
        int, typer.Option(help="Profiles per request (each one transaction).", min=1, max=1000)
    ] = DEFAULT_BATCH_SIZE,
    in_flight: Annotated[
        int,
        typer.Option(
            help="Batches sent at once. After a refused row (without --skip-invalid), the "
            "batches already sent still complete.",
            min=1,
            max=8,
        ),
    ] = DEFAULT_IN_FLIGHT,
    json_output: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the outcome as JSON (rows, imported, skipped, not_written, invalid).",
        ),
    ] = False,
    url: UrlOption = None,
    key: KeyOption = None,
    access_token: AccessTokenOption = None,
    state_dir: StateDirOption = None,
) -> None:
    """Create or overwrite profiles from a .jsonl or .csv file, by user_id.

    Every row is validated first, against the fields and values of the database's catalogue;
    if any is invalid, nothing is written (unless --skip-invalid).
    """
    from movement_profiles import errors
    from movement_profiles_cli.commands._common import (
        describe,
        exit_code_for,
        resolve_connection,
        sdk_client,
    )
    from movement_profiles_cli.stack.errors import StackError
    from movement_profiles_cli.transfer.auth_users import add_missing_auth_users
    from movement_profiles_cli.transfer.source import ImportSource
    from movement_profiles_cli.transfer.writer import BatchWriter, batches, write_overlapped

    try:
        connection = resolve_connection(url, key, access_token)
    except errors.ConfigurationError as error:
        fail(describe(error), exit_code_for(error))
    with exits_on_input_errors(), ImportSource(file, file_format) as source:
        # The allowed values as the import starts, once: every row is judged against them in
        # the database's words. The database judges each row again as it is written.
        with sdk_client(connection) as client:
            catalogue = client.catalogue()
        checked = source.check(catalogue)
        invalid = checked.invalid
        valid_rows = checked.valid_rows
        # Every record is counted once: rows = imported + skipped + not_written.
        outcome: dict[str, Any] = {
            "file": source.name,
            "format": source.format.value,
            "rows": checked.rows,
            "imported": 0,
            "skipped": 0,
            "not_written": 0,
            "users_created": 0,
            "invalid": [],
        }

        def finish(refused: Sequence[BadRow], written: int) -> None:
            bad_rows = sorted([*invalid, *refused], key=lambda bad_row: bad_row.line)
            outcome["imported"] = written
            outcome["skipped"] = len(bad_rows)
            outcome["not_written"] = checked.rows - written - len(bad_rows)
            outcome["invalid"] = [{"line": row.line, "problem": row.problem} for row in bad_rows]
            _report(bad_rows)
            if json_output:
                from movement_profiles_cli.commands.output import print_json

                print_json(outcome)

        if invalid and not skip_invalid:
            finish((), 0)
            fail(
                f"{_plural(len(invalid), 'invalid row')} in {source.name}; nothing was written "
                "(fix them, or pass --skip-invalid to import the "
                f"{_plural(valid_rows, 'valid row')})",
                ExitCode.INVALID_INPUT,
            )

        if create_missing_users:
            try:
                outcome["users_created"] = add_missing_auth_users(
                    checked.first_lines.user_ids(), connection.url, state_dir
                )
            except StackError as error:
                fail(str(error), ExitCode.SERVICE_ERROR)

        refused: list[BadRow] = []
        with (
            sdk_client(connection) as client,
            _progress(f"Importing {source.name}", valid_rows) as advance,
        ):
            writer = BatchWriter(client, advance)
            try:
                rows = source.valid_rows(checked.forms)
                refused = write_overlapped(
                    writer, batches(rows, batch_size), in_flight, stop_at_refusal=not skip_invalid
                )
            except errors.MovementProfilesError:
                print(
                    f"import stopped: {_plural(writer.written, 'profile')} of {valid_rows:,} "
                    "were written before this error",
                    file=sys.stderr,
                )
                raise
        finish(refused, writer.written)
        if refused and not skip_invalid:
            remedy = (
                "create the missing users (on the local stack: --create-missing-users)"
                if any(row.missing_user for row in refused)
                else "fix them"
            )
            fail(
                f"the database refused {_plural(len(refused), 'row')}; import stopped after "
                f"writing {_plural(writer.written, 'profile')} of {valid_rows:,} "
                f"({outcome['not_written']:,} not sent). To finish, "
                f"{remedy} and "
                "import again: rows already written are simply overwritten",
                ExitCode.INVALID_INPUT,
            )
        if not json_output:
            skipped = len(invalid) + len(refused)
            print(
                f"Imported {_plural(writer.written, 'profile')} from {source.name}"
                + (
                    f"; skipped {_plural(skipped, 'invalid row')} (reported above)"
                    if skipped
                    else ""
                )
                + (
                    f"; created {_plural(outcome['users_created'], 'auth user')}"
                    if outcome["users_created"]
                    else ""
                )
                + "."
            )


@app.command("export")
def export_profiles(
    file_format: Annotated[
        FileFormat | None,
        typer.Option(
            "--format",
            help="jsonl or csv.",
            show_default="from --output's extension, else jsonl",
        ),
    ] = None,
    output_path: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write to this file; it is replaced only once the export is complete.",
            dir_okay=False,
            show_default="standard output",
        ),
    ] = None,
    page_size: Annotated[int, typer.Option(help="Profiles per request.", min=1, max=1000)] = 1000,
    url: UrlOption = None,
    key: KeyOption = None,
    access_token: AccessTokenOption = None,
) -> None:
    """Write every profile, ordered by user_id, in the format `import` reads."""
    from movement_profiles_cli.commands._common import connected
    from movement_profiles_cli.transfer import export

    chosen = file_format or (format_from_suffix(output_path) if output_path else None)
    chosen = chosen or FileFormat.jsonl
    temporary = (
        output_path.with_name(f".{output_path.name}.{os.getpid()}.partial") if output_path else None
    )
    try:
        with (
            connected(url, key, access_token) as client,
            _open_output(temporary) as stream,
            _progress("Exporting", None) as advance,
        ):
            exported = export.export_profiles(client, stream, chosen, page_size, advance)
        if output_path is not None and temporary is not None:
            temporary.replace(output_path)
    except BrokenPipeError:
        # The reader went away (`export | head`): Typer ends quietly, as a pipeline expects.
        raise
    except OSError as error:
        target = output_path or "standard output"
        fail(f"cannot write {target}: {error.strerror or error}", ExitCode.INVALID_INPUT)
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
    where = f" to {output_path}" if output_path else ""
    print(f"Exported {_plural(exported, 'profile')}{where}.", file=sys.stderr)


@contextmanager
def _open_output(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    with path.open("w", encoding="utf-8", newline="") as stream:
        yield stream
