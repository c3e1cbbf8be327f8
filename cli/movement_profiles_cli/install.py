"""Adding the component's migrations to an existing Supabase project (`movement-profiles install`).

A Supabase project applies `supabase/migrations/<version>_<name>.sql` in version order, and
`supabase db push` refuses a local file older than the newest one the hosted project has already
applied. So the component's files join the host's history with new versions after the host's
newest (and not before the current time, as `supabase migration new` would name them), in the
component's own order, with their names and contents unchanged. The name after the version says
which files are the component's: they all start with `movement_profiles_`, and a file of that name
already in the project is not written again, whatever its version there.

Where the files come from: a wheel carries them as package data (`movement_profiles_cli/migrations`,
copied from `supabase/migrations` at build time, see pyproject.toml), so a `pip install`ed CLI needs
no checkout; an editable install or a checkout reads `supabase/migrations` itself. Either way there
is one source: the checkout's folder.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from pathlib import Path

#: What every installed component migration's name starts with, after the version.
COMPONENT_PREFIX = "movement_profiles_"
_MIGRATION = re.compile(r"^(\d+)_(.+\.sql)$")
_VERSION_FORMAT = "%Y%m%d%H%M%S"


class InstallError(Exception):
    """The project folder cannot take the migrations; the message says why."""


@dataclass(frozen=True)
class PlannedMigration:
    source: Path
    #: The file's name in the project: a new version then the component's name, or the name of
    #: the file already there.
    target_name: str
    #: Already in the project (by name): not written again.
    installed: bool
    #: Installed, but its contents are not the component's (edited in the project).
    differs: bool = False


def component_migrations_dir() -> Path:
    """The component's migrations: the wheel's package data, else the checkout's folder."""
    packaged = Path(__file__).with_name("migrations")
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "supabase" / "migrations"
    if checkout.is_dir():
        return checkout
    raise InstallError(f"the component's migrations are missing: neither {packaged} nor {checkout}")


def component_name(file_name: str) -> str:
    """A component migration's name after its version, `movement_profiles_` first (added when the
    file in the component's folder lacks it)."""
    match = _MIGRATION.match(file_name)
    if match is None:
        raise InstallError(f"{file_name} is not named <version>_<name>.sql")
    name = match.group(2)
    return name if name.startswith(COMPONENT_PREFIX) else COMPONENT_PREFIX + name


def _versions(folder: Path) -> list[str]:
    return sorted(
        match.group(1)
        for path in folder.glob("*.sql")
        if (match := _MIGRATION.match(path.name)) is not None
    )


def _next_versions(newest: str | None, count: int, now: datetime.datetime) -> list[str]:
    """`count` increasing versions after `newest`, none before `now` (UTC, to the second)."""
    start = now.astimezone(datetime.UTC).replace(tzinfo=None, microsecond=0)
    if newest is not None:
        try:
            after_newest = datetime.datetime.strptime(newest, _VERSION_FORMAT)
        except ValueError:
            # Not a timestamp (some projects number their migrations): count on from it.
            first = int(newest) + 1
            return [str(first + index).zfill(len(newest)) for index in range(count)]
        start = max(start, after_newest + datetime.timedelta(seconds=1))
    return [
        (start + datetime.timedelta(seconds=index)).strftime(_VERSION_FORMAT)
        for index in range(count)
    ]


def plan(
    project_dir: Path,
    *,
    source_dir: Path | None = None,
    now: datetime.datetime | None = None,
) -> list[PlannedMigration]:
    """What `install` writes into `project_dir` (nothing is written here)."""
    if not (project_dir / "supabase").is_dir():
        raise InstallError(
            f"{project_dir} has no supabase/ folder: give the root of a Supabase project "
            "(where `supabase init` was run)"
        )
    source_dir = source_dir or component_migrations_dir()
    sources = sorted(source_dir.glob("*.sql"))
    if not sources:
        raise InstallError(f"no migrations in {source_dir}")
    migrations_dir = project_dir / "supabase" / "migrations"
    # The component's files already in the project: name after the version -> file name.
    installed: dict[str, str] = {}
    if migrations_dir.is_dir():
        for path in migrations_dir.glob("*.sql"):
            match = _MIGRATION.match(path.name)
            if match is not None and match.group(2).startswith(COMPONENT_PREFIX):
                installed[match.group(2)] = path.name
    host_versions = _versions(migrations_dir) if migrations_dir.is_dir() else []
    names = [component_name(source.name) for source in sources]
    pending = [name for name in names if name not in installed]
    versions = iter(
        _next_versions(
            host_versions[-1] if host_versions else None,
            len(pending),
            now or datetime.datetime.now(datetime.UTC),
        )
    )
    return [
        PlannedMigration(
            source=source,
            target_name=installed[name],
            installed=True,
            differs=(migrations_dir / installed[name]).read_bytes() != source.read_bytes(),
        )
        if name in installed
        else PlannedMigration(
            source=source, target_name=f"{next(versions)}_{name}", installed=False
        )
        for source, name in zip(sources, names, strict=True)
    ]


def write(project_dir: Path, planned: list[PlannedMigration]) -> list[Path]:
    """Copy the pending migrations byte for byte; return the files written."""
    migrations_dir = project_dir / "supabase" / "migrations"
    migrations_dir.mkdir(exist_ok=True)
    written = []
    for migration in planned:
        if migration.installed:
            continue
        target = migrations_dir / migration.target_name
        # `x`: never overwrite, even a file that appeared since the plan was made.
        with open(target, "xb") as copy:
            copy.write(migration.source.read_bytes())
        written.append(target)
    return written
