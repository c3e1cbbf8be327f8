"""Import's memory does not grow with the file: both passes, at 20,000 and 200,000 rows.

Each size runs in a process of its own, which reports its own peak resident set: reading and
validating the file (first pass), then reading it again into the SDK's encoded request bodies
(second pass, all but the network). No stack is needed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

SMALL, LARGE = 20_000, 200_000
#: What may grow: the first pass's 25 bytes a row for the duplicate check and the lines' forms
#: (4.5 MB here), and the allocator's noise. Holding the rows, as import once did, would add
#: about 180 MB.
ALLOWED_GROWTH_MB = 10

PASSES = """
import resource, sys
from pathlib import Path
from movement_profiles import _core
from movement_profiles.catalogue import Catalogue
from movement_profiles_cli.transfer.source import ImportSource
from movement_profiles_cli.transfer.writer import batches

def field(name, values):
    return {"name": name, "label": name, "description": "", "required": True, "built_in": True,
            "values": [{"value": value, "label": value, "description": ""} for value in values]}

catalogue = Catalogue.model_validate(
    {"fields": [field("training_preferences", ["yoga", "running"]), field("goals", ["rehab"])]}
)
with ImportSource(Path(sys.argv[1]), None) as source:
    checked = source.check(catalogue)
    assert not checked.invalid and checked.rows == int(sys.argv[2]), checked.invalid[:3]
    sent = 0
    for batch in batches(source.valid_rows(checked.forms), 1000):
        # Rows in the usual form are sent as written: the request the SDK would send, built.
        assert all(row.text is not None for row in batch)
        request = next(_core.upsert_json_rows([row.text for row in batch], keep_identity=False))
        sent += len(request.body) > 0 and len(batch)
    assert sent == checked.rows
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # kB on Linux
"""


def peak_rss_mb(rows: int, folder: Path) -> float:
    file = folder / f"profiles-{rows}.jsonl"
    with file.open("w") as stream:
        for index in range(rows):
            record = {
                "user_id": str(uuid.uuid4()),
                "training_preferences": ["yoga", "running"][: 1 + index % 2],
                "goals": ["rehab"],
                "custom_fields": {},
            }
            stream.write(json.dumps(record) + "\n")
    result = subprocess.run(
        [sys.executable, "-c", PASSES, str(file), str(rows)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(result.stdout.strip()) / 1024


def test_memory_does_not_grow_with_the_rows(tmp_path: Path) -> None:
    small = peak_rss_mb(SMALL, tmp_path)
    large = peak_rss_mb(LARGE, tmp_path)
    assert large - small < ALLOWED_GROWTH_MB, (small, large)
