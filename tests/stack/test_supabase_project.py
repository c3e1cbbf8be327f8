"""A stack for another Supabase project: the folder is checked and remembered (no stack needed;
tests/hosts runs stacks of other projects for real)."""

from __future__ import annotations

from pathlib import Path

import pytest

from movement_profiles_cli.main import app
from movement_profiles_cli.stack.errors import StackError
from movement_profiles_cli.stack.local_stack import LocalStack, supabase_project_dir
from movement_profiles_cli.stack.state import StackState
from tests.cli.conftest import cli_runner


def test_a_folder_without_supabase_migrations_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="has no supabase/migrations"):
        supabase_project_dir(tmp_path)
    result = cli_runner().invoke(
        app,
        [
            "stack",
            "up",
            "--state-dir",
            str(tmp_path / "state"),
            "--supabase-project",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 2
    assert not (tmp_path / "state").exists()


def test_the_project_folder_is_remembered_and_the_tools_stay_the_checkouts(tmp_path: Path) -> None:
    project = tmp_path / "host"
    (project / "supabase" / "migrations").mkdir(parents=True)
    stack = LocalStack.open(tmp_path / "state", supabase_project=project, free_ports=True)
    assert stack.supabase_project == project.resolve()
    stack.state.save()

    reopened = LocalStack.open(tmp_path / "state")
    assert reopened.supabase_project == project.resolve()
    assert reopened.project_dir == Path(__file__).resolve().parents[2]
    assert reopened.supabase_cli.startswith(str(reopened.project_dir))


def test_without_one_the_checkouts_migrations_apply(tmp_path: Path) -> None:
    stack = LocalStack.open(tmp_path / "state", free_ports=True)
    assert stack.supabase_project == stack.project_dir
    stack.state.save()
    recorded = StackState.load(tmp_path / "state")
    assert recorded is not None
    assert recorded.supabase_project is None
