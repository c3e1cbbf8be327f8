"""`--help` lists the commands and says where the allowed values are (they are data, so it
lists none), answers without the heavy imports, and shell completion works. No stack needed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from movement_profiles import Goal, TrainingPreference
from movement_profiles_cli.main import app
from tests.cli.conftest import cli_runner

DATA_COMMANDS = ["create", "get", "update", "list", "delete", "options", "import", "export"]
# The SDK's enums and errors are light (standard library); its clients and models are not.
HEAVY_MODULES = [
    "movement_profiles._sync",
    "movement_profiles.models",
    "pydantic",
    "httpx",
    "postgrest",
    "supabase",
    "rich",
]
CATALOGUE_COMMANDS = [
    "show",
    "add-field",
    "add-value",
    "relabel",
    "retire-value",
    "remove-field",
    "history",
    "export-sql",
    "diff",
]
CONSOLE_SCRIPT = Path(sys.executable).with_name("movement-profiles")


def test_help_lists_every_command() -> None:
    result = cli_runner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in [*DATA_COMMANDS, "install", "catalogue", "stack", "dev"]:
        assert f" {command} " in result.stdout


@pytest.mark.parametrize("command", ["create", "update", "list"])
@pytest.mark.parametrize("columns", [40, 80, 200])
def test_help_of_commands_with_values_says_where_the_allowed_values_are(
    command: str, columns: int
) -> None:
    result = cli_runner().invoke(app, [command, "--help"], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0
    text = " ".join(word.strip("│ ") for word in result.stdout.split())
    assert "movement-profiles catalogue show" in " ".join(text.split()), result.stdout
    assert ("--has" if command == "list" else "--set") in result.stdout
    # No list of values that the catalogue could make untrue: the shipped ones are not named.
    for value in [*TrainingPreference, *Goal]:
        assert value.value not in result.stdout, value


def test_help_of_catalogue_lists_its_commands() -> None:
    result = cli_runner().invoke(app, ["catalogue", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for command in CATALOGUE_COMMANDS:
        assert f" {command} " in result.stdout, command


@pytest.mark.parametrize("command", DATA_COMMANDS)
def test_every_data_command_has_json_output_or_a_format(command: str) -> None:
    result = cli_runner().invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "--json" in result.stdout or "--format" in result.stdout
    for option in ("--url", "--key", "--access-token"):
        assert option in result.stdout


def loaded_after(code: str) -> list[str]:
    """Which heavy modules a fresh interpreter has loaded once `code` ran (or exited)."""
    probe = f"""
import atexit, sys
atexit.register(lambda: print(
    "loaded:" + ",".join(name for name in {HEAVY_MODULES!r} if name in sys.modules),
    file=sys.stderr,
))
{code}
"""
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    [report] = [line for line in result.stderr.splitlines() if line.startswith("loaded:")]
    return [name for name in report.removeprefix("loaded:").split(",") if name]


def test_importing_the_cli_imports_none_of_the_heavy_modules() -> None:
    # What Typer imports on its own (Rich, before Typer 0.16) is Typer's; the CLI adds nothing.
    assert set(loaded_after("import movement_profiles_cli.main")) <= set(
        loaded_after("import typer")
    )


@pytest.mark.parametrize("arguments", [["--help"], ["get", "--help"], ["create", "--help"]])
def test_help_imports_neither_the_sdk_nor_its_http_stack(arguments: list[str]) -> None:
    # Typer itself imports Rich to render help and pydantic to convert some parameter types
    # (a UUID); what the CLI defers is the SDK and everything under it.
    code = f"""
sys.argv = ["movement-profiles", *{arguments!r}]
from movement_profiles import Goal, TrainingPreference
from movement_profiles_cli.main import app
from tests.cli.conftest import cli_runner
app()
"""
    assert set(loaded_after(code)) <= {"rich", "pydantic"}


def test_show_completion_prints_a_script() -> None:
    result = subprocess.run(
        [str(CONSOLE_SCRIPT), "--show-completion", "bash"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "_movement_profiles_completion" in result.stdout


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("movement-profiles ex", ["export"]),
        ("movement-profiles catalogue re", ["relabel", "remove-field", "retire-value"]),
        (
            "movement-profiles catalogue retire-value f v --profiles ",
            ["refuse", "remove", "replace"],
        ),
    ],
)
def test_completion_offers_commands_and_values(words: str, expected: list[str]) -> None:
    result = subprocess.run(
        [str(CONSOLE_SCRIPT)],
        capture_output=True,
        text=True,
        check=False,
        env={
            **os.environ,
            "_MOVEMENT_PROFILES_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split(" ")) - 1),
        },
    )
    assert sorted(result.stdout.split()) == sorted(expected)
