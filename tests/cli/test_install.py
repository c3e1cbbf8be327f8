"""`movement-profiles install`: the component's migrations join a host project's history.

No stack needed: these tests only write files. Applying the installed files to real host
databases is tests/hosts' job.
"""

from __future__ import annotations

import datetime
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from movement_profiles_cli import install as installer
from tests.cli.conftest import Cli, isolated_environment

SOURCE = installer.component_migrations_dir()
NOON = datetime.datetime(2024, 5, 1, 12, 0, 0, tzinfo=datetime.UTC)


def host(tmp_path: Path, *names: str) -> Path:
    migrations = tmp_path / "host" / "supabase" / "migrations"
    migrations.mkdir(parents=True)
    for name in names:
        (migrations / name).write_text(f"-- the host's {name}\n")
    return tmp_path / "host"


def migration_names(project: Path) -> list[str]:
    return sorted(path.name for path in (project / "supabase" / "migrations").glob("*.sql"))


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(isolated_environment(tmp_path))


def test_the_component_reads_its_own_migrations_not_the_working_directorys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(host(tmp_path, "20240101000000_init.sql"))
    assert SOURCE.resolve() == (Path(__file__).resolve().parents[2] / "supabase" / "migrations")


def test_files_go_after_the_hosts_newest_in_the_components_order_byte_identical(
    tmp_path: Path,
) -> None:
    # The host's newest lies in the future of NOON: the new versions must still come after it.
    project = host(tmp_path, "20230530034630_init.sql", "20240501120500_later.sql")
    planned = installer.plan(project, now=NOON)
    written = installer.write(project, planned)

    sources = sorted(SOURCE.glob("*.sql"))
    assert len(written) == len(sources)
    versions = [path.name.split("_", 1)[0] for path in written]
    assert versions == sorted(versions)
    assert len(set(versions)) == len(versions)
    assert versions[0] == "20240501120501"
    for source, target in zip(sources, written, strict=True):
        assert target.read_bytes() == source.read_bytes()
        name = target.name.split("_", 1)[1]
        assert name.startswith(installer.COMPONENT_PREFIX)
        assert name.endswith(source.name.split("_", 1)[1])
    # The host's own files are untouched, and sort before every component file.
    names = migration_names(project)
    assert names[:2] == ["20230530034630_init.sql", "20240501120500_later.sql"]
    assert (project / "supabase" / "migrations" / "20230530034630_init.sql").read_text() == (
        "-- the host's 20230530034630_init.sql\n"
    )


def test_versions_are_not_older_than_now(tmp_path: Path) -> None:
    project = host(tmp_path, "20230530034630_init.sql")
    planned = installer.plan(project, now=NOON)
    assert planned[0].target_name.startswith("20240501120000_")


def test_an_empty_or_missing_migrations_folder_is_created_and_filled(tmp_path: Path) -> None:
    project = tmp_path / "fresh"
    (project / "supabase").mkdir(parents=True)
    written = installer.write(project, installer.plan(project, now=NOON))
    assert len(written) == len(list(SOURCE.glob("*.sql")))


def test_installed_migrations_are_skipped_and_only_new_ones_added(tmp_path: Path) -> None:
    project = host(tmp_path, "20230530034630_init.sql")
    first = installer.write(project, installer.plan(project, now=NOON))
    # A later release of the component brings one more file; the host added one of its own.
    newer_source = tmp_path / "component"
    newer_source.mkdir()
    for path in SOURCE.glob("*.sql"):
        (newer_source / path.name).write_bytes(path.read_bytes())
    (newer_source / "29991231235959_movement_profiles_more.sql").write_text("select 1;\n")
    (project / "supabase" / "migrations" / "20250101000000_host_later.sql").write_text("")

    planned = installer.plan(project, source_dir=newer_source, now=NOON)
    assert [m.installed for m in planned] == [True] * len(first) + [False]
    assert [m.target_name for m in planned[:-1]] == [path.name for path in first]
    second = installer.write(project, planned)
    assert [path.name for path in second] == ["20250101000001_movement_profiles_more.sql"]
    assert installer.plan(project, source_dir=newer_source, now=NOON)[-1].installed


def test_numbered_not_timestamped_host_migrations_are_counted_on(tmp_path: Path) -> None:
    project = host(tmp_path, "0001_init.sql", "0002_more.sql")
    planned = installer.plan(project, now=NOON)
    assert planned[0].target_name.startswith("0003_")


def test_the_command_prints_what_it_wrote_and_the_next_step(cli: Cli, tmp_path: Path) -> None:
    project = host(tmp_path, "20230530034630_init.sql")
    dry = cli.run("install", str(project), "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert dry.stdout.count("would write") == len(list(SOURCE.glob("*.sql")))
    assert migration_names(project) == ["20230530034630_init.sql"]

    result = cli.run("install", str(project))
    assert result.exit_code == 0, result.stderr
    assert "supabase db push" in result.stdout
    for name in migration_names(project)[1:]:
        assert f"wrote             supabase/migrations/{name}" in result.stdout

    again = cli.run("install", str(project))
    assert again.exit_code == 0
    assert "Nothing to do" in again.stdout
    assert len(migration_names(project)) == 1 + len(list(SOURCE.glob("*.sql")))


def test_an_installed_migration_edited_in_the_project_is_kept_with_a_warning(
    cli: Cli, tmp_path: Path
) -> None:
    project = host(tmp_path, "20230530034630_init.sql")
    first, *_ = installer.write(project, installer.plan(project, now=NOON))
    first.write_text("-- edited\n")
    result = cli.run("install", str(project))
    assert result.exit_code == 0
    assert f"warning: supabase/migrations/{first.name} differs" in result.stderr
    assert first.read_text() == "-- edited\n"


@pytest.mark.parametrize("folder", ["missing", "not-a-project"])
def test_a_folder_without_supabase_is_refused_with_exit_2(
    cli: Cli, tmp_path: Path, folder: str
) -> None:
    project = tmp_path / folder
    if folder == "not-a-project":
        project.mkdir()
    result = cli.run("install", str(project))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert "no supabase/ folder" in result.stderr
    assert not (project / "supabase").exists()


def test_the_wheel_carries_the_migrations_byte_identical(tmp_path: Path) -> None:
    """A pip-installed CLI has no checkout: its migrations come from the wheel."""
    project_dir = Path(__file__).resolve().parents[2]
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), project_dir],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("movement_profiles-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packaged = {
            Path(name).name: archive.read(name)
            for name in archive.namelist()
            if name.startswith("movement_profiles_cli/migrations/")
        }
    assert packaged == {path.name: path.read_bytes() for path in SOURCE.glob("*.sql")}
