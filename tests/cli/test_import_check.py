"""The import's first pass without a stack: a file checked in parts by several processes gives
exactly the verdicts of one process reading it whole."""

from __future__ import annotations

import codecs
import json
import random
import uuid
from pathlib import Path

import pytest

from movement_profiles_cli.transfer import first_pass
from movement_profiles_cli.transfer.first_pass import Checked
from movement_profiles_cli.transfer.rows import LineForm
from movement_profiles_cli.transfer.source import ImportSource
from tests.cli.conftest import offline_catalogue

LINES = 3000
CATALOGUE = offline_catalogue(("injuries", ["knee", "shoulder"], False))


def _line(rng: random.Random, users: list[str]) -> bytes:
    """A line of one of the kinds a file may hold, good and bad, with any line ending."""
    user = rng.choice(users)  # a small pool: user_ids repeat, often in another part
    plain = {
        "user_id": user,
        "training_preferences": ["yoga"],
        "goals": ["rehab"],
        "custom_fields": rng.choice([{}, {"injuries": ["knee"]}]),
    }
    stamp = "2026-01-02T03:04:05.5+01:00"
    kind = rng.randrange(11)
    text = {
        0: json.dumps(plain),
        1: json.dumps({**plain, "id": str(uuid.uuid4()), "created_at": stamp, "updated_at": stamp}),
        2: json.dumps({**plain, "user_id": "{" + user.upper() + "}"}),
        3: json.dumps({**plain, "id": None, "created_at": None, "updated_at": None}),
        4: "",
        5: "{not json",
        6: json.dumps({**plain, "goals": ["dance"]}),
        7: codecs.BOM_UTF8.decode() + json.dumps(plain),
        8: json.dumps({**plain, "created_at": "2026-01-02 03:04:05+01"}),
        9: json.dumps({**plain, "custom_fields": {"injuries": ["elbow"]}}),
        10: json.dumps({key: value for key, value in plain.items() if key != "custom_fields"}),
    }[kind]
    return text.encode() + rng.choice((b"\n", b"\r\n", b"\r"))


@pytest.mark.parametrize(
    ("processes", "start_method"), [(2, "fork"), (3, "fork"), (4, "fork"), (2, "spawn")]
)
def test_checking_in_parts_gives_the_verdicts_of_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, processes: int, start_method: str
) -> None:
    rng = random.Random(processes)
    users = [str(uuid.uuid4()) for _ in range(LINES // 3)]
    file = tmp_path / "profiles.jsonl"
    file.write_bytes(codecs.BOM_UTF8 + b"".join(_line(rng, users) for _ in range(LINES)))
    monkeypatch.setattr(first_pass, "PARALLEL_CHECK_BYTES", 0)
    # fork on Linux; spawn (as elsewhere) starts a new interpreter, with hash() seeded anew.
    monkeypatch.setattr(first_pass, "CHECK_START_METHOD", start_method)
    parts = first_pass.part_starts(file.open("rb"), file.stat().st_size, processes)
    assert len(parts) == processes

    def checked(processes: int) -> Checked:
        with ImportSource(file, None) as source:
            return source.check(CATALOGUE, processes)

    whole, in_parts = checked(1), checked(processes)
    assert (in_parts.rows, in_parts.lines) == (whole.rows, whole.lines)
    assert in_parts.invalid == whole.invalid
    assert [in_parts.forms[line] for line in range(1, whole.lines + 2)] == [
        whole.forms[line] for line in range(1, whole.lines + 2)
    ]
    # Every kind was met, and repeats were found (across parts too, with this many).
    forms = {whole.forms[line] for line in range(1, whole.lines + 1)}
    assert forms == set(LineForm)
    repeats = {
        bad_row.line: int(bad_row.problem.rsplit(" ", 1)[1])
        for bad_row in whole.invalid
        if "already appears on line" in bad_row.problem
    }
    first_part_ends = whole.lines * 0.9 / processes
    last_part_starts = whole.lines * (processes - 1.1) / processes
    assert any(
        line > last_part_starts and first < first_part_ends for line, first in repeats.items()
    )
