"""`movement-profiles create | get | update | list | delete | options`: one profile at a time.

Each command parses its options, makes one SDK call and prints the result: a table, or JSON with
`--json`. The database decides (validation against its catalogue, row-level security); the SDK
words its answers. Fields an admin added are set with `--set FIELD=VALUE[,VALUE...]` and
filtered with `--has`; `update --set` changes only the fields it names (see `update`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import typer

from movement_profiles_cli.commands._common import (
    AccessTokenOption,
    ExitCode,
    JsonOption,
    KeyOption,
    UrlOption,
    connected,
    fail,
)
from movement_profiles_cli.commands.choices import (
    ALLOWED_VALUES_EPILOG,
    goal_option,
    preference_option,
    set_option,
)
from movement_profiles_cli.commands.fields import parse_assignments

if TYPE_CHECKING:
    from movement_profiles import MovementProfile, MovementProfilesClient

app = typer.Typer()

UserIdArgument = Annotated[UUID, typer.Argument(help="The auth user whose profile it is.")]


@app.command(epilog=ALLOWED_VALUES_EPILOG)
def create(
    training_preferences: Annotated[
        list[str] | None,
        preference_option("How the user likes to train (required); repeat for several."),
    ] = None,
    goals: Annotated[
        list[str] | None,
        goal_option("What the user trains for (required); repeat for several."),
    ] = None,
    assignments: Annotated[
        list[str] | None,
        set_option(
            "Set a field, e.g. --set injuries=knee,shoulder (any field of `catalogue show`, "
            "built-in ones too); repeat for several."
        ),
    ] = None,
    user_id: Annotated[
        UUID | None,
        typer.Option(
            "--user-id",
            help="The auth user it is for. Required with the service key; with --access-token "
            "it defaults to that user.",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOption = False,
    url: UrlOption = None,
    key: KeyOption = None,
    access_token: AccessTokenOption = None,
) -> None:
    """Create a user's movement profile."""
    from movement_profiles_cli.commands import output

    if user_id is None and access_token is None:
        fail(
            "--user-id is required (unless --access-token acts as the user)", ExitCode.INVALID_INPUT
        )
    values = parse_assignments(assignments)
    arrays = {
        "training_preferences": [
            *(training_preferences or ()),
            *values.built_in.get("training_preferences", ()),
        ],
        "goals": [*(goals or ()), *values.built_in.get("goals", ())],
    }
    for name, option in (("training_preferences", "--training-preference"), ("goals", "--goal")):
        if name not in values.built_in and not arrays[name]:
            fail(f"{option} is required (or --set {name}=...)", ExitCode.INVALID_INPUT)
    profile: dict[str, Any] = {"user_id": str(user_id) if user_id else None, **arrays}
    if values.custom:
        profile["custom_fields"] = values.custom
    with connected(url, key, access_token) as client:
        created = client.create({key: value for key, value in profile.items() if value is not None})
    output.show_profile(created, as_json=json_output)


@app.command()
def get(
    user_id: UserIdArgument,
    json_output: JsonOption = False,
    url: UrlOption = None,
    key: KeyOption = None,
    access_token: AccessTokenOption = None,
) -> None:
    """Show a user's movement profile."""
    from movement_profiles_cli.commands import output

    with connected(url, key, access_token) as client:
        profile = client.get(user_id)
    output.show_profile(profile, as_json=json_output)


@app.command(epilog=ALLOWED_VALUES_EPILOG)
def update(
    user_id: UserIdArgument,
    training_preferences: Annotated[
        list[str] | None,
        preference_option("Replace the training preferences; repeat for several."),
    ] = None,
    goals: Annotated[
        list[str] | None,
        goal_option("Replace the goals; repeat for several."),
    ] = None,
    assignments: Annotated[
        list[str] | None,
        set_option(
            "Replace a field's values, e.g. --set injuries=knee; --set injuries= clears it. "
            "Other fields are kept. Repeat for several."
        ),
    ] = None,
    expected_updated_at: Annotated[
        str | None,
        typer.Option(
            "--expected-updated-at",
            help="Write only if the profile's updated_at is still this (as `get --json` "
            "prints it); otherwise exit 4 and write nothing.",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOption = False,
    url: UrlOption = None,
    key: KeyOption = None,
    access_token: AccessTokenOption = None,
) -> None:
    """Replace the values of the given fields of a profile; what is not given is kept."""
    from movement_profiles_cli.commands import output

    values = parse_assignments(assignments)
    changes: dict[str, Any] = {}
    for name, given in (("training_preferences", training_preferences), ("goals", goals)):
        if given or name in values.built_in:
            changes[name] = [*(given or ()), *values.built_in.get(name, ())]
    if not changes and not values.custom:
        fail(
            "nothing to change: give --training-preference, --goal or --set FIELD=VALUES",
            ExitCode.INVALID_INPUT,
        )
    with connected(url, key, access_token) as client:
        profile = _update(client, user_id, changes, values.custom, expected_updated_at)
    output.show_profile(profile, as_json=json_output)


#: How often `update --set` reads and writes again when another writer changed the profile
#: between its read and its write (without --expected-updated-at, which makes that an error).
_MERGE_ATTEMPTS = 5


def _update(
    client: MovementProfilesClient,
    user_id: UUID,
    changes: dict[str, Any],
    custom: dict[str, list[str]],
    expected_updated_at: str | None,
) -> MovementProfile:
    """One update. The custom fields are one JSON column, written whole: to change only the
    fields named, the profile is read, its other fields kept, and the write made on condition
    that nobody changed it since (`updated_at`), again if somebody did. With
    `--expected-updated-at`, a change since that time is the caller's conflict (exit 4)."""
    from movement_profiles import errors

    if not custom:
        return client.update(user_id, changes, expected_updated_at=expected_updated_at)
    for attempt in range(1, _MERGE_ATTEMPTS + 1):
        current = client.get(user_id)
        merged = {**current.custom_fields, **custom}
        try:
            return client.update(
                user_id,
                {**changes, "custom_fields": merged},
                expected_updated_at=expected_updated_at or current.updated_at,
            )
        except errors.StaleUpdateError:
            if expected_updated_at is not None or attempt == _MERGE_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


@app.command("list", epilog=ALLOWED_VALUES_EPILOG)
def list_profiles(
    training_preferences: Annotated[
        list[str] | None,
        preference_option("Only profiles that include it; repeat to require several."),
    ] = None,
    goals: Annotated[
        list[str] | None,
        goal_option("Only profiles that include it; repeat to require several."),
    ] = None,
    has: Annotated[
        list[str] | None,
        set_option(
            "Only profiles whose field includes every value given, e.g. --has injuries=knee "
            "(any field of `catalogue show`); repeat for several fields.",
            "--has",
        ),
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many profiles (up to 1000).")] = 100,
    offset: Annotated[int, typer.Option(help="Skip this many first.")] = 0,
    json_output: JsonOption = False,
    url: UrlOption = None,
    key: KeyOption = None,
    access_token: AccessTokenOption = None,
) -> None:
    """List profiles by user_id, optionally only those including given values."""
    from movement_profiles_cli.commands import output

    wanted = parse_assignments(has, "--has", allow_empty=False)
    preferences = [*(training_preferences or ()), *wanted.built_in.get("training_preferences", ())]
    wanted_goals = [*(goals or ()), *wanted.built_in.get("goals", ())]
    with connected(url, key, access_token) as client:
        # The custom fields by containment (`custom_fields @> {...}`), which the GIN index serves.
        profiles = client.list(
            training_preference=preferences or None,
            goal=wanted_goals or None,
            custom_fields=wanted.custom or None,
            limit=limit,
            offset=offset,
        )
    output.show_profiles(profiles, as_json=json_output)


@app.command()
def delete(
    user_id: UserIdArgument,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    json_output: JsonOption = False,
    url: UrlOption = None,
    key: KeyOption = None,
    access_token: AccessTokenOption = None,
) -> None:
    """Delete a user's movement profile (admins only: users cannot delete theirs)."""
    if not yes:
        try:
            # On stderr: stdout stays the command's output (--json).
            confirmed = typer.confirm(f"Delete the movement profile of user {user_id}?", err=True)
        except typer.Abort:
            confirmed = False
        if not confirmed:
            fail("not confirmed: nothing was deleted (pass --yes to skip the question)")
    with connected(url, key, access_token) as client:
        client.delete(user_id)
    if json_output:
        from movement_profiles_cli.commands import output

        output.print_json({"user_id": str(user_id), "deleted": True})
    else:
        print(f"Deleted the movement profile of user {user_id}.")


@app.command()
def options(
    json_output: JsonOption = False,
    url: UrlOption = None,
    key: KeyOption = None,
    access_token: AccessTokenOption = None,
) -> None:
    """Show the allowed values of every field, as the database's catalogue holds them now
    (labels and descriptions: `catalogue show`)."""
    from movement_profiles_cli.commands import output

    with connected(url, key, access_token) as client:
        allowed = client.options()
    output.show_options(allowed, as_json=json_output)
