#!/usr/bin/env python3
"""Released migrations never change.

Once a migration has been released, projects have applied it (`supabase db push` records its
version and never runs it again), so editing it would leave them on a schema the repository no
longer describes. `supabase/released-migrations.sha256` lists every released migration with the
SHA-256 of its bytes. This check fails when:

- a listed migration is missing or its bytes differ from the list;
- a migration in supabase/migrations is not listed (release it: `--release` appends it);
- the list itself lost or changed a line that an earlier commit of it had (it only grows).

    python scripts/check_released_migrations.py            # the check (make test runs it)
    python scripts/check_released_migrations.py --release  # list the unlisted migrations
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "supabase" / "migrations"
MANIFEST = ROOT / "supabase" / "released-migrations.sha256"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def parse(text: str) -> list[tuple[str, str]]:
    """The manifest's lines as (digest, file name), in order; blank and `#` lines skipped."""
    entries = []
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            sha, name = line.split(maxsplit=1)
            entries.append((sha, name.strip()))
    return entries


def earlier_manifests() -> list[tuple[str, str]] | None:
    """(commit, text) of every committed version of the manifest, or None outside a git checkout."""
    relative = MANIFEST.relative_to(ROOT).as_posix()
    log = subprocess.run(
        ["git", "-C", str(ROOT), "log", "--format=%H", "--", relative],
        capture_output=True,
        text=True,
        check=False,
    )
    if log.returncode != 0:
        return None
    versions = []
    for commit in log.stdout.split():
        shown = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{commit}:{relative}"],
            capture_output=True,
            text=True,
            check=False,
        )
        if shown.returncode == 0:  # absent in a commit that deleted it: reported below
            versions.append((commit, shown.stdout))
    return versions


def problems() -> list[str]:
    found = []
    listed = parse(MANIFEST.read_text()) if MANIFEST.is_file() else []
    listed_names = {name for _, name in listed}
    for sha, name in listed:
        path = MIGRATIONS / name
        if not path.is_file():
            found.append(f"released migration {name} is missing")
        elif digest(path) != sha:
            found.append(
                f"released migration {name} was edited: write the change as a new migration"
            )
    for path in sorted(MIGRATIONS.glob("*.sql")):
        if path.name not in listed_names:
            found.append(
                f"{path.name} is not released: run scripts/check_released_migrations.py --release"
            )
    history = earlier_manifests()
    if history is None:
        print("note: not a git checkout; the manifest's history was not checked", file=sys.stderr)
    else:
        current = set(listed)
        for commit, text in history:
            for sha, name in parse(text):
                if (sha, name) not in current:
                    found.append(
                        f"{MANIFEST.name} dropped or changed {name}, released in {commit[:12]}"
                    )
    return sorted(set(found))


def release() -> None:
    listed = {name for _, name in parse(MANIFEST.read_text())} if MANIFEST.is_file() else set()
    new = [path for path in sorted(MIGRATIONS.glob("*.sql")) if path.name not in listed]
    with MANIFEST.open("a") as manifest:
        for path in new:
            manifest.write(f"{digest(path)}  {path.name}\n")
            print(f"released {path.name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", action="store_true", help="list unlisted migrations")
    if parser.parse_args().release:
        release()
        return 0
    if found := problems():
        print("\n".join(found), file=sys.stderr)
        return 1
    print(f"released migrations unchanged ({len(parse(MANIFEST.read_text()))} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
