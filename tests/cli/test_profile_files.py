"""The file formats of import/export, without a stack: line numbers, cells, headers, round trip."""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from movement_profiles_cli.transfer.files import (
    FileFormat,
    FileProblem,
    RecordWriter,
    SourceRow,
    jsonl_lines,
    parse_array_cell,
    read_rows,
)

USER = "11111111-1111-4111-8111-111111111111"
RECORD = {
    "id": "d96ea403-92c6-406e-874b-ca36118b3ef7",
    "user_id": USER,
    "training_preferences": ["strength_training", "yoga"],
    "goals": ["rehab"],
    "custom_fields": {"injuries": ["knee", "lower_back"], "équipement": []},
    "created_at": "2026-11-26T11:56:50.270710Z",
    "updated_at": "2026-11-26T11:57:00.000001Z",
}


def rows(text: str, file_format: FileFormat) -> list[SourceRow]:
    return list(read_rows(io.BytesIO(text.encode()), file_format))


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


def test_a_record_that_is_not_valid_csv_ends_on_its_line_and_reading_goes_on() -> None:
    text = (
        "user_id,training_preferences,goals\n"
        'a,"[""yoga""]"x,rehab\n'  # text after a closing quote
        'b,"' + "y" * 140_000 + '",rehab\n'  # a cell over csv's size limit
        "c,yoga,rehab\n"
    )
    read = rows(text, FileFormat.csv)
    assert [(row.line, row.problem) for row in read] == [
        (2, "not valid CSV (',' expected after '\"')"),
        (3, "not valid CSV (field larger than field limit (131072))"),
        (4, None),
    ]


def test_a_quote_left_open_makes_its_line_one_bad_record_and_the_next_lines_are_read() -> None:
    text = 'user_id,training_preferences,goals\na,"yoga,rehab\nb,yoga,rehab\nc,yoga,rehab\n'
    read = rows(text, FileFormat.csv)
    assert [row.line for row in read] == [2, 3, 4]
    assert read[0].problem is not None
    assert "not closed within 100 lines" in read[0].problem
    assert [row.fields for row in read[1:]] == [
        {"user_id": user, "training_preferences": ["yoga"], "goals": ["rehab"]} for user in "bc"
    ]


def test_a_quoted_cell_closing_within_100_lines_makes_one_record_of_them() -> None:
    spanned = "\n" * 98
    text = f'user_id,training_preferences,goals\na,"yoga{spanned}",rehab\nb,yoga,rehab\n'
    read = rows(text, FileFormat.csv)
    assert [row.line for row in read] == [2, 101]


def test_values_the_parser_cannot_take_are_row_problems_with_their_line() -> None:
    text = '{}\n{"user_id": ' + "1" * 5000 + "}\n" + "[" * 100_000 + "\n"
    read = rows(text, FileFormat.jsonl)
    assert [(row.line, row.problem) for row in read[1:]] == [
        (2, "not valid JSON (a number with more digits than Python reads)"),
        (3, "not valid JSON (nested too deeply)"),
    ]
    csv_text = "user_id,training_preferences,goals\na," + "[" * 5000 + ",rehab\n"
    [row] = rows(csv_text, FileFormat.csv)
    assert row.problem == "training_preferences is not a valid JSON array (nested too deeply)"


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


def test_text_that_is_not_utf8_is_a_file_problem_at_its_line() -> None:
    data = b'user_id,training_preferences,goals\n{"a": "\xff"}\n'
    for file_format in FileFormat:
        with pytest.raises(FileProblem, match=r"^line 2: the file is not UTF-8 text"):
            list(read_rows(io.BytesIO(data), file_format))


def test_lines_end_as_in_text_mode_and_a_byte_order_mark_is_not_part_of_line_1() -> None:
    text = '\ufeff{"user_id": "a"}\r\n{"user_id": "b"}\r{"user_id": "c"}\n\r\n{"user_id": "d"}'
    assert rows(text, FileFormat.jsonl) == [
        SourceRow(1, fields={"user_id": "a"}),
        SourceRow(2, fields={"user_id": "b"}),
        SourceRow(3, fields={"user_id": "c"}),
        SourceRow(5, fields={"user_id": "d"}),
    ]
    text_lines = list(enumerate(io.StringIO("a\rb\r\r\nc\r", newline=""), start=1))
    assert text_lines == [(1, "a\r"), (2, "b\r"), (3, "\r\n"), (4, "c\r")]
    lines = jsonl_lines(io.BytesIO(b"a\rb\r\r\nc\r"))
    assert [(number, line.decode()) for number, line in lines] == text_lines


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
        "id,user_id,training_preferences,goals,custom_fields,created_at,updated_at",
        f"{RECORD['id']},{USER},strength_training|yoga,rehab,"
        '"{""injuries"":[""knee"",""lower_back""],""équipement"":[]}",'
        f"{RECORD['created_at']},{RECORD['updated_at']}",
    ]


def test_an_export_page_is_written_as_each_profile_printed_alone() -> None:
    """`export` writes a page at a time: a line a profile, compact JSON with exactly the fields
    and values of its `--json` record, whatever the timestamps' fractions and offsets; CSV the
    same rows as record by record."""
    from movement_profiles import MovementProfile
    from movement_profiles_cli.commands.output import profile_record

    moments = [
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, 7, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    ]
    profiles = [
        MovementProfile(
            id=uuid.uuid4(),
            user_id=uuid.uuid4(),
            training_preferences=["yoga", "strength_training"][: 1 + index % 2],
            goals=["rehab"],
            created_at=moment,
            updated_at=moments[index - 1],
        )
        for index, moment in enumerate(moments)
    ]
    jsonl = io.StringIO(newline="")
    RecordWriter(jsonl, FileFormat.jsonl).write_profiles(profiles)
    lines = jsonl.getvalue().split("\n")
    assert lines.pop() == ""
    assert [json.loads(line) for line in lines] == [profile_record(p) for p in profiles]
    assert lines == [json.dumps(profile_record(p), separators=(",", ":")) for p in profiles]
    csv_page, csv_rows = io.StringIO(newline=""), io.StringIO(newline="")
    RecordWriter(csv_page, FileFormat.csv).write_profiles(profiles)
    one_by_one = RecordWriter(csv_rows, FileFormat.csv)
    for profile in profiles:
        one_by_one.write(profile_record(profile))
    assert csv_page.getvalue() == csv_rows.getvalue()
