"""Where the CLI finds the project: options, environment, .env, the local stack, or a clear no."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from movement_profiles_cli.commands._common import ExitCode
from movement_profiles_cli.stack.state import StackState
from tests.cli.conftest import Cli, isolated_environment
from tests.sdk.test_config import RecordingServer
from tests.support.ports import free_port

pytestmark = pytest.mark.integration

SEEDED_USER = "11111111-1111-4111-8111-111111111111"


@pytest.fixture
def bare_cli(stack: StackState, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The CLI with nothing configured at all (and no .env in reach)."""
    monkeypatch.chdir(tmp_path)
    return Cli(
        isolated_environment(tmp_path)
        | {"MOVEMENT_PROFILES_STACK_DIR": str(tmp_path / "no-stack-here")},
        secrets=[stack.service_role_key, stack.anon_key, stack.jwt_secret],
    )


def test_url_and_key_options_need_no_environment(bare_cli: Cli, stack: StackState) -> None:
    result = bare_cli.run(
        "get", SEEDED_USER, "--json", "--url", stack.api_url, "--key", stack.service_role_key
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["user_id"] == SEEDED_USER


def test_the_local_stack_is_the_default(bare_cli: Cli, stack: StackState) -> None:
    result = bare_cli.run(
        "get", SEEDED_USER, "--json", env={"MOVEMENT_PROFILES_STACK_DIR": str(stack.state_dir)}
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["user_id"] == SEEDED_USER


def test_a_dotenv_file_is_read(bare_cli: Cli, stack: StackState, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"SUPABASE_URL={stack.api_url}\nSUPABASE_SERVICE_ROLE_KEY={stack.service_role_key}\n"
    )
    result = bare_cli.run("get", SEEDED_USER, "--json")
    assert result.exit_code == 0, result.stderr


def test_the_service_role_key_is_the_default_and_sees_every_profile(
    cli: Cli, fresh_users: Callable[[int], list[uuid.UUID]]
) -> None:
    users = fresh_users(2)
    for user in users:
        cli.json(
            "create", "--user-id", str(user), "--training-preference", "yoga", "--goal", "rehab"
        )
    listed = {profile["user_id"] for profile in cli.json("list", "--limit", "1000")}
    assert {str(user) for user in users} <= listed


def test_nothing_configured_and_no_stack_is_one_clear_line(bare_cli: Cli) -> None:
    result = bare_cli.run("list")
    assert result.exit_code == ExitCode.INVALID_INPUT
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "make up" in lines[0]
    assert "SUPABASE_URL" in lines[0]


def test_a_local_stack_that_is_not_running_is_one_clear_line(
    bare_cli: Cli, stack: StackState, tmp_path: Path
) -> None:
    stopped = StackState(
        state_dir=tmp_path / "stopped-stack",
        runtime_dir=tmp_path / "stopped-stack",
        api_port=free_port(),
        jwt_secret=stack.jwt_secret,
    )
    stopped.save()
    result = bare_cli.run("list", env={"MOVEMENT_PROFILES_STACK_DIR": str(stopped.state_dir)})
    assert result.exit_code == ExitCode.SERVICE_ERROR
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "the local stack is not running" in lines[0]
    assert "make up" in lines[0]


def test_an_unreachable_url_is_a_service_error(cli: Cli, stack: StackState) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = cli.run("get", SEEDED_USER, "--url", url, "--key", stack.service_role_key)
    assert result.exit_code == ExitCode.SERVICE_ERROR
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert url in lines[0]


def test_a_malformed_url_is_invalid_input(cli: Cli, stack: StackState) -> None:
    result = cli.run(
        "get", SEEDED_USER, "--url", "ftp://example.com", "--key", stack.service_role_key
    )
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "http" in result.stderr


def test_a_service_key_in_the_environment_never_goes_to_a_dotenv_files_url(
    bare_cli: Cli, stack: StackState, tmp_path: Path
) -> None:
    with RecordingServer().running() as elsewhere:
        key_only = {"SUPABASE_SERVICE_ROLE_KEY": stack.service_role_key}
        # In a parent folder: never read.
        (tmp_path / ".env").write_text(f"SUPABASE_URL={elsewhere.url}\n")
        nested = tmp_path / "work"
        nested.mkdir()
        with pytest.MonkeyPatch.context() as monkeypatch:
            monkeypatch.chdir(nested)
            from_parent = bare_cli.run("list", env=key_only)
        assert from_parent.exit_code == ExitCode.INVALID_INPUT
        [line] = from_parent.stderr.strip().splitlines()
        assert "SUPABASE_URL is not set" in line
        # In the working directory: read, and refused with both places named.
        here = bare_cli.run("list", env=key_only)
        assert here.exit_code == ExitCode.INVALID_INPUT
        [line] = here.stderr.strip().splitlines()
        assert "the environment" in line
        assert str(tmp_path / ".env") in line
        for command in (
            ["get", SEEDED_USER],
            ["export"],
            ["update", SEEDED_USER, "--goal", "rehab"],
        ):
            assert bare_cli.run(*command, env=key_only).exit_code == ExitCode.INVALID_INPUT
        assert elsewhere.keys == []


@pytest.mark.parametrize("given", ["--url", "--key"])
def test_a_url_or_key_option_alone_is_refused(cli: Cli, stack: StackState, given: str) -> None:
    with RecordingServer().running() as elsewhere:
        value = elsewhere.url if given == "--url" else "a-key-of-another-project"
        result = cli.run("get", SEEDED_USER, given, value)
        assert result.exit_code == ExitCode.INVALID_INPUT
        [line] = result.stderr.strip().splitlines()
        missing = "--key" if given == "--url" else "--url"
        assert f"{given} is given without {missing}" in line
        assert "the environment" in line
        assert elsewhere.keys == []
