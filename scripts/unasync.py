#!/usr/bin/env python3
"""Write the blocking code from the asyncio code, as httpcore does: a table of substitutions.

    python scripts/unasync.py           # rewrite each _sync.py from its _async.py
    python scripts/unasync.py --check   # exit 1 when a _sync.py is not what its _async.py generates

The pairs: the client (client/movement_profiles/_async.py) and the batch pipeline
(client/movement_profiles/concurrency/_async.py).

`make generate` runs the first, `make lint` (and so `make test`) the second. Lines between
``# unasync: async only`` and ``# unasync: end`` are left out (an alias the blocking client has
no use for). The result is passed through ruff (imports sorted, formatted), so it reads like the
rest of the code.
"""

from __future__ import annotations

import argparse
import difflib
import re
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "client" / "movement_profiles"
PAIRS = [
    (folder / "_async.py", folder / "_sync.py") for folder in (PACKAGE, PACKAGE / "concurrency")
]
HEADER = "# Generated from _async.py by scripts/unasync.py (`make generate`). Do not edit.\n"

SUBSTITUTIONS = [
    # Names: AsyncMovementProfilesClient, AsyncIterator, httpx.AsyncClient, AsyncWorkers, ...
    (r"\bAsync([A-Z]\w*)", r"\1"),
    (r"\basync_sleep\b", "sleep"),
    (r"\basync_run_overlapped\b", "run_overlapped"),
    (r"\bacreate_client\b", "create_client"),
    (r"\baclose\b", "close"),
    (r"\b__aenter__\b", "__enter__"),
    (r"\b__aexit__\b", "__exit__"),
    (r"\basync def\b", "def"),
    (r"\basync with\b", "with"),
    (r"\basync for\b", "for"),
    (r"\bawait ", ""),
    (r"\bAwaitable\[(\w+)\]", r"\1"),
    (r", Awaitable\b", ""),
    # Words of the docstrings.
    (r"the asyncio client", "the blocking client"),
    (r"The batch pipeline in asyncio", "The batch pipeline in threads"),
    (r"\(in asyncio\)", "(blocking)"),
    (r"it in ``with``", "it as a context manager"),
    (r"Use it from one event loop\.", "It is safe to share between threads."),
]
_START, _END = "# unasync: async only", "# unasync: end"


def unasync(source: str) -> str:
    lines: list[str] = []
    skipping = False
    for line in source.splitlines(keepends=True):
        if line.strip() == _START:
            skipping = True
        elif line.strip() == _END:
            skipping = False
        elif not skipping:
            for pattern, replacement in SUBSTITUTIONS:
                line = re.sub(pattern, replacement, line)
            lines.append(line)
    if skipping:
        raise SystemExit(f"{_START} without {_END}")
    return HEADER + "".join(lines)


def _ruff(code: str, target: Path, *arguments: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *arguments, "--stdin-filename", str(target), "-"],
        input=code,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"ruff {' '.join(arguments)} failed:\n{result.stderr}{result.stdout}")
    return result.stdout


def generate(source: Path, target: Path) -> str:
    code = unasync(source.read_text())
    # `for x in page: yield x` becomes `yield from page`, which async generators cannot say.
    code = _ruff(
        code, target, "check", "--fix", "--unsafe-fixes", "--select", "I,F401,UP028", "--quiet"
    )
    return _ruff(code, target, "format", "--quiet")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check, write nothing")
    parser.add_argument("--source", type=Path, help="one source instead of every pair's")
    parser.add_argument("--target", type=Path, default=PAIRS[0][1], help="the --source's target")
    options = parser.parse_args()
    pairs = [(options.source, options.target)] if options.source else PAIRS
    stale = [
        target for source, target in pairs if not _write_or_check(source, target, options.check)
    ]
    for target in stale:
        print(f"{target} is stale: run `make generate` (scripts/unasync.py)", file=sys.stderr)
    return 1 if stale else 0


def _write_or_check(source: Path, target: Path, check: bool) -> bool:
    """Whether `target` is (now) what `source` generates; with `check`, a stale one is diffed."""
    expected = generate(source, target)
    current = target.read_text() if target.exists() else ""
    if current == expected:
        return True
    if not check:
        target.write_text(expected)
        print(f"wrote {target}")
        return True
    diff = difflib.unified_diff(
        current.splitlines(keepends=True),
        expected.splitlines(keepends=True),
        str(target),
        f"{target} as generated from {source.name}",
    )
    sys.stderr.writelines(diff)
    return False


if __name__ == "__main__":
    sys.exit(main())
