"""`pip install movement-profiles` alone: the SDK and what it uses at run time, nothing more.

A clean venv gets the package without extras (with the pins in $MOVEMENT_PROFILES_PIP_CONSTRAINTS
when set: tests/lowest.sh passes the lowest allowed versions). Neither the CLI's dependencies nor
supabase-py may come along, and the SDK must still work against the stack: from the environment,
and from the stack's stack.json alone, without the CLI package to read it.
"""

from __future__ import annotations

import json
import os
import subprocess
import venv
from pathlib import Path

import pytest

from movement_profiles_cli.stack.state import StackState
from tests.support.cli_env import clean_environment

pytestmark = pytest.mark.integration

PROJECT_DIR = Path(__file__).resolve().parents[2]
CONSTRAINTS_ENV = "MOVEMENT_PROFILES_PIP_CONSTRAINTS"
#: Distributions only the extras may bring.
EXTRAS_ONLY = {"typer", "rich", "click", "pyjwt", "supabase", "postgrest", "supabase-auth"}
SDK_NEEDS = {"httpx", "pydantic", "python-dotenv", "movement-profiles"}

USE_THE_SDK = """
import json, sys, uuid
from movement_profiles import MovementProfilesClient, MovementProfileCreate, NotFoundError
import movement_profiles_cli  # the package is in the wheel; its dependencies are not

service = MovementProfilesClient.from_env(service_role=True)
options = service.options()
try:
    service.get(uuid.UUID(int=0))
except NotFoundError as error:
    missing = error.status
extras = ("typer", "rich", "jwt", "supabase", "postgrest")
print(json.dumps({
    "options": options,
    "missing": missing,
    "loaded": [name for name in extras if name in sys.modules],
}))
"""


@pytest.fixture(scope="module")
def bare_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("bare-sdk") / "venv"
    venv.create(directory, with_pip=True)
    python = directory / "bin" / "python"
    command = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    constraints = os.environ.get(CONSTRAINTS_ENV)
    if constraints:
        command += ["--constraint", constraints]
    subprocess.run([*command, str(PROJECT_DIR)], check=True, capture_output=True, text=True)
    return directory


def installed(directory: Path) -> dict[str, str]:
    listing = subprocess.run(
        [str(directory / "bin" / "python"), "-m", "pip", "list", "--format", "json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {entry["name"].lower(): entry["version"] for entry in json.loads(listing)}


def test_the_bare_package_brings_neither_the_cli_nor_supabase(bare_venv: Path) -> None:
    packages = installed(bare_venv)
    assert set(packages) >= SDK_NEEDS
    assert EXTRAS_ONLY.isdisjoint(packages), sorted(EXTRAS_ONLY & set(packages))
    constraints = os.environ.get(CONSTRAINTS_ENV)
    if constraints:
        # The leg of the lowest versions really installed them.
        for pin in Path(constraints).read_text().split():
            name, _, version = pin.partition("==")
            if name.lower() in packages:
                assert packages[name.lower()].startswith(version), (pin, packages[name.lower()])


def run_sdk(bare_venv: Path, tmp_path: Path, environment: dict[str, str]) -> dict[str, object]:
    result = subprocess.run(
        [str(bare_venv / "bin" / "python"), "-c", USE_THE_SDK],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # no .env file, no checkout: only what `environment` says
        env=clean_environment(**environment),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    outcome: dict[str, object] = json.loads(result.stdout)
    return outcome


def test_the_bare_sdk_works_from_the_environment(
    bare_venv: Path, tmp_path: Path, stack: StackState
) -> None:
    outcome = run_sdk(
        bare_venv,
        tmp_path,
        {"SUPABASE_URL": stack.api_url, "SUPABASE_SERVICE_ROLE_KEY": stack.service_role_key},
    )
    assert outcome["missing"] == 404
    assert outcome["loaded"] == []
    assert set(outcome["options"]) == {"training_preferences", "goals"}  # type: ignore[arg-type]


def test_the_bare_sdk_finds_the_local_stack_from_its_stack_json(
    bare_venv: Path, tmp_path: Path, stack: StackState
) -> None:
    outcome = run_sdk(bare_venv, tmp_path, {"MOVEMENT_PROFILES_STACK_DIR": str(stack.state_dir)})
    assert outcome["missing"] == 404


def test_the_command_without_its_extra_says_how_to_install_it(bare_venv: Path) -> None:
    result = subprocess.run(
        [str(bare_venv / "bin" / "movement-profiles"), "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "pip install 'movement-profiles[cli]'" in result.stderr
