"""What every command shares: exit codes, one-line errors on stderr, the stack's state folder,
the connection options of the data commands and the SDK client they describe.

The SDK is imported inside the functions that need it, never at the top: `--help` must not pay
for pydantic, httpx and postgrest-py.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from movement_profiles import MovementProfilesClient
    from movement_profiles.errors import MovementProfilesError


class ExitCode(enum.IntEnum):
    """The CLI's exit codes, as docs/cli.md's "Exit codes" lists them."""

    OK = 0
    SERVICE_ERROR = 1
    INVALID_INPUT = 2
    NOT_FOUND = 3
    CONFLICT = 4
    NOT_ALLOWED = 5


def fail(message: str, code: ExitCode = ExitCode.SERVICE_ERROR) -> NoReturn:
    """Print one clear line on stderr and exit; never a traceback."""
    # Messages from elsewhere (psql, the server) may span lines: keep them to one.
    one_line = " ".join(line.strip() for line in message.splitlines() if line.strip())
    print(f"error: {one_line}", file=sys.stderr)
    raise typer.Exit(int(code))


StateDirOption = Annotated[
    Path | None,
    typer.Option(
        "--state-dir",
        help="Folder holding the local stack's state.",
        # A string, not brackets in the help: Rich markup would swallow "[default: ...]".
        show_default="<project>/.stack, or $MOVEMENT_PROFILES_STACK_DIR",
    ),
]


# -- options of the data commands -----------------------------------------------------------------

CONNECTION_PANEL = "Connection"

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON instead of a table.")
]
UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="Project URL, e.g. https://<project-ref>.supabase.co.",
        show_default="$SUPABASE_URL, ./.env, or the local stack; always with --key",
        rich_help_panel=CONNECTION_PANEL,
    ),
]
KeyOption = Annotated[
    str | None,
    typer.Option(
        "--key",
        help="API key to send; with --access-token the anon key is the default.",
        show_default="$SUPABASE_SERVICE_ROLE_KEY, ./.env, or the local stack's; always with --url",
        rich_help_panel=CONNECTION_PANEL,
    ),
]
AccessTokenOption = Annotated[
    str | None,
    typer.Option(
        "--access-token",
        help="A user's JWT: act as that user (row-level security applies) instead of as admin.",
        show_default=False,
        rich_help_panel=CONNECTION_PANEL,
    ),
]


# -- the SDK client and its errors --------------------------------------------------------------


def exit_code_for(error: MovementProfilesError) -> ExitCode:
    """The contract's exit code for an SDK error (its class says which outcome it is)."""
    from movement_profiles import errors

    codes: list[tuple[type[errors.MovementProfilesError], ExitCode]] = [
        (errors.ValidationError, ExitCode.INVALID_INPUT),
        (errors.ConfigurationError, ExitCode.INVALID_INPUT),
        (errors.NotFoundError, ExitCode.NOT_FOUND),
        (errors.ConflictError, ExitCode.CONFLICT),
        (errors.AuthError, ExitCode.NOT_ALLOWED),
        (errors.PermissionDeniedError, ExitCode.NOT_ALLOWED),
    ]
    for error_class, code in codes:
        if isinstance(error, error_class):
            return code
    return ExitCode.SERVICE_ERROR


def describe(error: MovementProfilesError, *, local_stack: bool = False) -> str:
    """One line saying what went wrong. Never the key or token: the SDK's messages hold neither."""
    from movement_profiles import errors

    message = error.message
    if isinstance(error, errors.ValidationError) and error.code == "23503":
        return f"the user_id names no auth user ({error.details}): create the user first"
    if isinstance(error, errors.ConflictError) and error.code == "23503":
        # A catalogue change refused because profiles hold the value or field: the database's
        # message counts them, its detail says how to go ahead anyway.
        return f"{message}{f'; {error.details}' if error.details else ''}"
    if isinstance(error, errors.ConflictError) and "movement_profiles_user_id_key" in message:
        return "a movement profile already exists for this user: change it with `update`"
    if isinstance(error, errors.ValidationError) and error.code == "23514" and error.details:
        return f"{message} ({error.details})"
    if (
        isinstance(error, errors.AuthError | errors.PermissionDeniedError)
        and error.code == "42501"
        and "function movement_profile_" in message
    ):
        # An admin function of the catalogue, called with the anon key (401) or a user's (403).
        return f"not allowed: {message} (the catalogue is changed with the service role key)"
    if isinstance(error, errors.AuthError):
        return f"not authenticated: {message} (check the key or access token)"
    if isinstance(error, errors.PermissionDeniedError):
        return f"not allowed: {message}"
    if isinstance(error, errors.TransportError):
        if local_stack:
            return f"the local stack is not running: {message}; start it with `make up`"
        return message
    if isinstance(error, errors.ServiceUnavailableError | errors.UnexpectedResponseError):
        return f"{message}{f' ({error.details})' if error.details else ''}"
    return message


@dataclass(frozen=True)
class Connection:
    """Where the data commands send requests, and as whom."""

    url: str
    key: str
    access_token: str | None
    #: Whether the URL is the local stack's, so that "cannot connect" means "not running".
    local_stack: bool


def resolve_connection(url: str | None, key: str | None, access_token: str | None) -> Connection:
    """The URL and key: both options, or else both from the SDK's settings (the environment,
    ./.env, or the local stack), never one from each.

    Admins by default: the service role key. With `access_token` the requests run as that user
    (row-level security applies), and the anon key is the API key when one is known.
    Raises the SDK's ConfigurationError when no URL or key can be found, or only one is given.
    """
    from movement_profiles import config, errors

    if url is not None and key is not None:
        return Connection(url, key, access_token, local_stack=False)
    if url is not None or key is not None:
        # A key meant for one project must never be sent to another's URL, whichever is given.
        given, missing = ("--url", "--key") if url is not None else ("--key", "--url")
        try:
            source = config.load_settings().source
        except errors.ConfigurationError:
            source = "the environment, ./.env or the local stack"
        raise errors.ConfigurationError(
            f"{given} is given without {missing}: a URL and its key come from the same place, "
            f"never one from the command line and one from {source}; pass {missing} as well"
        )
    settings = config.load_settings()
    if access_token:
        key = settings.anon_key or settings.service_role_key or settings.key(service_role=False)
    else:
        key = settings.key(service_role=True)
    url = settings.url
    # Only to word errors for the local stack: a stale stack.json must not stop a command whose
    # URL and key came from elsewhere.
    try:
        local = config.local_stack_settings()
    except errors.ConfigurationError:
        local = None
    return Connection(url, key, access_token, local_stack=local is not None and local.url == url)


@contextmanager
def sdk_client(connection: Connection) -> Iterator[MovementProfilesClient]:
    """The SDK client for `connection`; any SDK error in the block exits with one line."""
    from movement_profiles import MovementProfilesClient, errors

    try:
        with MovementProfilesClient(
            connection.url, connection.key, connection.access_token
        ) as client:
            yield client
    except errors.MovementProfilesError as error:
        fail(describe(error, local_stack=connection.local_stack), exit_code_for(error))


@contextmanager
def connected(
    url: str | None, key: str | None, access_token: str | None
) -> Iterator[MovementProfilesClient]:
    """`sdk_client` of the connection options, as most commands need it."""
    from movement_profiles import errors

    try:
        connection = resolve_connection(url, key, access_token)
    except errors.ConfigurationError as error:
        fail(describe(error), exit_code_for(error))
    with sdk_client(connection) as client:
        yield client
