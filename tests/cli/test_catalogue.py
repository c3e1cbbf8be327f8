"""`movement-profiles catalogue ...`, `--set`, `--has`, and import/export of added fields, through
CliRunner against the real stack.

Every test that changes the catalogue adds a field of its own (a unique name) and removes it
afterwards with its profiles' values (`added_field`), so tests do not see each other's fields.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from movement_profiles_cli.commands._common import ExitCode
from movement_profiles_cli.stack.state import StackState
from tests.cli.conftest import Cli, Database

pytestmark = pytest.mark.integration

Users = Callable[[int], list[uuid.UUID]]


def error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    return lines[0]


@pytest.fixture
def added_field(cli: Cli) -> Iterator[Callable[..., str]]:
    """Adds fields with unique names; removes them (and their values in profiles) afterwards."""
    added: list[str] = []

    def add(*values: str, required: bool = False) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        arguments = ["catalogue", "add-field", name, "--label", "Test field"]
        arguments += [argument for value in values for argument in ("--value", value)]
        result = cli.run(*arguments, *(["--required"] if required else []))
        assert result.exit_code == 0, result.stderr
        added.append(name)
        return name

    yield add
    for name in added:
        result = cli.run("catalogue", "remove-field", name, "--profiles", "remove")
        assert result.exit_code in (0, ExitCode.INVALID_INPUT), result.stderr  # removed already


def create(cli: Cli, user: uuid.UUID, *extra: str) -> dict[str, object]:
    profile: dict[str, object] = cli.json(
        "create", "--user-id", str(user), "--training-preference", "yoga", "--goal", "rehab",
        *extra,
    )  # fmt: skip
    return profile


def stored_custom_fields(db: Database, user: uuid.UUID) -> object:
    row = db.execute(
        "select custom_fields from public.movement_profiles where user_id = %s", (str(user),)
    ).fetchone()
    assert row is not None
    return row[0]


# -- show -----------------------------------------------------------------------------------------


def test_show_json_is_the_database_catalogue(cli: Cli, db: Database) -> None:
    shown = cli.json("catalogue", "show")
    [[expected]] = db.execute("select public.movement_profile_catalogue()").fetchall()
    assert shown == expected
    assert [field["name"] for field in shown["fields"]][:2] == ["training_preferences", "goals"]


def test_show_lists_each_field_with_its_values_and_labels(
    cli: Cli, added_field: Callable[..., str]
) -> None:
    name = added_field("knee", "lower_back")
    result = cli.run("catalogue", "show")
    assert result.exit_code == 0, result.stderr
    assert f"{name}: Test field (optional)" in result.stdout
    assert "training_preferences: Training preferences (built-in, required)" in result.stdout
    assert re.search(r"lower_back\s+│\s+Lower back", result.stdout), result.stdout


# -- changing the catalogue, and profiles holding the new field -----------------------------------


def test_a_new_field_is_set_read_filtered_and_updated(
    cli: Cli, fresh_users: Users, db: Database, added_field: Callable[..., str]
) -> None:
    name = added_field("knee", "shoulder")
    other = added_field("a", "b")
    first, second = fresh_users(2)
    created = create(cli, first, "--set", f"{name}=knee,shoulder", "--set", f"{other}=a")
    assert created["custom_fields"] == {name: ["knee", "shoulder"], other: ["a"]}
    create(cli, second, "--set", f"{name}=shoulder")
    assert stored_custom_fields(db, first) == {name: ["knee", "shoulder"], other: ["a"]}

    table = cli.run("get", str(first))
    assert re.search(rf"{name}\s+knee, shoulder", table.stdout), table.stdout

    listed = cli.json("list", "--has", f"{name}=knee")
    assert [profile["user_id"] for profile in listed] == [str(first)]
    both = cli.json("list", "--has", f"{name}=shoulder", "--limit", "1000")
    assert {str(first), str(second)} <= {profile["user_id"] for profile in both}
    assert cli.json("list", "--has", f"{name}=knee", "--has", f"{other}=b") == []
    # A built-in field named in --has filters as --goal does.
    assert cli.json("list", "--has", f"{name}=knee", "--has", "goals=rehab") == listed

    # update --set changes only the fields it names; the others and the built-ins are kept.
    updated = cli.json("update", str(first), "--set", f"{name}=shoulder")
    assert updated["custom_fields"] == {name: ["shoulder"], other: ["a"]}
    assert updated["training_preferences"] == ["yoga"]
    cleared = cli.json("update", str(first), "--set", f"{other}=", "--set", "goals=lose_fat")
    assert cleared["custom_fields"] == {name: ["shoulder"], other: []}
    assert cleared["goals"] == ["lose_fat"]


@pytest.mark.parametrize(
    ("make_value", "message"),
    [
        (lambda name: f"{name}=elbow", '{name} contains an invalid value: "elbow" '
         "(Allowed values: knee, shoulder)"),
        (lambda name: f"{name}=knee,knee", '{name} contains a duplicate value: "knee"'),
        (lambda name: "t_no_such_field=knee", 'custom_fields contains an unknown field: '
         '"t_no_such_field"'),
    ],
)  # fmt: skip
def test_set_refuses_what_the_catalogue_does_not_allow_and_writes_nothing(
    cli: Cli,
    fresh_users: Users,
    db: Database,
    added_field: Callable[..., str],
    make_value: Callable[[str], str],
    message: str,
) -> None:
    name = added_field("knee", "shoulder")
    [user] = fresh_users(1)
    create(cli, user)
    before = stored_custom_fields(db, user)
    result = cli.run("update", str(user), "--set", make_value(name))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert message.format(name=name) in error_line(result.stderr)
    assert stored_custom_fields(db, user) == before


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("injuries", "expected FIELD=VALUE"),
        ("=knee", "expected FIELD=VALUE"),
        ("injuries=knee,,shoulder", "an empty value between commas"),
        ("user_id=x", "user_id is not a field of values"),
    ],
)
def test_a_malformed_set_is_refused_before_any_request(
    cli: Cli, assignment: str, message: str
) -> None:
    # No user exists for this id: a request would have said so instead.
    result = cli.run("update", str(uuid.uuid4()), "--set", assignment)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert message in error_line(result.stderr)


def test_a_new_value_is_allowed_at_once_and_relabelled(
    cli: Cli, fresh_users: Users, added_field: Callable[..., str]
) -> None:
    name = added_field("knee")
    [user] = fresh_users(1)
    refused = cli.run("create", "--user-id", str(user), "--training-preference", "yoga",
                      "--goal", "rehab", "--set", f"{name}=hip")  # fmt: skip
    assert refused.exit_code == ExitCode.INVALID_INPUT
    entry = cli.json("catalogue", "add-value", name, "hip")
    assert [value["value"] for value in entry["values"]] == ["knee", "hip"]
    assert entry["values"][1]["label"] == "Hip"
    assert create(cli, user, "--set", f"{name}=hip")["custom_fields"] == {name: ["hip"]}
    relabelled = cli.json("catalogue", "relabel", name, "hip", "--label", "Hip joint")
    assert relabelled["values"][1]["label"] == "Hip joint"
    field = cli.json("catalogue", "relabel", name, "--label", "Sore spots")
    assert field["label"] == "Sore spots"
    # The stored values are names, never labels: the profile is unchanged.
    assert cli.json("get", str(user))["custom_fields"] == {name: ["hip"]}


def test_adding_what_exists_is_a_conflict(cli: Cli, added_field: Callable[..., str]) -> None:
    name = added_field("knee")
    result = cli.run("catalogue", "add-value", name, "knee")
    assert result.exit_code == ExitCode.CONFLICT
    assert "knee" in error_line(result.stderr)
    again = cli.run("catalogue", "add-field", name, "--label", "Again")
    assert again.exit_code == ExitCode.CONFLICT
    error_line(again.stderr)


@pytest.mark.parametrize(
    "arguments",
    [
        ["add-value", "t_no_such_field", "knee"],
        ["add-field", "Bad Name", "--label", "Bad"],
        ["remove-field", "goals"],
        ["retire-value", "goals", "no_such_value"],
    ],
)
def test_unknown_names_and_built_in_fields_are_invalid_input(
    cli: Cli, arguments: list[str]
) -> None:
    result = cli.run("catalogue", *arguments)
    assert result.exit_code == ExitCode.INVALID_INPUT, result.stdout
    error_line(result.stderr)


def test_retiring_a_held_value_is_refused_with_the_count_unless_told_what_to_do(
    cli: Cli, fresh_users: Users, db: Database, added_field: Callable[..., str]
) -> None:
    name = added_field("knee", "shoulder", "hip")
    first, second, third = fresh_users(3)
    create(cli, first, "--set", f"{name}=knee")
    create(cli, second, "--set", f"{name}=knee,shoulder")
    create(cli, third, "--set", f"{name}=hip")

    refused = cli.run("catalogue", "retire-value", name, "knee")
    assert refused.exit_code == ExitCode.CONFLICT
    line = error_line(refused.stderr)
    assert line == (
        'error: "knee" is held by 2 movement profiles; nothing was changed: to retire it '
        "anyway, pass --profiles remove (take it out of them) or --profiles replace "
        "--replacement VALUE (put another in its place)"
    )
    assert "knee" in cli.json("catalogue", "show")["fields"][-1]["values"][0]["value"]

    replaced = cli.run(
        "catalogue", "retire-value", name, "knee", "--profiles", "replace", "--replacement", "hip"
    )
    assert replaced.exit_code == 0, replaced.stderr
    assert f"Retired knee of {name}; 2 profiles changed." in replaced.stdout
    assert stored_custom_fields(db, first) == {name: ["hip"]}
    assert stored_custom_fields(db, second) == {name: ["hip", "shoulder"]} or stored_custom_fields(
        db, second
    ) == {name: ["shoulder", "hip"]}
    # Retired: no longer allowed.
    again = cli.run("update", str(third), "--set", f"{name}=knee")
    assert again.exit_code == ExitCode.INVALID_INPUT

    removed = cli.json("catalogue", "retire-value", name, "shoulder", "--profiles", "remove")
    assert removed == {"field": name, "value": "shoulder", "profiles_changed": 1}
    assert stored_custom_fields(db, second) == {name: ["hip"]}


def test_retire_value_needs_a_replacement_exactly_with_replace(cli: Cli) -> None:
    for arguments in (["--profiles", "replace"], ["--replacement", "yoga"]):
        result = cli.run("catalogue", "retire-value", "training_preferences", "mixed", *arguments)
        assert result.exit_code == ExitCode.INVALID_INPUT
        assert "--replacement" in error_line(result.stderr)


def test_a_held_field_is_removed_only_when_told(
    cli: Cli, fresh_users: Users, db: Database, added_field: Callable[..., str]
) -> None:
    name = added_field("knee")
    [user] = fresh_users(1)
    create(cli, user, "--set", f"{name}=knee")
    refused = cli.run("catalogue", "remove-field", name)
    assert refused.exit_code == ExitCode.CONFLICT
    assert error_line(refused.stderr).endswith(
        "1 movement profile; nothing was changed: to remove it anyway, pass --profiles remove "
        "(its values go from them too)"
    ), refused.stderr
    assert stored_custom_fields(db, user) == {name: ["knee"]}
    removed = cli.run("catalogue", "remove-field", name, "--profiles", "remove")
    assert removed.exit_code == 0, removed.stderr
    assert f"Removed field {name}; 1 profile changed." in removed.stdout
    assert stored_custom_fields(db, user) == {}
    assert name not in {field["name"] for field in cli.json("catalogue", "show")["fields"]}


def test_history_records_who_changed_what(cli: Cli, added_field: Callable[..., str]) -> None:
    name = added_field("knee")
    assert cli.run("catalogue", "add-value", name, "hip").exit_code == 0
    changes = cli.json("catalogue", "history", "--limit", "50")
    mine = [change for change in changes if change["field"] == name]
    assert [change["value"] for change in mine][:1] == ["hip"]
    assert all("service_role" in change["changed_by"] for change in mine), mine
    table = cli.run("catalogue", "history")
    assert name in table.stdout


def test_only_the_service_role_changes_the_catalogue(cli: Cli, stack: StackState) -> None:
    as_anon = ["--url", stack.api_url, "--key", stack.anon_key]
    name = f"t_{uuid.uuid4().hex[:12]}"
    result = cli.run("catalogue", "add-field", name, "--label", "Nope", *as_anon)
    assert result.exit_code == ExitCode.NOT_ALLOWED
    assert "service role key" in error_line(result.stderr)
    # Reading is open to anyone with the anon key.
    assert cli.run("catalogue", "show", *as_anon).exit_code == 0
    assert name not in {field["name"] for field in cli.json("catalogue", "show")["fields"]}


# -- between environments -------------------------------------------------------------------------


def test_export_sql_writes_a_migration_after_the_newest(
    cli: Cli, tmp_path: Path, db: Database
) -> None:
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "29990101000000_later_than_now.sql").write_text("select 1;\n")
    result = cli.run("catalogue", "export-sql", "--migrations", str(migrations))
    assert result.exit_code == 0, result.stderr
    written = sorted(migrations.iterdir())[-1]
    assert written.name == "29990101000001_movement_profiles_catalogue.sql"
    assert f"Wrote {written}." in result.stdout
    sql = written.read_text()
    assert "movement_profile_apply_catalogue" in sql
    # Applying it to the catalogue it came from changes nothing.
    printed = cli.run("catalogue", "export-sql")
    assert printed.exit_code == 0
    assert printed.stdout.strip() == sql.strip()


def test_export_sql_names_the_migration_by_the_current_time(cli: Cli, tmp_path: Path) -> None:
    result = cli.run("catalogue", "export-sql", "--migrations", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    [written] = tmp_path.iterdir()
    assert re.fullmatch(r"20\d{12}_movement_profiles_catalogue\.sql", written.name)


def test_diff_against_its_own_export_is_empty_then_shows_a_change(
    cli: Cli, tmp_path: Path, added_field: Callable[..., str]
) -> None:
    sql_file, json_file = tmp_path / "catalogue.sql", tmp_path / "catalogue.json"
    sql_file.write_text(cli.run("catalogue", "export-sql").stdout)
    json_file.write_text(cli.run("catalogue", "show", "--json").stdout)
    for other in (sql_file, json_file):
        same = cli.run("catalogue", "diff", str(other))
        assert same.exit_code == 0, same.stdout + same.stderr
        assert "The catalogues are the same" in same.stdout

    name = added_field("knee")
    assert cli.run("catalogue", "relabel", "goals", "rehab", "--label", "Recovery").exit_code == 0
    try:
        changed = cli.run("catalogue", "diff", str(sql_file))
        assert changed.exit_code == 1, changed.stderr
        lines = changed.stdout.splitlines()
        assert f"- field {name} (knee)" in lines
        assert '~ value goals.rehab label: "Recovery" / "Rehab"' in lines
        as_json = cli.run("catalogue", "diff", str(json_file), "--json")
        assert as_json.exit_code == 1
        assert json.loads(as_json.stdout)["same"] is False
    finally:
        assert cli.run("catalogue", "relabel", "goals", "rehab", "--label", "Rehab").exit_code == 0


def test_diff_against_another_environment_by_url_or_env_file(
    cli: Cli, stack: StackState, tmp_path: Path
) -> None:
    # The other environment is this one, reached as another would be: no differences.
    by_url = cli.run(
        "catalogue", "diff", "--other-url", stack.api_url, "--other-key", stack.anon_key
    )
    assert by_url.exit_code == 0, by_url.stdout + by_url.stderr
    env_file = tmp_path / "staging.env"
    env_file.write_text(f"SUPABASE_URL={stack.api_url}\nSUPABASE_ANON_KEY={stack.anon_key}\n")
    assert cli.run("catalogue", "diff", "--other-env", str(env_file)).exit_code == 0


@pytest.mark.parametrize(
    ("content", "arguments", "message"),
    [
        ("select 1;", [], "neither a catalogue's JSON"),
        ('{"fields": 3}', [], "does not hold a catalogue"),
        (None, ["--other-url", "http://127.0.0.1:9"], "go together"),
        (None, [], "give the other catalogue once"),
    ],
)
def test_diff_refuses_what_is_no_catalogue(
    cli: Cli, tmp_path: Path, content: str | None, arguments: list[str], message: str
) -> None:
    file = tmp_path / "other.sql"
    if content is not None:
        file.write_text(content)
        arguments = [str(file), *arguments]
    result = cli.run("catalogue", "diff", *arguments)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert message in error_line(result.stderr)


# -- import and export ----------------------------------------------------------------------------


def test_export_and_import_carry_custom_fields_judged_by_the_live_catalogue(
    cli: Cli, fresh_users: Users, db: Database, tmp_path: Path, added_field: Callable[..., str]
) -> None:
    name = added_field("knee", "shoulder")
    first, second, third = fresh_users(3)
    create(cli, first, "--set", f"{name}=knee")
    for suffix in ("jsonl", "csv"):
        exported = tmp_path / f"profiles.{suffix}"
        assert cli.run("export", "--output", str(exported)).exit_code == 0
        if suffix == "jsonl":
            records = [json.loads(line) for line in exported.read_text().splitlines()]
            [mine] = [record for record in records if record["user_id"] == str(first)]
            assert mine["custom_fields"] == {name: ["knee"]}
        else:
            assert f'"{{""{name}"":[""knee""]}}"' in exported.read_text()

    rows = [
        {"user_id": str(second), "training_preferences": ["yoga"], "goals": ["rehab"],
         "custom_fields": {name: ["shoulder"]}},
        {"user_id": str(third), "training_preferences": ["yoga"], "goals": ["rehab"],
         "custom_fields": {name: ["elbow"]}},
    ]  # fmt: skip
    file = tmp_path / "new.jsonl"
    file.write_text("".join(json.dumps(row) + "\n" for row in rows))
    result = cli.run("import", str(file))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert result.stderr.splitlines()[0] == f'line 2: {name} contains an invalid value: "elbow"'

    # The catalogue changes, and the same file imports: the import reads it when it starts.
    assert cli.run("catalogue", "add-value", name, "elbow").exit_code == 0
    result = cli.run("import", str(file))
    assert result.exit_code == 0, result.stderr
    assert stored_custom_fields(db, second) == {name: ["shoulder"]}
    assert stored_custom_fields(db, third) == {name: ["elbow"]}

    csv_file = tmp_path / "new.csv"
    csv_file.write_text(
        "user_id,training_preferences,goals,custom_fields\n"
        f'{second},yoga,rehab,"{{""{name}"": [""knee""]}}"\n'
        f"{third},yoga,rehab,\n"
    )
    result = cli.run("import", str(csv_file))
    assert result.exit_code == 0, result.stderr
    assert stored_custom_fields(db, second) == {name: ["knee"]}
    assert stored_custom_fields(db, third) == {}


@pytest.mark.parametrize(
    "custom_fields",
    [
        {"t_no_such_field": ["x"]},
        "not an object",
        {"{field}": "knee"},
        {"{field}": ["knee", "knee"]},
        {"{field}": ["elbow"]},
        {"{field}": [1]},
    ],
)
def test_the_first_pass_words_a_bad_row_as_the_database_does(
    cli: Cli,
    fresh_users: Users,
    db: Database,
    tmp_path: Path,
    added_field: Callable[..., str],
    custom_fields: object,
) -> None:
    name = added_field("knee", "shoulder")
    [user] = fresh_users(1)
    if isinstance(custom_fields, dict):
        custom_fields = {key.format(field=name): value for key, value in custom_fields.items()}
    row = {"user_id": str(user), "training_preferences": ["yoga"], "goals": ["rehab"],
           "custom_fields": custom_fields}  # fmt: skip
    file = tmp_path / "row.jsonl"
    file.write_text(json.dumps(row) + "\n")
    result = cli.run("import", str(file), "--json")
    outcome = json.loads(result.stdout)
    [bad] = outcome["invalid"]
    # What the database itself says about the same row.
    with pytest.raises(psycopg.errors.CheckViolation) as refused, db.transaction():
        db.execute(
            "insert into public.movement_profiles (user_id, training_preferences, goals, "
            "custom_fields) values (%s, '[\"yoga\"]', '[\"rehab\"]', %s::jsonb)",
            (str(user), json.dumps(custom_fields)),
        )
    assert bad["problem"] == refused.value.diag.message_primary


def test_removing_the_only_value_of_a_required_field_is_refused(
    cli: Cli, fresh_users: Users, db: Database
) -> None:
    # A value of its own in the required built-in goals, retired again at the end.
    value = f"t_{uuid.uuid4().hex[:12]}"
    assert cli.run("catalogue", "add-value", "goals", value).exit_code == 0
    try:
        [user] = fresh_users(1)
        cli.json("create", "--user-id", str(user), "--training-preference", "yoga",
                 "--goal", value)  # fmt: skip
        refused = cli.run("catalogue", "retire-value", "goals", value, "--profiles", "remove")
        assert refused.exit_code == ExitCode.CONFLICT
        assert error_line(refused.stderr) == (
            f'error: "{value}" is the only value of goals in 1 movement profile; nothing was '
            "changed: pass --profiles replace --replacement VALUE instead"
        )
        assert cli.json("get", str(user))["goals"] == [value]
    finally:
        retired = cli.run("catalogue", "retire-value", "goals", value, "--profiles", "replace",
                          "--replacement", "rehab")  # fmt: skip
        assert retired.exit_code == 0, retired.stderr


def test_update_set_with_a_stale_expected_updated_at_writes_nothing(
    cli: Cli, fresh_users: Users, db: Database, added_field: Callable[..., str]
) -> None:
    name = added_field("knee", "shoulder")
    [user] = fresh_users(1)
    created = create(cli, user, "--set", f"{name}=knee")
    cli.json("update", str(user), "--goal", "lose_fat")  # somebody else's change
    result = cli.run("update", str(user), "--set", f"{name}=shoulder",
                     "--expected-updated-at", str(created["updated_at"]))  # fmt: skip
    assert result.exit_code == ExitCode.CONFLICT
    assert "changed since" in error_line(result.stderr)
    assert stored_custom_fields(db, user) == {name: ["knee"]}
