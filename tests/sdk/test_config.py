"""`from_env()`: the environment, a .env file, and the local stack as the default; the URL and
the key always from one of them."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from movement_profiles import (
    AsyncMovementProfilesClient,
    AuthError,
    ConfigurationError,
    MovementProfilesClient,
)
from movement_profiles.config import load_settings
from movement_profiles_cli.stack.state import STATE_DIR_ENV, StackState

pytestmark = pytest.mark.integration

SEEDED_ADA = "11111111-1111-4111-8111-111111111111"
NAMES = ("SUPABASE_URL", "SUPABASE_ANON_KEY", "SUPABASE_SERVICE_ROLE_KEY")


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No SUPABASE_* variables, and a working directory without a .env file."""
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_environment_variables_choose_the_project_and_key(
    clean_environment: pytest.MonkeyPatch, stack: StackState
) -> None:
    clean_environment.setenv("SUPABASE_URL", stack.api_url)
    clean_environment.setenv("SUPABASE_ANON_KEY", stack.anon_key)
    clean_environment.setenv("SUPABASE_SERVICE_ROLE_KEY", stack.service_role_key)
    with MovementProfilesClient.from_env(service_role=True) as admin:
        assert admin.get(SEEDED_ADA).user_id.hex.startswith("1111")
    with MovementProfilesClient.from_env() as anonymous, pytest.raises(AuthError):
        anonymous.get(SEEDED_ADA)  # the anon key alone may not read profiles


def test_a_dotenv_file_is_read_without_touching_the_environment(
    clean_environment: pytest.MonkeyPatch, stack: StackState, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(
        f"SUPABASE_URL={stack.api_url}\nSUPABASE_SERVICE_ROLE_KEY={stack.service_role_key}\n"
    )
    with MovementProfilesClient.from_env(service_role=True) as admin:
        assert str(admin.get(SEEDED_ADA).user_id) == SEEDED_ADA
    assert "SUPABASE_URL" not in os.environ


def test_the_environment_wins_over_the_dotenv_file_as_a_whole(
    clean_environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "custom.env").write_text("SUPABASE_URL=http://from-file\nSUPABASE_ANON_KEY=f\n")
    clean_environment.setenv("SUPABASE_URL", "http://from-environment")
    clean_environment.setenv("SUPABASE_ANON_KEY", "e")
    settings = load_settings(tmp_path / "custom.env")
    assert (settings.url, settings.anon_key, settings.source) == (
        "http://from-environment",
        "e",
        "the environment",
    )


class RecordingServer:
    """An HTTP server standing for someone else's project: it records the API keys sent to it."""

    def __init__(self) -> None:
        self.keys: list[str | None] = []
        keys = self.keys

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                keys.append(self.headers.get("apikey"))
                self.send_response(401)
                self.end_headers()

            def log_message(self, *arguments: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    @contextmanager
    def running(self) -> Iterator[RecordingServer]:
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()


@pytest.fixture
def elsewhere() -> Iterator[RecordingServer]:
    with RecordingServer().running() as server:
        yield server


def test_a_key_from_the_environment_never_goes_to_the_url_of_a_dotenv_file(
    clean_environment: pytest.MonkeyPatch, tmp_path: Path, elsewhere: RecordingServer
) -> None:
    clean_environment.setenv("SUPABASE_SERVICE_ROLE_KEY", "the-service-key")
    (tmp_path / ".env").write_text(f"SUPABASE_URL={elsewhere.url}\n")
    with (
        pytest.raises(ConfigurationError) as refused,
        MovementProfilesClient.from_env(service_role=True) as client,
    ):
        client.get(SEEDED_ADA)
    message = str(refused.value)
    assert "the environment" in message
    assert str(tmp_path / ".env") in message
    assert "the-service-key" not in message
    assert elsewhere.keys == []


def test_a_dotenv_file_in_a_parent_folder_is_never_read(
    clean_environment: pytest.MonkeyPatch,
    tmp_path: Path,
    elsewhere: RecordingServer,
    stack: StackState,
) -> None:
    (tmp_path / ".env").write_text(
        f"SUPABASE_URL={elsewhere.url}\nSUPABASE_SERVICE_ROLE_KEY=planted\n"
    )
    nested = tmp_path / "project" / "src"
    nested.mkdir(parents=True)
    clean_environment.chdir(nested)
    # Nothing set: the local stack, not the parent's project.
    clean_environment.setenv(STATE_DIR_ENV, str(stack.state_dir))
    assert load_settings().url == stack.api_url
    # A key in the environment without its URL is refused, not completed from the parent.
    clean_environment.setenv("SUPABASE_SERVICE_ROLE_KEY", stack.service_role_key)
    with pytest.raises(ConfigurationError, match="SUPABASE_URL is not set"):
        MovementProfilesClient.from_env(service_role=True)
    assert elsewhere.keys == []


def test_a_key_missing_from_the_chosen_place_is_not_taken_from_another(
    clean_environment: pytest.MonkeyPatch, tmp_path: Path, stack: StackState
) -> None:
    clean_environment.setenv("SUPABASE_URL", stack.api_url)
    clean_environment.setenv("SUPABASE_ANON_KEY", stack.anon_key)
    (tmp_path / ".env").write_text(f"SUPABASE_SERVICE_ROLE_KEY={stack.service_role_key}\n")
    with MovementProfilesClient.from_env() as anonymous:
        assert anonymous.options()["goals"]
    with pytest.raises(ConfigurationError) as refused:
        MovementProfilesClient.from_env(service_role=True)
    message = str(refused.value)
    assert "SUPABASE_SERVICE_ROLE_KEY only in" in message
    assert "the environment" in message
    assert str(tmp_path / ".env") in message


def test_a_dotenv_file_that_is_not_text_is_a_configuration_error(
    clean_environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_bytes(b"SUPABASE_URL=\xff\xfe\n\x00")
    with pytest.raises(ConfigurationError, match="cannot be read"):
        MovementProfilesClient.from_env()


async def test_without_configuration_the_local_stack_is_used(
    clean_environment: pytest.MonkeyPatch, stack: StackState
) -> None:
    clean_environment.setenv(STATE_DIR_ENV, str(stack.state_dir))
    async with AsyncMovementProfilesClient.from_env(service_role=True) as admin:
        assert str((await admin.get(SEEDED_ADA)).user_id) == SEEDED_ADA
    settings = load_settings()
    assert settings.url == stack.api_url
    assert settings.anon_key == stack.anon_key


def test_no_configuration_and_no_local_stack_is_a_configuration_error(
    clean_environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_environment.setenv(STATE_DIR_ENV, str(tmp_path / "no-stack-here"))
    with pytest.raises(ConfigurationError, match="make up"):
        MovementProfilesClient.from_env()


def test_a_missing_key_is_named(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("SUPABASE_URL", "http://127.0.0.1:1")
    clean_environment.setenv("SUPABASE_ANON_KEY", "anon")
    with pytest.raises(ConfigurationError, match="SUPABASE_SERVICE_ROLE_KEY"):
        MovementProfilesClient.from_env(service_role=True)
    clean_environment.delenv("SUPABASE_URL")
    with pytest.raises(ConfigurationError, match="SUPABASE_URL"):
        MovementProfilesClient.from_env()


def test_a_malformed_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="http"):
        MovementProfilesClient("127.0.0.1:54321", "key")
