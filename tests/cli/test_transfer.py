"""`import` and `export` against the real stack: bad rows, missing users, formats, round trips."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from movement_profiles.catalogue import Catalogue
from movement_profiles.options import Goal, TrainingPreference
from movement_profiles_cli.commands._common import ExitCode
from movement_profiles_cli.stack.state import StackState
from tests.cli.conftest import (
    PROFILE_FIELDS,
    Cli,
    Database,
    delete_users,
    offline_catalogue,
    stored_profile,
)
from tests.support.users import create_auth_users

pytestmark = pytest.mark.integration

FreshUsers = Callable[[int], list[uuid.UUID]]


def jsonl(rows: Sequence[object]) -> str:
    return "".join(f"{row if isinstance(row, str) else json.dumps(row)}\n" for row in rows)


def profile(
    user_id: uuid.UUID, preferences: object = ("yoga",), goals: object = ("rehab",)
) -> dict[str, object]:
    return {
        "user_id": str(user_id),
        "training_preferences": list(preferences)
        if isinstance(preferences, tuple)
        else preferences,
        "goals": list(goals) if isinstance(goals, tuple) else goals,
    }


def stderr_lines(stderr: str) -> list[str]:
    return stderr.strip().splitlines()


def count_profiles(db: Database, users: Sequence[uuid.UUID]) -> int:
    row = db.execute(
        "select count(*) from public.movement_profiles where user_id = any(%s)",
        ([str(user) for user in users],),
    ).fetchone()
    assert row is not None
    return int(str(row[0]))


# -- validation before writing --------------------------------------------------------------------


def test_a_jsonl_file_with_bad_rows_writes_nothing_and_reports_each_line(
    cli: Cli, fresh_users: FreshUsers, db: Database, tmp_path: Path
) -> None:
    users = fresh_users(4)
    file = tmp_path / "profiles.jsonl"
    file.write_text(
        jsonl(
            [
                profile(users[0]),
                profile(users[1], goals=("dance",)),
                "",
                "{not json",
                profile(users[2], preferences=()),
                {**profile(users[3]), "goal": ["rehab"]},
                profile(users[0], goals=("lose_fat",)),
                {"training_preferences": ["yoga"], "goals": ["rehab"]},
                profile(users[3], goals=("rehab", "rehab")),
                {**profile(users[3]), "id": str(uuid.uuid4())},
            ]
        )
    )
    result = cli.run("import", str(file))
    assert result.exit_code == ExitCode.INVALID_INPUT
    *reports, summary = stderr_lines(result.stderr)
    assert reports == [
        'line 2: goals contains an invalid value: "dance"',
        "line 4: not valid JSON (Expecting property name enclosed in double quotes)",
        "line 5: training_preferences must contain at least one value",
        'line 6: unknown field "goal"',
        f"line 7: user_id {users[0]} already appears on line 1",
        "line 8: user_id is required",
        'line 9: goals contains a duplicate value: "rehab"',
        "line 10: id, created_at and updated_at go together: give all three, or none",
    ]
    assert summary.startswith("error: 8 invalid rows")
    assert "nothing was written" in summary
    assert count_profiles(db, users) == 0


def test_a_csv_file_with_bad_rows_writes_nothing(
    cli: Cli, fresh_users: FreshUsers, db: Database, tmp_path: Path
) -> None:
    good, dance, bad_json = fresh_users(3)
    file = tmp_path / "profiles.csv"
    file.write_text(
        "user_id,training_preferences,goals\n"
        f"{good},yoga|running,rehab\n"
        f"{dance},yoga,dance|rehab\n"
        "not-a-uuid,yoga,rehab\n"
        f'{bad_json},"[""yoga""",rehab\n'
        f"{good},yoga\n"
    )
    result = cli.run("import", str(file), "--json")
    assert result.exit_code == ExitCode.INVALID_INPUT
    outcome = json.loads(result.stdout)
    assert outcome["imported"] == 0
    assert outcome["rows"] == 5
    lines = [bad_row["line"] for bad_row in outcome["invalid"]]
    assert lines == [3, 4, 5, 6]
    assert outcome["invalid"][0]["problem"] == 'goals contains an invalid value: "dance"'
    assert outcome["invalid"][1]["problem"].startswith("user_id:")
    assert "not a valid JSON array" in outcome["invalid"][2]["problem"]
    assert "expected 3 cells" in outcome["invalid"][3]["problem"]
    assert count_profiles(db, [good, dance, bad_json]) == 0


def test_skip_invalid_writes_the_valid_rows_and_still_reports_the_bad(
    cli: Cli, fresh_users: FreshUsers, db: Database, tmp_path: Path
) -> None:
    good, also_good, bad = fresh_users(3)
    file = tmp_path / "profiles.jsonl"
    file.write_text(
        jsonl([profile(good), profile(bad, goals=("dance",)), profile(also_good, ("mixed",))])
    )
    result = cli.run("import", str(file), "--skip-invalid")
    assert result.exit_code == 0, result.stderr
    assert stderr_lines(result.stderr) == ['line 2: goals contains an invalid value: "dance"']
    assert "Imported 2 profiles" in result.stdout
    assert "skipped 1 invalid row" in result.stdout
    assert stored_profile(db, also_good)[:2] == (["mixed"], ["rehab"])  # type: ignore[index]
    assert stored_profile(db, bad) is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("user_id,training_preferences\n", "'goals'"),
        ("user_id,training_preferences,goals,goal\n", "unknown CSV column 'goal'"),
    ],
)
def test_a_csv_header_that_cannot_work_is_one_line(
    cli: Cli, tmp_path: Path, content: str, message: str
) -> None:
    file = tmp_path / "profiles.csv"
    file.write_text(content)
    result = cli.run("import", str(file))
    assert result.exit_code == ExitCode.INVALID_INPUT
    [line] = stderr_lines(result.stderr)
    assert line.startswith("error: ")
    assert message in line


def test_files_that_cannot_be_read_are_usage_errors(cli: Cli, tmp_path: Path) -> None:
    missing = cli.run("import", str(tmp_path / "missing.jsonl"))
    assert missing.exit_code == ExitCode.INVALID_INPUT
    unknown = tmp_path / "profiles.txt"
    unknown.write_text("")
    no_format = cli.run("import", str(unknown))
    assert no_format.exit_code == ExitCode.INVALID_INPUT
    assert "--format" in no_format.stderr
    binary = tmp_path / "profiles.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    not_text = cli.run("import", str(binary))
    assert not_text.exit_code == ExitCode.INVALID_INPUT
    assert "UTF-8" in not_text.stderr


@pytest.mark.parametrize(
    "broken_cell",
    [
        '"[""yoga""]"x',  # a quote closed before the cell ends
        '"' + "y" * 140_000 + '"',  # a cell over csv's field size limit
        '"yoga',  # a quote never closed
    ],
    ids=["quote-then-text", "huge-cell", "open-quote"],
)
def test_a_malformed_csv_record_is_one_bad_row_and_the_rows_after_it_are_imported(
    cli: Cli, fresh_users: FreshUsers, db: Database, tmp_path: Path, broken_cell: str
) -> None:
    users = fresh_users(4)
    file = tmp_path / "profiles.csv"
    file.write_text(
        "user_id,training_preferences,goals\n"
        f"{users[0]},yoga,rehab\n"
        f"{users[1]},{broken_cell},rehab\n"
        f"{users[2]},running,lose_fat\n"
        f"{users[3]},mixed,general_health\n"
    )
    refused = cli.run("import", str(file))
    assert refused.exit_code == ExitCode.INVALID_INPUT
    [report, summary] = stderr_lines(refused.stderr)
    assert report.startswith("line 3: ")
    assert summary.startswith("error: 1 invalid row")
    assert "nothing was written" in summary
    assert "the 3 valid rows" in summary
    assert count_profiles(db, users) == 0

    skipped = cli.run("import", str(file), "--skip-invalid")
    assert skipped.exit_code == 0, skipped.stderr
    assert stderr_lines(skipped.stderr) == [report]
    assert "Imported 3 profiles" in skipped.stdout
    assert "skipped 1 invalid row" in skipped.stdout
    assert count_profiles(db, users) == 3
    assert stored_profile(db, users[1]) is None
    assert stored_profile(db, users[3])[:2] == (["mixed"], ["general_health"])  # type: ignore[index]

    outcome = json.loads(cli.run("import", str(file), "--skip-invalid", "--json").stdout)
    assert {key: outcome[key] for key in ("rows", "imported", "skipped", "not_written")} == {
        "rows": 4,
        "imported": 3,
        "skipped": 1,
        "not_written": 0,
    }
    assert [row["line"] for row in outcome["invalid"]] == [3]


HOSTILE_FILES: dict[str, tuple[str, bytes, str]] = {
    # name: (suffix, content, what the one line says)
    "number of 5,000 digits": (".jsonl", b'{"user_id": ' + b"1" * 5000 + b"}\n", "line 1: "),
    "nested 100,000 deep": (".jsonl", b"[" * 100_000 + b"\n", "line 1: "),
    "csv cell of 5,000 [": (
        ".csv",
        b"user_id,training_preferences,goals\n" + b"x," + b"[" * 5000 + b",rehab\n",
        "line 2: ",
    ),
    "invalid UTF-8 on line 2": (".jsonl", b'{}\n{"a": "\xff"}\n', "line 2: "),
    "invalid UTF-8 in csv": (".csv", b"user_id,training_preferences,goals\n\xc3\n", "line 2: "),
    "NUL": (".jsonl", b'{"user_id": "\x00"}\n', "line 1: "),
    "escaped NUL": (".jsonl", b'{"user_id": "a", "goals": ["yo\\u0000ga"]}\n', "line 1: "),
    "lone surrogate": (".jsonl", b'{"goals": ["\\ud800"], "user_id": "\\udfff"}\n', "line 1: "),
    "BOM mid-file": (".jsonl", b"{}\n\xef\xbb\xbf{}\n", "line 2: "),
    "binary": (".jsonl", bytes(range(256)) * 4, "line 3: "),  # after \\n and \\r
    "binary csv": (".csv", bytes(range(256)) * 4, "line 1: "),
    "enormous line": (".jsonl", b"{}\n" + b" " * (3 * 1024 * 1024) + b"x\n", "line 2: "),
    "empty csv": (".csv", b"", "empty"),
}


@pytest.mark.parametrize("name", HOSTILE_FILES)
def test_hostile_files_get_one_line_with_the_line_number_and_exit_2(
    cli: Cli, tmp_path: Path, name: str
) -> None:
    suffix, content, expected = HOSTILE_FILES[name]
    file = tmp_path / f"hostile{suffix}"
    file.write_bytes(content)
    for arguments in ([], ["--json"], ["--skip-invalid"]):
        # Cli.run fails on any traceback or exception other than the exit.
        result = cli.run("import", str(file), *arguments)
        assert result.exit_code == ExitCode.INVALID_INPUT or (
            arguments == ["--skip-invalid"] and result.exit_code == 0
        ), result.stderr
        lines = stderr_lines(result.stderr)
        assert any(expected in line for line in lines), lines
        for line in lines:
            assert line.isprintable(), line
            assert len(line) < 1000


def test_paths_that_are_not_regular_files_are_refused_at_once(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "folder.jsonl"
    folder.mkdir()
    fifo = tmp_path / "fifo.jsonl"
    os.mkfifo(fifo)  # with no writer: opened as a file, it would block for ever
    for path, kind in ((folder, "a directory"), (fifo, "a pipe"), (Path("/dev/null"), "regular")):
        result = cli.run("import", str(path), "--format", "jsonl")
        assert result.exit_code == ExitCode.INVALID_INPUT
        [line] = stderr_lines(result.stderr)
        assert line.startswith(f"error: {path}: ")
        assert kind in line


def test_an_empty_jsonl_file_imports_nothing(cli: Cli, tmp_path: Path) -> None:
    file = tmp_path / "empty.jsonl"  # what `export` writes for an empty table
    file.write_bytes(b"")
    outcome = json.loads(cli.run("import", str(file), "--json").stdout)
    assert (outcome["rows"], outcome["imported"], outcome["skipped"]) == (0, 0, 0)


def test_standard_input_with_a_format(cli: Cli, fresh_users: FreshUsers, db: Database) -> None:
    [user] = fresh_users(1)
    content = f"user_id,training_preferences,goals\r\n{user},sports,general_health\r\n"
    result = cli.run("import", "-", "--format", "csv", input="\ufeff" + content)
    assert result.exit_code == 0, result.stderr
    assert stored_profile(db, user)[:2] == (["sports"], ["general_health"])  # type: ignore[index]


# -- writing --------------------------------------------------------------------------------------


def test_import_upserts_in_batches_and_reports_the_outcome(
    cli: Cli, fresh_users: FreshUsers, db: Database, tmp_path: Path
) -> None:
    users = fresh_users(7)
    existing = users[0]
    cli.json(
        "create", "--user-id", str(existing), "--training-preference", "yoga", "--goal", "rehab"
    )
    file = tmp_path / "profiles.jsonl"
    file.write_text(jsonl([profile(user, ("crossfit", "sports"), ("lose_fat",)) for user in users]))
    outcome = cli.json("import", str(file), "--batch-size", "3")
    assert outcome == {
        "file": str(file),
        "format": "jsonl",
        "rows": 7,
        "imported": 7,
        "skipped": 0,
        "not_written": 0,
        "users_created": 0,
        "invalid": [],
    }
    for user in users:
        assert stored_profile(db, user)[:2] == (["crossfit", "sports"], ["lose_fat"])  # type: ignore[index]
    # Importing the same file again changes nothing but updated_at.
    assert cli.json("import", str(file))["imported"] == 7


def test_rows_of_missing_auth_users_are_found_and_reported(
    cli: Cli, fresh_users: FreshUsers, db: Database, tmp_path: Path
) -> None:
    users = fresh_users(5)
    missing = [uuid.uuid4(), uuid.uuid4()]
    rows = [users[0], users[1], missing[0], users[2], users[3], missing[1], users[4]]
    file = tmp_path / "profiles.jsonl"
    file.write_text(jsonl([profile(user) for user in rows]))

    stopped = cli.run("import", str(file), "--batch-size", "4", "--in-flight", "1")
    assert stopped.exit_code == ExitCode.INVALID_INPUT
    *reports, summary = stderr_lines(stopped.stderr)
    # The first batch (lines 1-4) holds one missing user: found, reported, the rest written.
    assert reports == [f"line 3: user_id {missing[0]} names no auth user"]
    assert "stopped after writing 3 profiles of 7" in summary
    assert "--create-missing-users" in summary
    assert count_profiles(db, users) == 3

    # Two batches in flight (the default): the second was sent before the first was refused, so
    # it completes and is reported too, whatever the timing.
    db.execute("delete from public.movement_profiles where user_id = any(%s)", (users,))
    overlapped = cli.run("import", str(file), "--batch-size", "4")
    assert overlapped.exit_code == ExitCode.INVALID_INPUT
    *reports, summary = stderr_lines(overlapped.stderr)
    assert reports == [
        f"line 3: user_id {missing[0]} names no auth user",
        f"line 6: user_id {missing[1]} names no auth user",
    ]
    assert "stopped after writing 5 profiles of 7" in summary
    assert count_profiles(db, users) == 5

    skipped = cli.run("import", str(file), "--batch-size", "4", "--skip-invalid")
    assert skipped.exit_code == 0, skipped.stderr
    assert stderr_lines(skipped.stderr) == [
        f"line 3: user_id {missing[0]} names no auth user",
        f"line 6: user_id {missing[1]} names no auth user",
    ]
    assert count_profiles(db, users) == 5


def test_create_missing_users_adds_them_on_the_local_stack(
    cli: Cli, stack: StackState, db: Database, tmp_path: Path
) -> None:
    users = [uuid.uuid4() for _ in range(3)]
    file = tmp_path / "profiles.csv"
    file.write_text(
        "user_id,goals,training_preferences\n" + "".join(f"{user},rehab,yoga\n" for user in users)
    )
    try:
        outcome = cli.json(
            "import", str(file), "--create-missing-users", "--state-dir", str(stack.state_dir)
        )
        assert outcome["users_created"] == 3
        assert outcome["imported"] == 3
        assert count_profiles(db, users) == 3
    finally:
        delete_users(db, users)


def test_create_missing_users_refuses_anything_but_the_local_stack(
    cli: Cli, stack: StackState, tmp_path: Path
) -> None:
    file = tmp_path / "profiles.jsonl"
    file.write_text(jsonl([profile(uuid.uuid4())]))
    other_stack = tmp_path / "elsewhere"
    StackState(state_dir=other_stack, runtime_dir=other_stack, api_port=1).save()
    result = cli.run("import", str(file), "--create-missing-users", "--state-dir", str(other_stack))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "only against the local stack" in result.stderr


def test_a_bad_key_stops_the_import_with_exit_5(cli: Cli, tmp_path: Path) -> None:
    file = tmp_path / "profiles.jsonl"
    file.write_text(jsonl([profile(uuid.uuid4())]))
    url = str(cli.environment["SUPABASE_URL"])
    result = cli.run("import", str(file), "--url", url, "--key", "not-a-key")
    assert result.exit_code == ExitCode.NOT_ALLOWED
    # The catalogue is read first, to judge the rows: the import stops there, having read none.
    assert result.stderr.startswith("error: not authenticated: "), result.stderr
    assert len(result.stderr.splitlines()) == 1


# -- export ---------------------------------------------------------------------------------------


def test_export_writes_jsonl_and_csv_that_import_reads(
    cli: Cli, fresh_users: FreshUsers, tmp_path: Path
) -> None:
    users = fresh_users(2)
    for user in users:
        cli.json("create", "--user-id", str(user), "--training-preference", "yoga",
                 "--training-preference", "sports", "--goal", "rehab")  # fmt: skip
    expected = {str(user): cli.json("get", str(user)) for user in users}

    as_jsonl = cli.run("export")
    assert as_jsonl.exit_code == 0
    records = [json.loads(line) for line in as_jsonl.stdout.splitlines()]
    assert [record["user_id"] for record in records] == sorted(
        record["user_id"] for record in records
    )
    assert {
        record["user_id"]: record for record in records if record["user_id"] in expected
    } == expected

    as_csv = cli.run("export", "--format", "csv")
    assert as_csv.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert list(rows[0]) == PROFILE_FIELDS
    mine = {row["user_id"]: row for row in rows if row["user_id"] in expected}
    assert mine[str(users[0])]["training_preferences"] == "yoga|sports"
    assert mine[str(users[0])]["created_at"] == expected[str(users[0])]["created_at"]

    output = tmp_path / "backup.csv"
    to_file = cli.run("export", "--output", str(output), "--page-size", "1")
    assert to_file.exit_code == 0
    assert output.read_text() == as_csv.stdout
    assert f"to {output}" in to_file.stderr
    assert not list(tmp_path.glob(".backup.csv.*"))


def test_a_failed_export_leaves_no_file(cli: Cli, tmp_path: Path) -> None:
    output = tmp_path / "backup.jsonl"
    url = str(cli.environment["SUPABASE_URL"])
    result = cli.run("export", "--output", str(output), "--url", url, "--key", "not-a-key")
    assert result.exit_code == ExitCode.NOT_ALLOWED
    assert list(tmp_path.iterdir()) == []


# -- round trip -----------------------------------------------------------------------------------

ROUND_TRIP_PROFILES = 10_000


def lines_of(text: str, users: set[str], *, file_format: str) -> list[str]:
    """The lines of an export that belong to `users` (with the CSV header): the shared stack
    holds other tests' profiles too."""
    lines = text.splitlines()
    if file_format == "csv":
        return [lines[0], *(line for line in lines[1:] if line.split(",")[1] in users)]
    return [line for line in lines if json.loads(line)["user_id"] in users]


@pytest.mark.volume
@pytest.mark.parametrize("file_format", ["jsonl", "csv"])
def test_export_then_import_restores_10000_profiles_exactly(
    cli: Cli, stack: StackState, db: Database, tmp_path: Path, file_format: str
) -> None:
    """What export -> `stack reset` -> import does, on this test's profiles only: the users and
    their profiles are deleted (as a reset would), then imported with --create-missing-users."""
    users = create_auth_users(db, ROUND_TRIP_PROFILES)
    try:
        db.execute(
            """
            insert into public.movement_profiles (user_id, training_preferences, goals)
            select id,
                   (array['["yoga"]', '["running", "yoga"]', '["crossfit", "mixed", "sports"]'])
                     [1 + n %% 3]::jsonb,
                   (array['["rehab"]', '["lose_fat", "build_muscle"]', '["general_health"]'])
                     [1 + n %% 5 %% 3]::jsonb
            from unnest(%s::uuid[]) with ordinality as u(id, n)
            """,
            ([str(user) for user in users],),
        )
        # Distinct updated_at values, as a live table has.
        db.execute(
            "update public.movement_profiles set goals = goals where user_id = any(%s) "
            "and user_id::text < '8'",
            ([str(user) for user in users],),
        )
        mine = {str(user) for user in users}
        started = time.monotonic()
        exported = cli.run("export", "--format", file_format)
        assert exported.exit_code == 0, exported.stderr
        backup = tmp_path / f"backup.{file_format}"
        backup.write_text(
            "\n".join(lines_of(exported.stdout, mine, file_format=file_format)) + "\n"
        )

        delete_users(db, users)
        assert count_profiles(db, users) == 0

        imported = cli.run(
            "import", str(backup), "--create-missing-users", "--state-dir", str(stack.state_dir)
        )
        assert imported.exit_code == 0, imported.stderr
        assert f"Imported {ROUND_TRIP_PROFILES:,} profiles" in imported.stdout
        again = cli.run("export", "--format", file_format)
        elapsed = time.monotonic() - started
        restored = lines_of(again.stdout, mine, file_format=file_format)
        assert restored == backup.read_text().splitlines()
        print(f"round trip of {ROUND_TRIP_PROFILES} profiles as {file_format}: {elapsed:.1f} s")
    finally:
        delete_users(db, users)


# -- the platform's statement timeout -------------------------------------------------------------

#: Hosted Supabase stops any API statement after 8 s (authenticator's statement_timeout). The
#: import must stay well inside that: here every batch must finish in an eighth of it.
BATCH_TIME_BUDGET = "1s"


@pytest.mark.volume
def test_default_batches_fit_in_an_eighth_of_the_platforms_statement_timeout(
    cli: Cli, stack: StackState, db: Database, fresh_users: FreshUsers, tmp_path: Path
) -> None:
    users = fresh_users(5 * 1000)
    file = tmp_path / "profiles.jsonl"
    file.write_text(
        jsonl(
            [
                profile(user, ("strength_training", "running", "yoga"), ("build_muscle", "rehab"))
                for user in users
            ]
        )
    )
    # PostgREST applies the impersonated role's settings to each request and reads them with its
    # schema cache: service_role's requests now stop after BATCH_TIME_BUDGET.
    db.execute(f"alter role service_role set statement_timeout = '{BATCH_TIME_BUDGET}'")
    db.execute("notify pgrst, 'reload schema'")
    try:
        time.sleep(1)
        imported = cli.run("import", str(file))
        assert imported.exit_code == 0, imported.stderr
        assert count_profiles(db, users) == len(users)
        # Upserting the same rows again (every batch an update) fits as well.
        again = cli.run("import", str(file))
        assert again.exit_code == 0, again.stderr
    finally:
        db.execute("alter role service_role reset statement_timeout")
        db.execute("notify pgrst, 'reload schema'")
        time.sleep(1)


# -- streaming: two passes over the file ----------------------------------------------------------

LARGE_FILE_ROWS = 20_000


def test_a_bad_row_at_the_end_of_a_large_file_writes_nothing(
    cli: Cli, db: Database, tmp_path: Path
) -> None:
    """The first pass reads to the end before anything is sent: the last line still stops it."""
    users = [uuid.uuid4() for _ in range(LARGE_FILE_ROWS)]
    file = tmp_path / "profiles.jsonl"
    file.write_text(
        jsonl([profile(user) for user in users])
        + jsonl([profile(users[1]), profile(uuid.uuid4(), goals=("dance",))])
    )
    result = cli.run("import", str(file))
    assert result.exit_code == ExitCode.INVALID_INPUT
    *reports, summary = stderr_lines(result.stderr)
    assert reports == [
        f"line {LARGE_FILE_ROWS + 1}: user_id {users[1]} already appears on line 2",
        f'line {LARGE_FILE_ROWS + 2}: goals contains an invalid value: "dance"',
    ]
    assert summary.startswith(f"error: 2 invalid rows in {file}; nothing was written")
    assert count_profiles(db, users) == 0


def test_standard_input_is_read_twice_through_a_temporary_copy(
    cli: Cli, fresh_users: FreshUsers, db: Database
) -> None:
    good, bad, also_good = fresh_users(3)
    content = jsonl([profile(good), profile(bad, goals=()), profile(also_good, ("running",))])
    stopped = cli.run("import", "-", "--format", "jsonl", input=content)
    assert stopped.exit_code == ExitCode.INVALID_INPUT
    assert count_profiles(db, [good, bad, also_good]) == 0
    outcome = cli.run("import", "-", "--format", "jsonl", "--skip-invalid", "--json", input=content)
    assert outcome.exit_code == 0, outcome.stderr
    assert json.loads(outcome.stdout)["imported"] == 2
    assert stored_profile(db, also_good)[:2] == (["running"], ["rehab"])  # type: ignore[index]
    assert stored_profile(db, bad) is None


def test_rows_in_other_forms_are_judged_and_sent_like_the_usual_ones(
    cli: Cli, fresh_users: FreshUsers, db: Database, tmp_path: Path
) -> None:
    """Rows the shortcut leaves to the models (another UUID form, empty identity columns) and
    restoring rows all arrive."""
    plain, braced, empty_identity, restored = fresh_users(4)
    stored_id = uuid.uuid4()
    file = tmp_path / "profiles.jsonl"
    file.write_text(
        jsonl(
            [
                profile(plain),
                {**profile(braced), "user_id": "{" + str(braced).upper() + "}"},
                {**profile(empty_identity), "id": None, "created_at": None, "updated_at": None},
                {
                    **profile(restored),
                    "id": str(stored_id),
                    "created_at": "2026-01-02T03:04:05.5+01:00",
                    "updated_at": "2026-01-02T03:04:05.5+01:00",
                },
            ]
        )
    )
    assert cli.json("import", str(file))["imported"] == 4
    assert count_profiles(db, [plain, braced, empty_identity, restored]) == 4
    row = db.execute(
        "select id, created_at from public.movement_profiles where user_id = %s", (restored,)
    ).fetchone()
    assert row is not None
    assert str(row[0]) == str(stored_id)


def test_a_file_changed_between_the_passes_is_not_imported(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from movement_profiles_cli.transfer import first_pass, source

    file = tmp_path / "profiles.jsonl"
    file.write_text(jsonl([profile(uuid.uuid4())]))
    check = source.ImportSource.check

    def check_then_change(
        import_source: source.ImportSource, catalogue: Catalogue
    ) -> first_pass.Checked:
        checked = check(import_source, catalogue)
        file.write_text(jsonl([profile(uuid.uuid4()), profile(uuid.uuid4())]))
        return checked

    monkeypatch.setattr(source.ImportSource, "check", check_then_change)
    result = cli.run("import", str(file))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "changed after it was validated; nothing was written" in result.stderr


# -- rows sent as written -------------------------------------------------------------------------

#: Lines of the spelled-out file: enough to meet every spelling below many times.
SPELLED_ROWS = 400


def _spelled(rng: random.Random, fields: list[tuple[str, object]]) -> str:
    """One JSON object with `fields` as a person or another program might spell it: any key
    order, spaces and tabs anywhere JSON allows them, characters escaped as `\\uXXXX`, and
    keys given twice (an earlier decoy, which the later value overrides)."""

    def string(text: str) -> str:
        if text and rng.random() < 0.3:
            at = rng.randrange(len(text))
            text = json.dumps(text[:at])[1:-1] + f"\\u{ord(text[at]):04x}" + text[at + 1 :]
            return f'"{text}"'
        return json.dumps(text)

    def value(item: object) -> str:
        if isinstance(item, list):
            return "[" + space() + ("," + space()).join(string(entry) for entry in item) + "]"
        if isinstance(item, dict):
            return (
                "{"
                + ("," + space()).join(
                    f"{space()}{string(key)}{space()}:{space()}{value(entry)}"
                    for key, entry in item.items()
                )
                + "}"
            )
        assert isinstance(item, str)
        return string(item)

    def space() -> str:
        return "".join(rng.choice(" \t") for _ in range(rng.choice((0, 0, 1, 2))))

    members = [(key, item) for key, item in fields]
    rng.shuffle(members)
    if rng.random() < 0.3:
        key, _ = rng.choice(members)
        decoy: object = str(uuid.uuid4()) if key in ("user_id", "id") else ["rehab"]
        if key in ("created_at", "updated_at"):
            decoy = "2001-01-01T00:00:00Z"
        members.insert(0, (key, decoy))
    body = ("," + space()).join(
        f"{space()}{string(key)}{space()}:{space()}{value(item)}{space()}" for key, item in members
    )
    return "{" + body + "}" + space()


def test_rows_sent_as_written_are_stored_as_the_models_read_them(
    cli: Cli, fresh_users: FreshUsers, db: Database, tmp_path: Path
) -> None:
    """The usual form's rows go to the database as the file spells them, not re-encoded: a
    differential test of the two JSON readers. Every line here is valid; the database must
    store exactly what Python's parser read from it (the last of a repeated key, escapes
    decoded, a restored row's id and timestamps as given)."""
    from movement_profiles_cli.transfer.rows import LineForm
    from movement_profiles_cli.transfer.source import ImportSource

    rng = random.Random(20261206)
    users = fresh_users(SPELLED_ROWS)
    preferences = sorted(member.value for member in TrainingPreference)
    goals = sorted(member.value for member in Goal)
    lines = []
    for user in users:
        user_text = str(user).upper() if rng.random() < 0.2 else str(user)
        fields: list[tuple[str, object]] = [
            ("user_id", user_text),
            ("training_preferences", rng.sample(preferences, rng.randint(1, 3))),
            ("goals", rng.sample(goals, rng.randint(1, 2))),
            ("custom_fields", {}),
        ]
        if rng.random() < 0.5:
            stamp = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(
                seconds=rng.randrange(10**8), microseconds=rng.randrange(10**6)
            )
            offset = timezone(timedelta(minutes=rng.choice((0, 60, -330, 840))))
            digits = rng.choice(("seconds", "milliseconds", "microseconds"))
            written = stamp.astimezone(offset).isoformat(timespec=digits)
            if written.endswith("+00:00") and rng.random() < 0.5:
                written = written[: -len("+00:00")] + "Z"
            fields += [("id", str(uuid.uuid4())), ("created_at", written), ("updated_at", written)]
        lines.append(_spelled(rng, fields))
    file = tmp_path / "spelled.jsonl"
    file.write_text("\n".join(lines) + "\n")

    with ImportSource(file, None) as source:
        checked = source.check(offline_catalogue())
    assert not checked.invalid
    forms = Counter(checked.forms[line] for line in range(1, len(lines) + 1))
    # Most rows take the shortcut (both plain forms); the point of the test is that they do.
    assert forms[LineForm.AS_WRITTEN] > SPELLED_ROWS / 4, forms
    assert forms[LineForm.AS_WRITTEN_RESTORING] > SPELLED_ROWS / 4, forms

    assert cli.json("import", str(file))["imported"] == SPELLED_ROWS
    stored = {
        str(row[0]): row[1:]
        for row in db.execute(
            "select user_id, training_preferences, goals, custom_fields, id, created_at, "
            "updated_at from public.movement_profiles where user_id = any(%s)",
            ([str(user) for user in users],),
        ).fetchall()
    }
    for line in lines:
        read = json.loads(line)
        got = stored[str(uuid.UUID(read["user_id"]))]
        assert got[:3] == (read["training_preferences"], read["goals"], read["custom_fields"]), line
        if "id" in read:
            restored = (
                uuid.UUID(read["id"]),
                *map(datetime.fromisoformat, (read["created_at"],) * 2),
            )
            assert (uuid.UUID(str(got[3])), got[4], got[5]) == restored, line
