#!/usr/bin/env python3
"""Pins of the lowest versions pyproject.toml allows, as a pip constraints file on stdout.

    python scripts/lowest_pins.py cli        # the runtime dependencies and the cli extra
    python scripts/lowest_pins.py --only supabase

Every requirement with a lower bound (``>=X``) becomes ``name==X``: what uv calls
``--resolution lowest-direct``. `make test` installs with these pins (tests/lowest.sh) and runs the
SDK and CLI suites, so no lower bound in pyproject.toml goes untested. supabase-py's lowest release
needs a newer pydantic than the SDK's own lowest, so its extra is pinned in a venv of its own
(``--only supabase``).
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
_LOWER_BOUND = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*[^;]*?>=\s*([^,;\s]+)")


def lowest_pins(requirements: list[str]) -> list[str]:
    pins = []
    for requirement in requirements:
        match = _LOWER_BOUND.match(requirement)
        if match is None:
            raise SystemExit(f"no lower bound in {requirement!r}: every dependency needs one")
        name, _, version = match.groups()
        pins.append(f"{name}=={version}")
    return pins


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("extras", nargs="*", help="optional-dependency groups to pin as well")
    parser.add_argument("--only", action="store_true", help="the extras alone, not the runtime")
    options = parser.parse_args()
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    requirements = [] if options.only else list(project["dependencies"])
    for extra in options.extras:
        requirements += project["optional-dependencies"][extra]
    print("\n".join(lowest_pins(requirements)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
