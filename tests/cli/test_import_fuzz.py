"""The import's first pass under hostile bytes, generated: every record of the file is counted
exactly once, as valid or as a bad row with its line, or the whole file is refused with the line
at fault; no exception escapes, and every reported problem is one printable line.

What "a record" is comes from profile_files' docstring; the expectations below are worked out
again from the bytes by a plain reference (the standard library's line splitting and a
character-by-character CSV state machine), not by the code under test. `make test` runs a
hundred examples per property, `make soak` thousands (MOVEMENT_PROFILES_FUZZ_EXAMPLES).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import os
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from movement_profiles_cli.commands.transfer import exits_on_input_errors
from movement_profiles_cli.transfer import files as profile_files
from movement_profiles_cli.transfer import first_pass as checking
from movement_profiles_cli.transfer.files import (
    MAX_PROBLEM_CHARS,
    MAX_RECORD_LINES,
    PROFILE_COLUMNS,
)
from movement_profiles_cli.transfer.first_pass import Checked
from movement_profiles_cli.transfer.rows import LineForm
from movement_profiles_cli.transfer.source import ImportSource
from tests.cli.conftest import offline_catalogue

EXAMPLES = int(os.environ.get("MOVEMENT_PROFILES_FUZZ_EXAMPLES", "250"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

USERS = [str(uuid.UUID(int=number)) for number in range(1, 5)]  # few: user_ids repeat
#: The allowed values the rows are judged against: the shipped ones and an added field.
CATALOGUE = offline_catalogue(("injuries", ["knee", "shoulder"], False))
ENDINGS = [b"\n", b"\r\n", b"\r", b""]


# -- what is expected, from the bytes alone ----------------------------------------------------


def reference_lines(data: bytes) -> list[bytes]:
    """The file's lines, as text mode with newline="" splits them (`\\n`, `\\r\\n`, a lone
    `\\r`), with a byte-order mark before line 1 removed."""
    data = data.removeprefix(codecs.BOM_UTF8)
    return [line.encode("latin-1") for line in io.StringIO(data.decode("latin-1"), newline="")]


def first_undecodable(lines: list[bytes]) -> int | None:
    for number, line in enumerate(lines, 1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            return number
    return None


def jsonl_record_lines(lines: list[bytes]) -> list[int]:
    return [number for number, line in enumerate(lines, 1) if line.decode("utf-8").strip()]


def record_end(lines: list[str], first: int) -> int | None:
    """The index of the last line of the CSV record that starts at `first`, or None when a
    quote it opens is still open after MAX_RECORD_LINES lines or at the end of the file."""
    state = "field"
    for index in range(first, min(first + MAX_RECORD_LINES, len(lines))):
        for character in lines[index]:
            if state == "field":
                state = "quoted" if character == '"' else "field" if character == "," else "plain"
            elif state == "plain":
                state = "field" if character == "," else "plain"
            elif state == "quoted":
                state = "closing" if character == '"' else "quoted"
            elif state == "closing":
                state = "quoted" if character == '"' else "field" if character == "," else "error"
        if state != "quoted":
            return index
        state = "quoted"
    return None


def blank(record: list[str]) -> bool:
    try:
        rows = list(csv.reader(record, strict=True))
    except csv.Error:
        return False
    return all(not cell.strip() for row in rows for cell in row)


def csv_record_lines(lines: list[str]) -> tuple[list[str] | None, list[int]]:
    """The header record's lines (None if it cannot end) and the first lines of the records
    after it that are not blank."""
    records: list[tuple[int, list[str] | None]] = []
    index = 0
    while index < len(lines):
        end = record_end(lines, index)
        if end is None:
            records.append((index + 1, None))
            index += 1
            continue
        records.append((index + 1, lines[index : end + 1]))
        index = end + 1
    if not records:
        return None, []
    header = records[0][1]
    return header, [line for line, record in records[1:] if record is None or not blank(record)]


# -- what the first pass says ----------------------------------------------------------------


@dataclass
class Verdict:
    checked: Checked | None
    refused: str | None


def first_pass(data: bytes, suffix: str, block: int, processes: int) -> Verdict:
    """`ImportSource.check` of a file holding `data`, read `block` bytes at a time: what it
    found, or the one line it printed when it refused the file (any other exception fails)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"profiles{suffix}"
        path.write_bytes(data)
        stderr = io.StringIO()
        with (
            mock.patch.object(profile_files, "READ_BLOCK_BYTES", block),
            mock.patch.object(checking, "PARALLEL_CHECK_BYTES", 0 if processes > 1 else 1 << 40),
            contextlib.redirect_stderr(stderr),
            ImportSource(path, None) as source,
        ):
            try:
                with exits_on_input_errors():
                    return Verdict(source.check(CATALOGUE, processes), None)
            except typer.Exit as exit:
                exit_code = exit.exit_code
    assert exit_code == 2
    lines = stderr.getvalue().splitlines()
    assert len(lines) == 1, lines
    return Verdict(None, lines[0])


def assert_counted_once(checked: Checked, expected_lines: list[int], line_count: int) -> None:
    invalid_lines = [bad_row.line for bad_row in checked.invalid]
    valid_lines = [
        line for line in range(1, line_count + 2) if checked.forms[line] != LineForm.SKIPPED
    ]
    assert len(set(invalid_lines)) == len(invalid_lines), invalid_lines
    assert not set(invalid_lines) & set(valid_lines)
    assert (
        checked.rows
        == len(invalid_lines) + len(valid_lines)
        == checked.valid_rows + len(invalid_lines)
    )
    assert sorted([*invalid_lines, *valid_lines]) == expected_lines
    for bad_row in checked.invalid:
        shown = str(bad_row)
        assert shown.isprintable(), shown
        shown.encode("utf-8")  # no lone surrogate
        assert len(bad_row.problem) <= MAX_PROBLEM_CHARS + 3


def assert_refused_at(refusal: str | None, line: int) -> None:
    assert refusal is not None
    assert f": line {line}: the file is not UTF-8 text" in refusal, refusal


# -- hostile pieces ----------------------------------------------------------------------------


def profile(
    user: str, preferences: Sequence[str] = ("yoga",), goals: Sequence[str] = ("rehab",)
) -> dict[str, object]:
    return {"user_id": user, "training_preferences": list(preferences), "goals": list(goals)}


HOSTILE_BYTES = st.sampled_from(
    [
        b"\xff",
        b"\xc3",  # a sequence cut short
        b"\xed\xa0\x80",  # a surrogate, encoded
        b"\x00",
        codecs.BOM_UTF8,
        b'"',
        b",",
        b"\\",
        b"[",
        b"\x1c",  # a separator str.strip() takes for whitespace
        "\u2028".encode(),
    ]
)


@st.composite
def jsonl_line(draw: st.DrawFn) -> bytes:
    user = draw(st.sampled_from(USERS))
    kind = draw(st.integers(0, 11))
    if kind == 0:
        text = json.dumps(profile(user))
    elif kind == 1:
        text = json.dumps(profile(user, goals=["dance"]))
    elif kind == 2:
        text = '{"user_id": ' + "1" * draw(st.integers(4290, 4400)) + "}"
    elif kind == 3:
        depth = draw(st.sampled_from([500, 1000, 5000, 100_000]))
        text = "[" * depth + "]" * draw(st.sampled_from([0, depth]))
    elif kind == 4:
        text = json.dumps(profile(user, preferences=["yo\\ud800"])).replace("\\\\", "\\")
    elif kind == 5:
        text = json.dumps(profile(user, goals=["yo\u0000ga"]))
    elif kind == 6:
        text = json.dumps(profile(user, goals=[draw(st.text(max_size=30))]))
    elif kind == 7:
        text = draw(st.sampled_from(["", "   ", "\t", "null", "[]", '"x"', "{}", "{"]))
    elif kind == 8:
        return draw(st.binary(max_size=40))
    elif kind == 9:
        # An unknown key, or custom_fields holding anything at all.
        key = draw(st.sampled_from(["custom_fields", "custom_fields", "x"]))
        value = draw(
            st.recursive(
                st.none()
                | st.integers()
                | st.text(max_size=8)
                | st.sampled_from(["knee", "injuries"]),
                lambda inner: (
                    st.lists(inner, max_size=3)
                    | st.dictionaries(
                        st.sampled_from(["injuries", "goals", "x", ""]), inner, max_size=3
                    )
                ),
                max_leaves=6,
            )
        )
        text = json.dumps({**profile(user), key: value})
    elif kind == 10:
        text = draw(st.text(max_size=40))
        return text.encode("utf-8", "surrogatepass")
    else:
        base = json.dumps(profile(user)).encode()
        at = draw(st.integers(0, len(base)))
        return base[:at] + draw(HOSTILE_BYTES) + base[at:]
    return text.encode("utf-8", "surrogatepass")


CSV_HEADERS = [
    b"user_id,training_preferences,goals",
    b"goals,user_id,training_preferences,id,created_at,updated_at",
    codecs.BOM_UTF8 + b"user_id,training_preferences,goals",
]


@st.composite
def csv_line(draw: st.DrawFn) -> bytes:
    user = draw(st.sampled_from(USERS))
    kind = draw(st.integers(0, 11))
    cells: list[bytes]
    if kind == 0:
        cells = [user.encode(), b"yoga|running", b"rehab"]
    elif kind == 1:
        cells = [user.encode(), b'"[""yoga""]"x', b"rehab"]  # a quote closed too early
    elif kind == 2:
        cells = [user.encode(), b'"' + b"y" * draw(st.sampled_from([10, 140_000])) + b'"', b"x"]
    elif kind == 3:
        cells = [user.encode(), b"[" * draw(st.sampled_from([100, 5000])), b"rehab"]
    elif kind == 4:
        cells = [user.encode(), b'"yoga', b"rehab"]  # a quote left open
    elif kind == 5:
        cells = [user.encode(), b'"yoga|\nrunning"', b"rehab"]  # a line break in a cell
    elif kind == 6:
        cells = [user.encode(), b'"[""' + b"1" * 4400 + b'""]"', b"rehab"]
    elif kind == 7:
        return draw(st.sampled_from([b"", b",,", b" , , ", b'""', b'"', b'""""']))
    elif kind == 8:
        return draw(st.binary(max_size=40))
    elif kind == 9:
        return draw(st.text(alphabet=st.sampled_from(',"\r\n ax|['), max_size=20)).encode()
    elif kind == 10:
        return draw(st.text(max_size=40)).encode("utf-8", "surrogatepass")
    else:
        base = b",".join([user.encode(), b"yoga", b"rehab"])
        at = draw(st.integers(0, len(base)))
        return base[:at] + draw(HOSTILE_BYTES) + base[at:]
    return b",".join(cells)


def joined(draw: st.DrawFn, lines: list[bytes]) -> bytes:
    return b"".join(line + draw(st.sampled_from(ENDINGS[:3])) for line in lines[:-1]) + (
        lines[-1] + draw(st.sampled_from(ENDINGS)) if lines else b""
    )


@st.composite
def jsonl_file(draw: st.DrawFn) -> bytes:
    prefix = draw(st.sampled_from([b"", codecs.BOM_UTF8]))
    return prefix + joined(draw, draw(st.lists(jsonl_line(), max_size=12)))


@st.composite
def csv_file(draw: st.DrawFn) -> bytes:
    # Under a header of six columns, rows of three cells are bad rows: still counted once.
    header = draw(st.sampled_from(CSV_HEADERS))
    return joined(draw, [header, *draw(st.lists(csv_line(), max_size=12))])


READING = st.tuples(st.sampled_from([1, 2, 3, 7, 64, 1 << 20]), st.sampled_from([1, 1, 1, 2]))


@SETTINGS
@given(data=jsonl_file(), reading=READING)
def test_every_jsonl_record_is_counted_once_or_the_file_refused_at_its_line(
    data: bytes, reading: tuple[int, int]
) -> None:
    block, processes = reading
    verdict = first_pass(data, ".jsonl", block, processes)
    lines = reference_lines(data)
    undecodable = first_undecodable(lines)
    if undecodable is not None:
        assert_refused_at(verdict.refused, undecodable)
        return
    assert verdict.checked is not None, verdict.refused
    assert verdict.checked.lines == len(lines)
    assert_counted_once(verdict.checked, jsonl_record_lines(lines), len(lines))


@SETTINGS
@given(data=csv_file(), block=st.sampled_from([1, 2, 3, 7, 64, 1 << 20]))
def test_every_csv_record_is_counted_once_or_the_file_refused_at_its_line(
    data: bytes, block: int
) -> None:
    verdict = first_pass(data, ".csv", block, 1)
    lines = reference_lines(data)
    undecodable = first_undecodable(lines)
    if undecodable is not None:
        assert_refused_at(verdict.refused, undecodable)
        return
    header, expected = csv_record_lines([line.decode("utf-8") for line in lines])
    assert header is not None
    assert set(next(csv.reader(header))) <= set(PROFILE_COLUMNS)
    assert verdict.checked is not None, verdict.refused
    assert_counted_once(verdict.checked, expected, len(lines))


@SETTINGS
@given(
    data=st.one_of(st.binary(max_size=300), jsonl_file(), csv_file()),
    suffix=st.sampled_from([".jsonl", ".csv"]),
)
def test_any_bytes_are_judged_or_refused_in_one_line(data: bytes, suffix: str) -> None:
    verdict = first_pass(data, suffix, 1 << 20, 1)
    if verdict.checked is None:
        assert verdict.refused is not None
        assert verdict.refused.isprintable()
        return
    checked = verdict.checked
    invalid_lines = {bad_row.line for bad_row in checked.invalid}
    assert len(invalid_lines) == len(checked.invalid)
    assert checked.rows == checked.valid_rows + len(checked.invalid)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_a_line_longer_than_the_limit_is_one_bad_row_and_the_rows_after_it_count(
    suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(profile_files, "MAX_LINE_BYTES", 1000)
    if suffix == ".jsonl":
        header, good = [], [json.dumps(profile(user)).encode() for user in USERS[:2]]
    else:
        header, good = (
            [b"user_id,training_preferences,goals"],
            [f"{user},yoga,rehab".encode() for user in USERS[:2]],
        )
    # The second long line opens a quote: too long to tell where it ends, it ends there.
    data = b"\n".join([*header, b"x" * 5000, good[0], b'"' + b"y" * 5000, good[1]]) + b"\n"
    first = len(header) + 1
    for block in (7, 100, 1 << 20):
        checked = first_pass(data, suffix, block, 1).checked
        assert checked is not None
        assert [row.line for row in checked.invalid] == [first, first + 2]
        assert all("longer than 1,000 bytes" in row.problem for row in checked.invalid)
        assert checked.forms[first + 1] == checked.forms[first + 3] != LineForm.SKIPPED
