"""`movement-profiles dev ...`: local users and tokens, standing in for Supabase Auth.

Both commands refuse anything but the local stack: the JWT secret they sign with is the stack's.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import typer

from movement_profiles_cli.commands._common import ExitCode, StateDirOption, fail

if TYPE_CHECKING:
    from movement_profiles_cli.stack.local_stack import LocalStack

app = typer.Typer(help="Local development helpers: users and tokens.", no_args_is_help=True)
user_app = typer.Typer(help="Users in the local auth.users table.", no_args_is_help=True)
app.add_typer(user_app, name="user")


def _local_stack(state_dir: Path | None) -> LocalStack:
    from movement_profiles_cli.stack.local_stack import LocalStack
    from movement_profiles_cli.stack.state import StackState, default_state_dir

    directory = (state_dir or default_state_dir()).resolve()
    if StackState.load(directory) is None:
        fail(f"no local stack in {directory}: start one with `movement-profiles stack up`")
    return LocalStack.open(directory)


@user_app.command("create")
def create_user(
    email: Annotated[str | None, typer.Option(help="Email of the new user.")] = None,
    state_dir: StateDirOption = None,
) -> None:
    """Add a user to the local auth.users and print its id."""
    from movement_profiles_cli.stack.errors import StackError

    stack = _local_stack(state_dir)
    try:
        user_id = (
            stack.psql(
                "--set",
                f"email={email or ''}",
                # As Supabase Auth's sign-up would: it picks the id and sets the audience.
                script=(
                    "insert into auth.users (id, aud, role, email, created_at, updated_at)"
                    " values (gen_random_uuid(), 'authenticated', 'authenticated',"
                    " nullif(:'email', ''), now(), now()) returning id;"
                ),
            )
            .strip()
            .splitlines()[0]
        )
    except StackError as error:
        fail(str(error).replace("psql failed: ", ""), ExitCode.INVALID_INPUT)
    print(user_id)


@app.command()
def token(
    user_id: Annotated[UUID, typer.Option("--user-id", help="The auth user the token is for.")],
    expires_in: Annotated[
        int,
        typer.Option(
            help="Seconds until the token expires (at most a week, as Supabase Auth allows).",
            min=1,
            max=7 * 24 * 3600,
        ),
    ] = 3600,
    state_dir: StateDirOption = None,
) -> None:
    """Mint a local user's access token (role authenticated), signed with the stack secret."""
    from movement_profiles_cli.stack import jwt

    stack = _local_stack(state_dir)
    print(
        jwt.user_token(
            str(user_id), stack.state.jwt_secret, issued_at=int(time.time()), expires_in=expires_in
        )
    )
