"""`movement-profiles import FILE` and `movement-profiles export`: profiles in bulk.

Import validates every row before it writes any: a file with a bad row writes nothing (unless
`--skip-invalid`), and every bad row is reported with its line number and the reason, in the
database's own words. Each row is validated once, into the SDK model that is then sent as it is;
the file is read once and its valid rows are held in memory until written (about 1 kB each). Then
it upserts on user_id, in batches (one request and one transaction each), so importing the same
file twice is harmless. Up to `--in-flight` batches are sent at once, so the client encodes the
next batch while the database writes the last. Export pages through every profile by user_id and
writes what import reads; a file that carries `id`, `created_at` and `updated_at` is restored with
them.

One rule import cannot check beforehand: a profile's user must exist in auth.users (the
`user_id` foreign key). A batch the database refuses for it is split until the rows at fault are
found; they are reported like invalid rows. Without `--skip-invalid` the import stops there, with
the batches before it written, and those already sent after it (at most `--in-flight` - 1, their
refused rows reported too, so the outcome does not depend on timing); with
`--create-missing-users` the local stack gets the missing users first (local development only: a
hosted project's users come from Supabase Auth).
"""

from __future__ import annotations

import gc
import io
import json
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO
from uuid import UUID

import typer

from movement_profiles_cli.commands._common import (
    AccessTokenOption,
    ExitCode,
    KeyOption,
    StateDirOption,
    UrlOption,
    fail,
)
from movement_profiles_cli.commands.profile_files import (
    FileFormat,
    FileProblem,
    SourceRow,
    format_from_suffix,
)

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from movement_profiles import MovementProfile, MovementProfileCreate, MovementProfilesClient
    from movement_profiles.errors import FieldProblem, MovementProfilesError
    from movement_profiles_cli.commands._common import Connection

app = typer.Typer()

#: The columns a row may carry besides user_id and the arrays, restored as given.
IDENTITY_COLUMNS = ("id", "created_at", "updated_at")
#: The SDK's largest batch: fewer, larger transactions are what make a bulk import fast.
DEFAULT_BATCH_SIZE = 1000
#: Batches sent at once: two keep both the client and the database busy; more only queue.
DEFAULT_IN_FLIGHT = 2


# -- reading and validating -----------------------------------------------------------------------


@dataclass(frozen=True)
class ImportRow:
    """A valid row: its line, and the profile to send, validated (a `MovementProfile` when the
    row restores an id and timestamps)."""

    line: int
    profile: MovementProfileCreate | MovementProfile

    @property
    def user_id(self) -> UUID:
        user_id = self.profile.user_id
        assert user_id is not None, "validate_row requires a user_id"
        return user_id

    @property
    def keeps_identity(self) -> bool:
        from movement_profiles import MovementProfile

        return isinstance(self.profile, MovementProfile)


@dataclass(frozen=True)
class BadRow:
    line: int
    problem: str
    #: The database refused the row because auth.users has no such user.
    missing_user: bool = False

    def __str__(self) -> str:
        return f"line {self.line}: {self.problem}"


def validate_row(row: SourceRow) -> ImportRow | BadRow:
    """The row as the SDK's models judge it: a record to send, or every problem in one line."""
    from movement_profiles import MovementProfile, MovementProfileCreate, errors
    from movement_profiles.models import aware_datetime, parse_uuid

    if row.fields is None:
        return BadRow(row.line, row.problem or "cannot be read")
    fields = dict(row.fields)
    problems: list[str] = []
    identity: dict[str, Any] = {}
    for column in IDENTITY_COLUMNS:
        value = fields.pop(column, None)
        if value is None:
            continue
        try:
            if column == "id":
                identity[column] = parse_uuid(value, field=column)
            else:
                identity[column] = aware_datetime(value, field=column)
        except errors.ValidationError as error:
            problems.extend(problem.message for problem in error.problems)
    if identity and len(identity) < len(IDENTITY_COLUMNS) and not problems:
        # Restoring is all or nothing: a row keeps its id and timestamps, or gets new ones.
        problems.append("id, created_at and updated_at go together: give all three, or none")
    if fields.get("user_id") is None:
        # The model allows none (a user creating their own profile); an import names the user.
        problems.append("user_id is required")
    try:
        profile = MovementProfileCreate.model_validate(fields)
    except errors.ValidationError as error:
        problems.extend(_worded(problem) for problem in error.problems)
    if problems:
        return BadRow(row.line, "; ".join(problems))
    if identity:
        # Every part was validated above: assembling them must not validate a second time.
        stored = MovementProfile.model_construct(**dict(profile), **identity)
        return ImportRow(row.line, stored)
    return ImportRow(row.line, profile)


def _worded(problem: FieldProblem) -> str:
    # pydantic's words for a key the model does not have; say which key, as a file's author sees it.
    if problem.field and problem.message == f"{problem.field}: Extra inputs are not permitted":
        return f"unknown field {json.dumps(problem.field)}"
    return problem.message


def validated_rows(rows: Iterator[SourceRow]) -> Iterator[ImportRow | BadRow]:
    """Each row validated, and a user_id seen before reported as a bad row."""
    first_line: dict[UUID, int] = {}
    for row in rows:
        result = validate_row(row)
        if isinstance(result, ImportRow):
            user_id = result.user_id
            if user_id in first_line:
                result = BadRow(
                    result.line, f"user_id {user_id} already appears on line {first_line[user_id]}"
                )
            else:
                first_line[user_id] = result.line
        yield result


def _batches(rows: Sequence[ImportRow], size: int) -> Iterator[Sequence[ImportRow]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


class SourceFile:
    """The file to import; standard input (`-`) is read into memory first."""

    def __init__(self, path: Path, file_format: FileFormat | None) -> None:
        self.path = path
        self.is_stdin = str(path) == "-"
        chosen = file_format or (None if self.is_stdin else format_from_suffix(path))
        if chosen is None:
            fail(
                f"cannot tell the format of {self.name} from its name: pass --format jsonl "
                "or --format csv",
                ExitCode.INVALID_INPUT,
            )
        self.format: FileFormat = chosen
        self._stdin_text = self._read_stdin() if self.is_stdin else None

    @property
    def name(self) -> str:
        return "standard input" if self.is_stdin else str(self.path)

    def _read_stdin(self) -> str:
        try:
            # utf-8-sig: a byte-order mark (spreadsheet exports write one) is not part of line 1.
            return sys.stdin.buffer.read().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            fail(f"{self.name} is not UTF-8 text ({error.reason})", ExitCode.INVALID_INPUT)

    def _open(self) -> TextIO:
        if self._stdin_text is not None:
            return io.StringIO(self._stdin_text, newline="")
        return self.path.open(encoding="utf-8-sig", newline="")

    def rows(self) -> Iterator[ImportRow | BadRow]:
        from movement_profiles_cli.commands.profile_files import read_rows

        try:
            with self._open() as stream:
                yield from validated_rows(read_rows(stream, self.format))
        except FileProblem as problem:
            fail(f"{self.name}: {problem}", ExitCode.INVALID_INPUT)
        except OSError as error:
            fail(f"cannot read {self.name}: {error.strerror or error}", ExitCode.INVALID_INPUT)


# -- writing --------------------------------------------------------------------------------------


class BatchWriter:
    """Upserts batches of valid rows, isolating the rows the database refuses.

    A refused batch wrote nothing (one transaction), so it is split in halves and each half sent
    again, down to single rows; each of those the database still refuses is a bad row. A batch
    that succeeds is never sent again.

    `write` may run in several threads at once (one batch each): the SDK client is thread-safe,
    and the count of written rows is kept under a lock.
    """

    def __init__(self, client: MovementProfilesClient, on_written: Callable[[int], None]) -> None:
        self._client = client
        self._on_written = on_written
        self._lock = threading.Lock()
        self.written = 0

    def write(self, batch: Sequence[ImportRow]) -> list[BadRow]:
        # One request writes one set of columns: rows with and without ids and timestamps go
        # apart.
        groups: dict[bool, list[ImportRow]] = {}
        for row in batch:
            groups.setdefault(row.keeps_identity, []).append(row)
        bad_rows: list[BadRow] = []
        for keep_identity, rows in groups.items():
            bad_rows.extend(self._write_isolating(rows, keep_identity))
        return sorted(bad_rows, key=lambda bad_row: bad_row.line)

    def _write_isolating(self, rows: Sequence[ImportRow], keep_identity: bool) -> list[BadRow]:
        from movement_profiles import errors

        try:
            # One batch per call; `write_overlapped` overlaps the batches, so this sends just one.
            self._client.upsert_many(
                [row.profile for row in rows],
                batch_size=len(rows),
                keep_identity=keep_identity,
                max_in_flight=1,
            )
        except (errors.ValidationError, errors.ConflictError) as error:
            if len(rows) == 1:
                return [_refusal(error, rows[0])]
            middle = len(rows) // 2
            return self._write_isolating(rows[:middle], keep_identity) + self._write_isolating(
                rows[middle:], keep_identity
            )
        with self._lock:
            self.written += len(rows)
            self._on_written(len(rows))
        return []


def write_overlapped(
    writer: BatchWriter,
    batches: Iterator[Sequence[ImportRow]],
    in_flight: int,
    stop_at_refusal: bool,
) -> list[BadRow]:
    """Send the batches with up to `in_flight` of them at once, through the SDK's own pipeline
    (the one `upsert_many` uses); the refused rows, in line order.

    Outcomes are taken in batch order, so reports do not depend on timing. With
    `stop_at_refusal`, a refused row stops sending further batches; the ones already sent are
    still waited for (a write is never abandoned half-way), and their refused rows are reported
    too: with `in_flight` n, a refusal in batch k means batches up to k + n - 1 were sent,
    whatever the timing. The first error other than a refusal is raised once every sent batch
    has finished.
    """
    from movement_profiles._sync import run_overlapped

    refused: list[BadRow] = []

    def take(bad_rows: list[BadRow]) -> bool:
        refused.extend(bad_rows)
        return stop_at_refusal and bool(bad_rows)

    run_overlapped(batches, writer.write, in_flight, take)
    return refused


def _refusal(error: MovementProfilesError, row: ImportRow) -> BadRow:
    if error.code == "23503":
        return BadRow(row.line, f"user_id {row.user_id} names no auth user", True)
    return BadRow(row.line, f"{error.message}{f' ({error.details})' if error.details else ''}")


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


# -- --create-missing-users -----------------------------------------------------------------------


def _project_url(url: str) -> str:
    """`url` as the project URL, so the local stack's matches however it was written."""
    return url.strip().rstrip("/").removesuffix("/rest/v1").replace("://localhost", "://127.0.0.1")


def add_missing_auth_users(
    user_ids: Sequence[UUID], connection: Connection, state_dir: Path | None
) -> int:
    """Add the user_ids auth.users lacks, on the local stack only; how many were added."""
    from movement_profiles_cli.stack.errors import StackError
    from movement_profiles_cli.stack.local_stack import LocalStack
    from movement_profiles_cli.stack.state import StackState, default_state_dir

    directory = (state_dir or default_state_dir()).resolve()
    state = StackState.load(directory)
    if state is None:
        fail(
            f"--create-missing-users needs the local stack, and there is none in {directory}",
            ExitCode.INVALID_INPUT,
        )
    if _project_url(connection.url) != _project_url(state.api_url):
        fail(
            f"--create-missing-users works only against the local stack ({state.api_url}), "
            f"not {connection.url}: users of a hosted project come from Supabase Auth",
            ExitCode.INVALID_INPUT,
        )
    if not user_ids:
        return 0
    # One statement from a file: ten thousand ids do not fit on a command line.
    values = ",".join(f"('{user_id}'::uuid)" for user_id in user_ids)
    statement = (
        f"with added as (insert into auth.users (id) values {values} "
        "on conflict (id) do nothing returning 1) select count(*) from added;\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".sql", encoding="utf-8") as script:
        script.write(statement)
        script.flush()
        try:
            output = LocalStack.open(directory).psql("--file", script.name)
        except StackError as error:
            fail(str(error), ExitCode.SERVICE_ERROR)
    return int(output.strip() or 0)


# -- the commands ---------------------------------------------------------------------------------


@contextmanager
def _rows_kept_out_of_garbage_collection() -> Iterator[None]:
    """Reading a large file builds many objects that all stay alive until written; the cyclic
    garbage collector would scan them again and again (half the client's time at 100,000 rows).
    They hold no reference cycles, so collection waits until they are read, and then leaves them
    out (`gc.freeze`)."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


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
        bool, typer.Option("--json", help="Print the outcome as JSON (rows, imported, invalid).")
    ] = False,
    url: UrlOption = None,
    key: KeyOption = None,
    access_token: AccessTokenOption = None,
    state_dir: StateDirOption = None,
) -> None:
    """Create or overwrite profiles from a .jsonl or .csv file, by user_id.

    Every row is validated first; if any is invalid, nothing is written (unless --skip-invalid).
    """
    from movement_profiles import errors
    from movement_profiles_cli.commands._common import (
        describe,
        exit_code_for,
        resolve_connection,
        sdk_client,
    )

    source = SourceFile(file, file_format)
    invalid: list[BadRow] = []
    valid: list[ImportRow] = []
    with _rows_kept_out_of_garbage_collection():
        for row in source.rows():
            if isinstance(row, BadRow):
                invalid.append(row)
            else:
                valid.append(row)
    valid_rows = len(valid)
    outcome: dict[str, Any] = {
        "file": source.name,
        "format": source.format.value,
        "rows": valid_rows + len(invalid),
        "imported": 0,
        "users_created": 0,
        "invalid": [],
    }

    def finish(refused: Sequence[BadRow]) -> None:
        bad_rows = sorted([*invalid, *refused], key=lambda bad_row: bad_row.line)
        outcome["invalid"] = [{"line": row.line, "problem": row.problem} for row in bad_rows]
        _report(bad_rows)
        if json_output:
            from movement_profiles_cli.commands.output import print_json

            print_json(outcome)

    if invalid and not skip_invalid:
        finish(())
        fail(
            f"{_plural(len(invalid), 'invalid row')} in {source.name}; nothing was written "
            f"(fix them, or pass --skip-invalid to import the {_plural(valid_rows, 'valid row')})",
            ExitCode.INVALID_INPUT,
        )

    try:
        connection = resolve_connection(url, key, access_token)
    except errors.ConfigurationError as error:
        fail(describe(error), exit_code_for(error))
    if create_missing_users:
        outcome["users_created"] = add_missing_auth_users(
            [row.user_id for row in valid], connection, state_dir
        )

    refused: list[BadRow] = []
    with (
        sdk_client(connection) as client,
        _progress(f"Importing {source.name}", valid_rows) as advance,
    ):
        writer = BatchWriter(client, advance)
        try:
            refused = write_overlapped(
                writer, _batches(valid, batch_size), in_flight, stop_at_refusal=not skip_invalid
            )
        except errors.MovementProfilesError:
            print(
                f"import stopped: {_plural(writer.written, 'profile')} of {valid_rows:,} "
                "were written before this error",
                file=sys.stderr,
            )
            raise
    outcome["imported"] = writer.written
    finish(refused)
    if refused and not skip_invalid:
        remedy = (
            "create the missing users (on the local stack: --create-missing-users)"
            if any(row.missing_user for row in refused)
            else "fix them"
        )
        fail(
            f"the database refused {_plural(len(refused), 'row')}; import stopped after writing "
            f"{_plural(writer.written, 'profile')} of {valid_rows:,}. To finish, {remedy} and "
            "import again: rows already written are simply overwritten",
            ExitCode.INVALID_INPUT,
        )
    if not json_output:
        skipped = len(invalid) + len(refused)
        print(
            f"Imported {_plural(writer.written, 'profile')} from {source.name}"
            + (f"; skipped {_plural(skipped, 'invalid row')}" if skipped else "")
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
    from movement_profiles_cli.commands.output import profile_record
    from movement_profiles_cli.commands.profile_files import RecordWriter

    chosen = file_format or (format_from_suffix(output_path) if output_path else None)
    chosen = chosen or FileFormat.jsonl
    temporary = (
        output_path.with_name(f".{output_path.name}.{os.getpid()}.partial") if output_path else None
    )
    exported = 0
    try:
        with (
            connected(url, key, access_token) as client,
            _open_output(temporary) as stream,
            _progress("Exporting", None) as advance,
        ):
            writer = RecordWriter(stream, chosen)
            for profile in client.iter_all(page_size=page_size):
                writer.write(profile_record(profile))
                exported += 1
                advance(1)
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
