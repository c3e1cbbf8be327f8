"""``import --create-missing-users``: the users a file names, added to the local stack's
auth.users. Local development only: a hosted project's users come from Supabase Auth."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path
from uuid import UUID

from movement_profiles_cli.transfer import InvalidInputError


def _project_url(url: str) -> str:
    """`url` as the project URL, so the local stack's matches however it was written."""
    return url.strip().rstrip("/").removesuffix("/rest/v1").replace("://localhost", "://127.0.0.1")


def add_missing_auth_users(user_ids: Iterable[UUID], url: str, state_dir: Path | None) -> int:
    """Add the user_ids auth.users lacks, on the local stack only; how many were added.

    Raises `InvalidInputError` when `url` is not the local stack's, and the stack's `StackError`
    when psql fails."""
    from movement_profiles_cli.stack.local_stack import LocalStack
    from movement_profiles_cli.stack.state import StackState, default_state_dir

    directory = (state_dir or default_state_dir()).resolve()
    state = StackState.load(directory)
    if state is None:
        raise InvalidInputError(
            f"--create-missing-users needs the local stack, and there is none in {directory}"
        )
    if _project_url(url) != _project_url(state.api_url):
        raise InvalidInputError(
            f"--create-missing-users works only against the local stack ({state.api_url}), "
            f"not {url}: users of a hosted project come from Supabase Auth"
        )
    # The ids go through a file that psql copies in: a million of them fit in no statement.
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="ascii") as ids:
        ids.writelines(f"{user_id}\n" for user_id in user_ids)
        ids.flush()
        # psql expands no variables in \\copy's file name: quoted here, as psql reads quotes.
        quoted_name = "'" + ids.name.replace("'", "''") + "'"
        script = (
            "create temporary table import_users (id uuid not null);\n"
            f"\\copy import_users from {quoted_name}\n"
            "with added as (insert into auth.users (id) select id from import_users "
            "on conflict (id) do nothing returning 1) select count(*) from added;\n"
        )
        output = LocalStack.open(directory).psql(script=script)
    return int(output.strip() or 0)
