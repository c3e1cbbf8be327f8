"""The file formats of import/export, without a stack: line numbers, cells, headers, round trip."""

from __future__ import annotations

import io

import pytest

from movement_profiles_cli.commands.profile_files import (
    FileFormat,
    FileProblem,
    RecordWriter,
    SourceRow,
    parse_array_cell,
    read_rows,
)

USER = "11111111-1111-4111-8111-111111111111"
RECORD = {
    "id": "d96ea403-92c6-406e-874b-ca36118b3ef7",
    "user_id": USER,
    "training_preferences": ["strength_training", "yoga"],
    "goals": ["rehab"],
    "created_at": "2026-11-26T11:56:50.270710Z",
    "updated_at": "2026-11-26T11:57:00.000001Z",
}


def rows(text: str, file_format: FileFormat) -> list[SourceRow]:
    return list(read_rows(io.StringIO(text, newline=""), file_format))


def test_jsonl_counts_lines_as_an_editor_does_and_skips_blank_ones() -> None:
    text = '{"user_id": "a"}\n\n   \n{"user_id": "b"}\n[1]\n{oops\n'
    assert rows(text, FileFormat.jsonl) == [
        SourceRow(1, fields={"user_id": "a"}),
        SourceRow(4, fields={"user_id": "b"}),
        SourceRow(5, problem="expected a JSON object"),
        SourceRow(6, problem="not valid JSON (Expecting property name enclosed in double quotes)"),
    ]


def test_csv_rows_start_on_their_own_line_even_after_a_multiline_cell() -> None:
    text = 'goals,user_id,training_preferences\nrehab,a,"yoga|\nrunning"\n\nlose_fat,b,mixed\n'
    assert rows(text, FileFormat.csv) == [
        SourceRow(
            2,
            fields={
                "goals": ["rehab"],
                "user_id": "a",
                "training_preferences": ["yoga", "running"],
            },
        ),
        SourceRow(
            5, fields={"goals": ["lose_fat"], "user_id": "b", "training_preferences": ["mixed"]}
        ),
    ]


def test_csv_optional_columns_may_be_empty_and_required_ones_may_not() -> None:
    text = "id,user_id,training_preferences,goals,created_at\n,a,yoga,rehab,\n1,,yoga,rehab,\n"
    assert rows(text, FileFormat.csv) == [
        SourceRow(2, fields={"user_id": "a", "training_preferences": ["yoga"], "goals": ["rehab"]}),
        SourceRow(3, problem="user_id is empty"),
    ]


def test_csv_row_with_the_wrong_number_of_cells() -> None:
    assert rows("user_id,training_preferences,goals\na,yoga\n", FileFormat.csv) == [
        SourceRow(2, problem="expected 3 cells as in the header, got 2")
    ]


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("yoga|running", ["yoga", "running"]),
        (" yoga | running ", ["yoga", "running"]),
        ('["yoga", "running"]', ["yoga", "running"]),
        ('["yoga", 1]', ["yoga", 1]),
        ("", []),
        ("yoga||running", ["yoga", "", "running"]),
    ],
)
def test_array_cells(cell: str, value: object) -> None:
    assert parse_array_cell(cell.strip()) == value


def test_a_broken_json_array_cell_is_a_row_problem() -> None:
    [row] = rows('user_id,training_preferences,goals\na,"[""yoga""",rehab\n', FileFormat.csv)
    assert row.line == 2
    assert row.problem is not None
    assert row.problem.startswith("training_preferences is not a valid JSON array")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("", "empty"),
        ("user_id,training_preferences\n", "lacks the required column 'goals'"),
        ("user_id,training_preferences,goals,goal\n", "unknown CSV column 'goal'"),
        ("user_id,user_id,training_preferences,goals\n", "'user_id' appears twice"),
    ],
)
def test_csv_headers_that_cannot_work(header: str, message: str) -> None:
    with pytest.raises(FileProblem, match=message):
        rows(header, FileFormat.csv)


def test_text_that_is_not_utf8_is_a_file_problem() -> None:
    stream = io.TextIOWrapper(io.BytesIO(b'{"a": "\xff"}\n'), encoding="utf-8")
    with pytest.raises(FileProblem, match="UTF-8"):
        list(read_rows(stream, FileFormat.jsonl))


@pytest.mark.parametrize("file_format", list(FileFormat))
def test_what_the_writer_writes_the_reader_reads(file_format: FileFormat) -> None:
    stream = io.StringIO(newline="")
    writer = RecordWriter(stream, file_format)
    writer.write(RECORD)
    writer.write({**RECORD, "user_id": "b", "goals": ["rehab", "lose_fat"]})
    read = rows(stream.getvalue(), file_format)
    first_line = 1 if file_format is FileFormat.jsonl else 2
    assert read == [
        SourceRow(first_line, fields=RECORD),
        SourceRow(
            first_line + 1, fields={**RECORD, "user_id": "b", "goals": ["rehab", "lose_fat"]}
        ),
    ]


def test_csv_export_joins_arrays_with_a_pipe() -> None:
    stream = io.StringIO(newline="")
    RecordWriter(stream, FileFormat.csv).write(RECORD)
    assert stream.getvalue().splitlines() == [
        "id,user_id,training_preferences,goals,created_at,updated_at",
        f"{RECORD['id']},{USER},strength_training|yoga,rehab,"
        f"{RECORD['created_at']},{RECORD['updated_at']}",
    ]
