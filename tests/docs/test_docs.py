"""The docs run: every example of README.md and docs/*.md is executed against the test stack.

A page's ``sh`` and ``python`` blocks run in order, in one shell (so a variable a block exports is
there for the next), from the checkout, with the test stack as the local stack. A block fenced
``sh notest`` or ``python notest`` is shown but not run (it installs the world, or needs a hosted
project); nothing else is exempt. An ``output`` block right after an example is what the example
must print (stdout and stderr), line by line; ``...`` stands for any text within a line, and a line
of only ``...`` for any number of lines. Every relative link, and every path in backquotes that
starts with a folder of the checkout, must exist.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from movement_profiles_cli.stack.state import StackState
from tests.support.cli_env import clean_environment

PROJECT_DIR = Path(__file__).resolve().parents[2]
PAGES = [PROJECT_DIR / "README.md", *sorted((PROJECT_DIR / "docs").glob("*.md"))]
RUNNABLE = {"sh", "python"}
_FENCE = re.compile(r"^```([\w-]*)[ \t]*([^\n]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_MARKER = "@@example@@"


@dataclass
class Example:
    kind: str
    code: str
    line: int
    output: str | None = None


def examples(text: str) -> list[Example]:
    """The page's runnable examples, each with the output block that follows it, if any."""
    found: list[Example] = []
    previous: Example | None = None
    for fence in _FENCE.finditer(text):
        kind, options, code = fence.group(1), fence.group(2).split(), fence.group(3)
        line = text.count("\n", 0, fence.start()) + 1
        if kind == "output":
            assert previous is not None, f"line {line}: an output block follows no example"
            previous.output = code
            previous = None
            continue
        previous = None
        if kind in RUNNABLE and "notest" not in options:
            previous = Example(kind, code, line)
            found.append(previous)
    return found


def script(page_examples: list[Example], directory: Path) -> str:
    """One bash script running the examples in order, each announced by a marker line."""
    parts = ["set -eo pipefail"]
    for index, example in enumerate(page_examples):
        # On a line of its own even when the example ended without a newline (curl).
        parts.append(f"echo; echo {_MARKER}{index}")
        if example.kind == "python":
            source = directory / f"example_{index}.py"
            source.write_text(example.code)
            parts.append(f"{sys.executable} {source}")
        else:
            parts.append(example.code)
    return "\n".join(parts) + "\n"


def matches(expected: str, actual: str) -> bool:
    """Whether `actual` is what `expected` shows, `...` standing for anything (see above)."""
    pattern = ""
    for line in expected.strip("\n").splitlines():
        if line.strip() == "...":
            pattern += r"(?:[^\n]*\n)*?"
        else:
            pattern += r"[^\n]*".join(map(re.escape, line.rstrip().split("..."))) + r"\n"
    text = "".join(line.rstrip() + "\n" for line in actual.strip("\n").splitlines())
    return re.fullmatch(pattern, text) is not None


def run_page(text: str, directory: Path, environment: dict[str, str]) -> list[str]:
    """Run the page's examples; what went wrong, one sentence each (none when all is well)."""
    page_examples = examples(text)
    if not page_examples:
        return []
    result = subprocess.run(
        ["bash", "-c", script(page_examples, directory)],
        cwd=PROJECT_DIR,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
        check=False,
    )
    chunks = re.split(rf"^{_MARKER}(\d+)\n", result.stdout, flags=re.MULTILINE)
    printed = {int(index): output for index, output in zip(chunks[1::2], chunks[2::2], strict=True)}
    problems = []
    if result.returncode != 0:
        last = max(printed, default=0)
        problems.append(
            f"the example at line {page_examples[last].line} failed (exit {result.returncode}):"
            f"\n{printed.get(last, result.stdout)}"
        )
    for index, example in enumerate(page_examples):
        expected, shown = example.output, printed.get(index)
        if result.returncode != 0 or expected is None or shown is None:
            continue
        if not matches(expected, shown):
            problems.append(
                f"the example at line {example.line} printed\n{shown}\ninstead of\n{expected}"
            )
    return problems


@pytest.fixture
def environment(stack: StackState, tmp_path: Path) -> dict[str, str]:
    """The caller's environment without project settings; the test stack as the local stack."""
    return clean_environment(
        MOVEMENT_PROFILES_STACK_DIR=str(stack.state_dir),
        PYTHONUNBUFFERED="1",
        TMPDIR=str(tmp_path),
        COLUMNS="100",
    )


@pytest.mark.integration
@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_example_runs_and_prints_what_the_page_shows(
    page: Path, environment: dict[str, str], tmp_path: Path
) -> None:
    problems = run_page(page.read_text(), tmp_path, environment)
    assert not problems, f"{page.relative_to(PROJECT_DIR)}: " + "\n\n".join(problems)


_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_PATH = re.compile(r"`((?:supabase|client|cli|tests|bench|docs|examples|scripts)/[\w./*{}-]*)`")


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_file_a_page_names_exists(page: Path) -> None:
    text = page.read_text()
    missing = []
    for target in _LINK.findall(text):
        if re.match(r"^(https?:|mailto:|#)", target):
            continue
        if not (page.parent / target.split("#")[0]).exists():
            missing.append(target)
    for path in _PATH.findall(text):
        if "{" in path or "<" in path:
            continue
        if not list(PROJECT_DIR.glob(path.rstrip("/"))):
            missing.append(path)
    assert not missing, f"{page.name} names files that do not exist: {missing}"


# -- the checker itself can fail -----------------------------------------------------------------

PAGE = """
```sh
echo "hello $NAME"
```

```output
hello ...
```

```python
print("one")
print("two")
```

```output
...
two
```

```sh notest
make the-world
```
"""


def test_a_page_whose_examples_print_what_it_shows_passes(tmp_path: Path) -> None:
    assert run_page(PAGE, tmp_path, {**os.environ, "NAME": "you"}) == []


def test_a_page_that_drifted_from_the_code_fails(tmp_path: Path) -> None:
    drifted = PAGE.replace("hello ...", "goodbye ...")
    [problem] = run_page(drifted, tmp_path, {**os.environ, "NAME": "you"})
    assert "printed\nhello you" in problem


def test_a_failing_example_fails(tmp_path: Path) -> None:
    broken = PAGE.replace('print("two")', "raise SystemExit(3)")
    [problem] = run_page(broken, tmp_path, dict(os.environ))
    assert "line 10 failed (exit 3)" in problem


def test_ellipsis_matches_within_a_line_and_whole_lines() -> None:
    assert matches("a ... c\n...\nz", "a b c\nx\ny\nz\n")
    assert not matches("a ... c", "a b d")
    assert not matches("a\nb", "a\nb\nc")
