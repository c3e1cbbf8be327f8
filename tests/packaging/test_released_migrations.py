"""Released migrations never change: scripts/check_released_migrations.py catches each way they
could, in a clone of this checkout (so the manifest's git history is there to compare with)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
CHECK = Path("scripts") / "check_released_migrations.py"


def _git(clone: Path, *arguments: str) -> None:
    subprocess.run(
        [
            "git",
            "-C",
            str(clone),
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            *arguments,
        ],
        check=True,
        capture_output=True,
    )


def _check(clone: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(clone / CHECK)], capture_output=True, text=True, check=False
    )


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A clone of the checkout's committed state, with the working tree's check and manifest."""
    target = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "--quiet", "--no-local", str(PROJECT_DIR), str(target)],
        check=True,
        capture_output=True,
    )
    return target


def test_the_checkout_passes() -> None:
    result = _check(PROJECT_DIR)
    assert result.returncode == 0, result.stderr
    assert "released migrations unchanged" in result.stdout


def test_an_edited_released_migration_fails(clone: Path) -> None:
    migration = sorted((clone / "supabase" / "migrations").glob("*.sql"))[0]
    migration.write_text(migration.read_text() + "\n-- an afterthought\n")
    result = _check(clone)
    assert result.returncode == 1
    assert f"released migration {migration.name} was edited" in result.stderr


def test_a_deleted_released_migration_fails(clone: Path) -> None:
    migration = sorted((clone / "supabase" / "migrations").glob("*.sql"))[-1]
    migration.unlink()
    result = _check(clone)
    assert result.returncode == 1
    assert f"released migration {migration.name} is missing" in result.stderr


def test_an_unreleased_migration_fails_until_released(clone: Path) -> None:
    new = clone / "supabase" / "migrations" / "29991231000000_movement_profiles_later.sql"
    new.write_text("select 1;\n")
    result = _check(clone)
    assert result.returncode == 1
    assert f"{new.name} is not released" in result.stderr
    subprocess.run([sys.executable, str(clone / CHECK), "--release"], check=True)
    assert _check(clone).returncode == 0


def test_rewriting_the_manifest_to_match_an_edit_is_caught_by_its_history(clone: Path) -> None:
    manifest = clone / "supabase" / "released-migrations.sha256"
    migration = sorted((clone / "supabase" / "migrations").glob("*.sql"))[0]
    migration.write_text(migration.read_text() + "\n-- an afterthought\n")
    lines = [
        line for line in manifest.read_text().splitlines() if not line.endswith(migration.name)
    ]
    manifest.write_text("\n".join(lines) + "\n")
    subprocess.run([sys.executable, str(clone / CHECK), "--release"], check=True)
    _git(clone, "commit", "--quiet", "-am", "edit a released migration")
    result = _check(clone)
    assert result.returncode == 1
    assert f"dropped or changed {migration.name}" in result.stderr
