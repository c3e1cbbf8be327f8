"""`create`, `get`, `update`, `list`, `delete`, `options` through CliRunner against the real stack.

Each failure is checked for its exit code, its one line on stderr, and that nothing was written.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import pytest

from movement_profiles_cli.commands._common import ExitCode
from tests.cli.conftest import PROFILE_FIELDS, Cli, Database, stored_profile
from tests.support.users import StackUser

pytestmark = pytest.mark.integration


def error_line(stderr: str) -> str:
    """The one line an expected failure prints."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    return lines[0]


def create(cli: Cli, user_id: uuid.UUID, *extra: str) -> dict[str, object]:
    profile: dict[str, object] = cli.json(
        "create", "--user-id", str(user_id), "--training-preference", "yoga",
        "--training-preference", "running", "--goal", "rehab", *extra,
    )  # fmt: skip
    return profile


# -- create ---------------------------------------------------------------------------------------


def test_create_prints_the_stored_profile_as_a_table(
    cli: Cli, fresh_users: Callable[[int], list[uuid.UUID]], db: Database
) -> None:
    [user] = fresh_users(1)
    result = cli.run(
        "create", "--user-id", str(user), "--training-preference", "strength_training",
        "--training-preference", "yoga", "--goal", "build_muscle",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert str(user) in result.stdout
    assert "strength_training, yoga" in result.stdout
    assert "build_muscle" in result.stdout
    assert stored_profile(db, user)[:2] == (["strength_training", "yoga"], ["build_muscle"])  # type: ignore[index]


def test_create_json_is_the_profile_as_get_returns_it(
    cli: Cli, fresh_users: Callable[[int], list[uuid.UUID]]
) -> None:
    [user] = fresh_users(1)
    created = create(cli, user)
    assert created["user_id"] == str(user)
    assert created["training_preferences"] == ["yoga", "running"]
    assert created["goals"] == ["rehab"]
    assert set(created) == set(PROFILE_FIELDS)
    assert cli.json("get", str(user)) == created


def test_create_for_a_user_with_a_profile_is_a_conflict(
    cli: Cli, fresh_users: Callable[[int], list[uuid.UUID]], db: Database
) -> None:
    [user] = fresh_users(1)
    create(cli, user)
    before = stored_profile(db, user)
    result = cli.run(
        "create", "--user-id", str(user), "--training-preference", "mixed", "--goal", "lose_fat"
    )
    assert result.exit_code == ExitCode.CONFLICT
    assert "already exists" in error_line(result.stderr)
    assert stored_profile(db, user) == before


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--training-preference", "yoga", "--goal", "rehab", "--goal", "rehab"],
         'goals contains a duplicate value: "rehab"'),
        (["--training-preference", "yoga", "--training-preference", "yoga", "--goal", "rehab"],
         'training_preferences contains a duplicate value: "yoga"'),
    ],
)  # fmt: skip
def test_create_rejects_duplicate_values_and_writes_nothing(
    cli: Cli,
    fresh_users: Callable[[int], list[uuid.UUID]],
    db: Database,
    arguments: list[str],
    message: str,
) -> None:
    [user] = fresh_users(1)
    result = cli.run("create", "--user-id", str(user), *arguments)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert message in error_line(result.stderr)
    assert stored_profile(db, user) is None


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--training-preference", "dance", "--goal", "rehab"],
            'training_preferences contains an invalid value: "dance" (Allowed values: '
            "strength_training, running, yoga, crossfit, sports, mixed)",
        ),
        (
            ["--training-preference", "yoga", "--goal", "improve_flexibility"],
            'goals contains an invalid value: "improve_flexibility" (Allowed values: ',
        ),
        (["--goal", "rehab"], "--training-preference is required"),
        (["--training-preference", "yoga"], "--goal is required"),
    ],
)
def test_create_refuses_values_outside_the_catalogue_in_the_database_words(
    cli: Cli,
    fresh_users: Callable[[int], list[uuid.UUID]],
    db: Database,
    arguments: list[str],
    message: str,
) -> None:
    [user] = fresh_users(1)
    result = cli.run("create", "--user-id", str(user), *arguments)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert message in error_line(result.stderr)
    assert stored_profile(db, user) is None


def test_create_needs_a_user_id_with_the_service_key(cli: Cli) -> None:
    result = cli.run("create", "--training-preference", "yoga", "--goal", "rehab")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "--user-id" in error_line(result.stderr)


def test_create_for_a_user_missing_from_auth_is_invalid_input(cli: Cli, db: Database) -> None:
    user = uuid.uuid4()
    result = cli.run(
        "create", "--user-id", str(user), "--training-preference", "yoga", "--goal", "rehab"
    )
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "no auth user" in error_line(result.stderr)
    assert stored_profile(db, user) is None


# -- get ------------------------------------------------------------------------------------------


def test_get_shows_a_table_and_json(
    cli: Cli, fresh_users: Callable[[int], list[uuid.UUID]]
) -> None:
    [user] = fresh_users(1)
    created = create(cli, user)
    table = cli.run("get", str(user))
    assert table.exit_code == 0
    for value in (str(user), "yoga, running", "rehab", str(created["id"])):
        assert value in table.stdout
    assert cli.json("get", str(user)) == created


def test_get_of_a_missing_profile_exits_3(cli: Cli) -> None:
    missing = uuid.uuid4()
    result = cli.run("get", str(missing))
    assert result.exit_code == ExitCode.NOT_FOUND
    assert str(missing) in error_line(result.stderr)
    assert result.stdout == ""


def test_get_of_a_malformed_user_id_is_a_usage_error(cli: Cli) -> None:
    result = cli.run("get", "not-a-uuid")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "valid UUID" in result.stderr


# -- update ---------------------------------------------------------------------------------------


def test_update_replaces_only_the_given_field(
    cli: Cli, fresh_users: Callable[[int], list[uuid.UUID]]
) -> None:
    [user] = fresh_users(1)
    created = create(cli, user)
    updated = cli.json("update", str(user), "--goal", "lose_fat", "--goal", "general_health")
    assert updated["goals"] == ["lose_fat", "general_health"]
    assert updated["training_preferences"] == created["training_preferences"]
    assert updated["created_at"] == created["created_at"]
    assert updated["updated_at"] > created["updated_at"]
    table = cli.run("update", str(user), "--training-preference", "crossfit")
    assert table.exit_code == 0
    assert "crossfit" in table.stdout


def test_update_with_the_current_updated_at_applies(
    cli: Cli, fresh_users: Callable[[int], list[uuid.UUID]]
) -> None:
    [user] = fresh_users(1)
    created = create(cli, user)
    updated = cli.json(
        "update", str(user), "--goal", "rehab", "--goal", "lose_fat",
        "--expected-updated-at", str(created["updated_at"]),
    )  # fmt: skip
    assert updated["goals"] == ["rehab", "lose_fat"]


def test_a_stale_update_exits_4_and_writes_nothing(
    cli: Cli, fresh_users: Callable[[int], list[uuid.UUID]], db: Database
) -> None:
    [user] = fresh_users(1)
    created = create(cli, user)
    cli.json("update", str(user), "--goal", "lose_fat")
    before = stored_profile(db, user)
    result = cli.run(
        "update", str(user), "--goal", "general_health",
        "--expected-updated-at", str(created["updated_at"]),
    )  # fmt: skip
    assert result.exit_code == ExitCode.CONFLICT
    assert "nothing was written" in error_line(result.stderr)
    assert stored_profile(db, user) == before


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "nothing to change: give --training-preference, --goal or --set"),
        (["--goal", "rehab", "--goal", "rehab"], 'goals contains a duplicate value: "rehab"'),
        (["--goal", "rehab", "--expected-updated-at", "yesterday"], "expected_updated_at"),
    ],
)
def test_update_rejects_invalid_input_and_writes_nothing(
    cli: Cli,
    fresh_users: Callable[[int], list[uuid.UUID]],
    db: Database,
    arguments: list[str],
    message: str,
) -> None:
    [user] = fresh_users(1)
    create(cli, user)
    before = stored_profile(db, user)
    result = cli.run("update", str(user), *arguments)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert message in error_line(result.stderr)
    assert stored_profile(db, user) == before


def test_update_of_a_missing_profile_exits_3(cli: Cli) -> None:
    result = cli.run("update", str(uuid.uuid4()), "--goal", "rehab")
    assert result.exit_code == ExitCode.NOT_FOUND
    error_line(result.stderr)


# -- list -----------------------------------------------------------------------------------------


def test_list_filters_by_every_given_value(
    cli: Cli, fresh_users: Callable[[int], list[uuid.UUID]]
) -> None:
    both, crossfit_only, neither = fresh_users(3)
    for user, preferences in (
        (both, ["crossfit", "sports"]),
        (crossfit_only, ["crossfit"]),
        (neither, ["running"]),
    ):
        arguments = [
            argument for value in preferences for argument in ("--training-preference", value)
        ]
        cli.json("create", "--user-id", str(user), *arguments, "--goal", "rehab")
    listed = cli.json(
        "list", "--training-preference", "crossfit", "--training-preference", "sports",
        "--goal", "rehab", "--limit", "1000",
    )  # fmt: skip
    listed_users = {profile["user_id"] for profile in listed}
    assert str(both) in listed_users
    assert not {str(crossfit_only), str(neither)} & listed_users
    assert all({"crossfit", "sports"} <= set(profile["training_preferences"]) for profile in listed)
    table = cli.run("list", "--training-preference", "crossfit", "--limit", "1000")
    assert table.exit_code == 0
    assert str(both) in table.stdout
    assert str(crossfit_only) in table.stdout


def test_list_pages_with_limit_and_offset(
    cli: Cli, fresh_users: Callable[[int], list[uuid.UUID]]
) -> None:
    for user in fresh_users(3):
        create(cli, user)
    first_two = cli.json("list", "--limit", "2")
    next_one = cli.json("list", "--limit", "1", "--offset", "2")
    three = cli.json("list", "--limit", "3")
    assert len(first_two) == 2
    assert [*first_two, *next_one] == three


def test_list_with_no_match_says_so(cli: Cli) -> None:
    result = cli.run("list", "--limit", "0")
    assert result.exit_code == 0
    assert "No movement profiles found." in result.stdout
    assert cli.json("list", "--limit", "0") == []


def test_list_rejects_a_limit_over_1000(cli: Cli) -> None:
    result = cli.run("list", "--limit", "1001")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "limit" in error_line(result.stderr)


# -- delete ---------------------------------------------------------------------------------------


def test_delete_with_yes_deletes(
    cli: Cli, fresh_users: Callable[[int], list[uuid.UUID]], db: Database
) -> None:
    [user] = fresh_users(1)
    create(cli, user)
    result = cli.run("delete", str(user), "--yes")
    assert result.exit_code == 0
    assert "Deleted" in result.stdout
    assert stored_profile(db, user) is None
    assert cli.run("get", str(user)).exit_code == ExitCode.NOT_FOUND


def test_delete_asks_first_and_a_no_deletes_nothing(
    cli: Cli, fresh_users: Callable[[int], list[uuid.UUID]], db: Database
) -> None:
    [user] = fresh_users(1)
    create(cli, user)
    declined = cli.run("delete", str(user), input="n\n")
    assert declined.exit_code == ExitCode.SERVICE_ERROR
    assert "nothing was deleted" in declined.stderr
    assert stored_profile(db, user) is not None
    confirmed = cli.run("delete", str(user), "--json", input="y\n")
    assert confirmed.exit_code == 0
    # CliRunner echoes the typed answer to stdout (a terminal would); the JSON follows it.
    answer, _, printed = confirmed.stdout.partition("\n")
    assert answer.strip() == "y"
    assert json.loads(printed) == {"user_id": str(user), "deleted": True}
    assert "Delete the movement profile" in confirmed.stderr
    assert stored_profile(db, user) is None


def test_delete_json_and_missing_profile(
    cli: Cli, fresh_users: Callable[[int], list[uuid.UUID]]
) -> None:
    [user] = fresh_users(1)
    create(cli, user)
    assert cli.json("delete", str(user), "--yes") == {"user_id": str(user), "deleted": True}
    result = cli.run("delete", str(user), "--yes")
    assert result.exit_code == ExitCode.NOT_FOUND
    error_line(result.stderr)


# -- options --------------------------------------------------------------------------------------


def test_options_are_the_sdk_enums(cli: Cli) -> None:
    from movement_profiles import Goal, TrainingPreference

    options = cli.json("options")
    assert options == {
        "training_preferences": [member.value for member in TrainingPreference],
        "goals": [member.value for member in Goal],
    }
    table = cli.run("options")
    assert table.exit_code == 0
    for value in [*options["training_preferences"], *options["goals"]]:
        assert value in table.stdout


# -- acting as a user -----------------------------------------------------------------------------


def test_a_user_creates_reads_and_updates_only_their_own_profile(
    cli: Cli,
    user_cli: Callable[[StackUser], Cli],
    make_user: Callable[[], StackUser],
    db: Database,
) -> None:
    user, other = make_user(), make_user()
    as_user = user_cli(user)
    token = ("--access-token", user.access_token)
    created = as_user.json("create", "--training-preference", "yoga", "--goal", "rehab", *token)
    assert created["user_id"] == str(user.id)
    assert as_user.json("get", str(user.id), *token) == created
    assert [profile["user_id"] for profile in as_user.json("list", *token)] == [str(user.id)]

    create(cli, other.id)
    before = stored_profile(db, other.id)
    hidden = as_user.run("get", str(other.id), *token)
    assert hidden.exit_code == ExitCode.NOT_FOUND
    not_theirs = as_user.run("update", str(other.id), "--goal", "lose_fat", *token)
    assert not_theirs.exit_code == ExitCode.NOT_FOUND
    for_someone_else = as_user.run(
        "create", "--user-id", str(other.id), "--training-preference", "yoga", "--goal", "rehab",
        *token,
    )  # fmt: skip
    assert for_someone_else.exit_code in {ExitCode.NOT_ALLOWED, ExitCode.CONFLICT}
    error_line(for_someone_else.stderr)
    assert stored_profile(db, other.id) == before


def test_a_user_may_not_delete_and_exits_5(
    user_cli: Callable[[StackUser], Cli], make_user: Callable[[], StackUser], db: Database
) -> None:
    user = make_user()
    as_user = user_cli(user)
    token = ("--access-token", user.access_token)
    as_user.json("create", "--training-preference", "yoga", "--goal", "rehab", *token)
    result = as_user.run("delete", str(user.id), "--yes", *token)
    assert result.exit_code == ExitCode.NOT_ALLOWED
    assert error_line(result.stderr).startswith("error: not allowed")
    assert stored_profile(db, user.id) is not None


@pytest.mark.parametrize(
    "arguments",
    [
        ["--access-token", "not-a-jwt"],
        ["--key", "not-a-key"],
        ["--access-token", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"],
    ],
)
def test_bad_credentials_exit_5(cli: Cli, arguments: list[str]) -> None:
    # A key is only ever given with its URL.
    url = ["--url", str(cli.environment["SUPABASE_URL"])] if "--key" in arguments else []
    result = cli.run("get", str(uuid.uuid4()), *arguments, *url)
    assert result.exit_code == ExitCode.NOT_ALLOWED
    assert error_line(result.stderr).startswith("error: not authenticated")
    assert arguments[1] not in result.stderr
