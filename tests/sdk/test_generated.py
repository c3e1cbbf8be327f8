"""One source for both clients: `_sync.py` is what scripts/unasync.py makes of `_async.py`, the
sans-I/O core knows no HTTP library, and the SDK never reaches for the CLI. No stack needed."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
PACKAGE = PROJECT_DIR / "client" / "movement_profiles"
UNASYNC = PROJECT_DIR / "scripts" / "unasync.py"


def unasync_check(source: Path | None = None) -> subprocess.CompletedProcess[str]:
    # The generator formats with ruff, a dev tool: the venv of the lowest versions has none.
    pytest.importorskip("ruff")
    return subprocess.run(
        [sys.executable, str(UNASYNC), "--check", *(["--source", str(source)] if source else [])],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_sync_client_is_generated_from_the_async_one() -> None:
    result = unasync_check(PACKAGE / "_async.py")
    assert result.returncode == 0, result.stderr


def test_the_blocking_batch_pipeline_is_generated_too() -> None:
    result = unasync_check()
    assert result.returncode == 0, result.stderr
    assert (PACKAGE / "concurrency" / "_sync.py").read_text().startswith("# Generated from")


def test_a_change_to_the_async_client_alone_fails_the_check(tmp_path: Path) -> None:
    changed = tmp_path / "_async.py"
    source = (PACKAGE / "_async.py").read_text()
    changed.write_text(source.replace("DEFAULT_MAX_RETRIES,", "DEFAULT_MAX_RETRIES + 1,", 1))
    result = unasync_check(changed)
    assert result.returncode == 1
    assert "is stale: run `make generate`" in result.stderr
    assert "+        max_retries: int = _core.DEFAULT_MAX_RETRIES + 1," in result.stderr


@pytest.mark.parametrize("generated", [PACKAGE / "_sync.py", PACKAGE / "concurrency" / "_sync.py"])
def test_the_generated_code_has_nothing_async_left(generated: Path) -> None:
    tree = ast.parse(generated.read_text())
    kinds = (ast.AsyncFunctionDef, ast.Await, ast.AsyncWith, ast.AsyncFor)
    assert not [node for node in ast.walk(tree) if isinstance(node, kinds)]
    assert "asyncio" not in generated.read_text()


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_core_imports_no_http_library() -> None:
    core = sorted((PACKAGE / "_core").glob("*.py"))
    assert core
    for path in core:
        imported = {name.split(".")[0] for name in imported_modules(path)}
        assert imported.isdisjoint({"httpx", "postgrest", "requests", "urllib", "http", "socket"})
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, movement_profiles._core; print(sorted(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "'httpx'" not in loaded


def test_the_sdk_never_imports_the_cli_or_supabase() -> None:
    for path in PACKAGE.rglob("*.py"):
        imported = {name.split(".")[0] for name in imported_modules(path)}
        assert imported.isdisjoint({"movement_profiles_cli", "typer", "rich", "postgrest"}), path
        # supabase-py is imported for type checking only (from_supabase's argument).
        if "supabase" in imported:
            assert "if TYPE_CHECKING:\n    from supabase import" in path.read_text(), path
