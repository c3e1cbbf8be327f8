"""`movement-profiles create | get | update | list | delete | options`: one profile at a time.

Each command parses its options, makes one SDK call and prints the result: a table, or JSON with
`--json`. The database decides (validation, row-level security); the SDK words its answers.
"""

from __future__ import annotations

from typing import Annotated
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
    Goal,
    TrainingPreference,
    goal_option,
    preference_option,
)

app = typer.Typer()

UserIdArgument = Annotated[UUID, typer.Argument(help="The auth user whose profile it is.")]


@app.command(epilog=ALLOWED_VALUES_EPILOG)
def create(
    training_preferences: Annotated[
        list[TrainingPreference],
        preference_option("How the user likes to train; repeat for several (values below)."),
    ],
    goals: Annotated[
        list[Goal],
        goal_option("What the user trains for; repeat for several (values below)."),
    ],
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
    from movement_profiles import MovementProfileCreate
    from movement_profiles_cli.commands import output

    if user_id is None and access_token is None:
        fail(
            "--user-id is required (unless --access-token acts as the user)", ExitCode.INVALID_INPUT
        )
    with connected(url, key, access_token) as client:
        profile = client.create(
            MovementProfileCreate(
                user_id=user_id, training_preferences=training_preferences, goals=goals
            )
        )
    output.show_profile(profile, as_json=json_output)


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
        list[TrainingPreference] | None,
        preference_option("Replace the training preferences; repeat for several (values below)."),
    ] = None,
    goals: Annotated[
        list[Goal] | None,
        goal_option("Replace the goals; repeat for several (values below)."),
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
    """Replace a profile's training preferences and/or goals; what is not given is kept."""
    from movement_profiles import MovementProfileUpdate
    from movement_profiles_cli.commands import output

    with connected(url, key, access_token) as client:
        profile = client.update(
            user_id,
            MovementProfileUpdate(
                training_preferences=training_preferences or None, goals=goals or None
            ),
            expected_updated_at=expected_updated_at,
        )
    output.show_profile(profile, as_json=json_output)


@app.command("list", epilog=ALLOWED_VALUES_EPILOG)
def list_profiles(
    training_preferences: Annotated[
        list[TrainingPreference] | None,
        preference_option(
            "Only profiles that include it; repeat to require several (values below)."
        ),
    ] = None,
    goals: Annotated[
        list[Goal] | None,
        goal_option("Only profiles that include it; repeat to require several (values below)."),
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

    with connected(url, key, access_token) as client:
        profiles = client.list(
            training_preference=training_preferences or None,
            goal=goals or None,
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
    """Show the allowed training preferences and goals, as the database defines them."""
    from movement_profiles_cli.commands import output

    with connected(url, key, access_token) as client:
        allowed = client.options()
    output.show_options(allowed, as_json=json_output)
