"""The same contract through supabase-py's own client, the way another Python service would call it
without the SDK: gateway, apikey, the user's JWT as Authorization."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from postgrest.exceptions import APIError
from supabase import Client, ClientOptions, create_client

from movement_profiles_cli.stack.state import StackState
from tests.support.users import StackUser

pytestmark = pytest.mark.integration


def client_for(stack: StackState, user: StackUser) -> Client:
    return create_client(
        stack.api_url,
        stack.anon_key,
        options=ClientOptions(headers={"Authorization": f"Bearer {user.access_token}"}),
    )


def test_create_read_update_as_the_owner(
    stack: StackState, make_user: Callable[[], StackUser]
) -> None:
    user = make_user()
    supabase = client_for(stack, user)
    created = (
        supabase.table("movement_profiles")
        .insert({"training_preferences": ["crossfit", "mixed"], "goals": ["lose_fat"]})
        .execute()
    )
    assert created.data[0]["user_id"] == str(user.id)

    read = (
        supabase.table("movement_profiles")
        .select("*")
        .eq("user_id", str(user.id))
        .single()
        .execute()
    )
    assert read.data["training_preferences"] == ["crossfit", "mixed"]
    assert read.data["goals"] == ["lose_fat"]

    updated = (
        supabase.table("movement_profiles")
        .update({"goals": ["general_health", "rehab"]})
        .eq("user_id", str(user.id))
        .execute()
    )
    assert updated.data[0]["goals"] == ["general_health", "rehab"]
    assert updated.data[0]["training_preferences"] == ["crossfit", "mixed"]


def test_invalid_preference_is_rejected_with_the_field_named(
    stack: StackState, make_user: Callable[[], StackUser]
) -> None:
    supabase = client_for(stack, make_user())
    with pytest.raises(APIError) as rejected:
        supabase.table("movement_profiles").insert(
            {"training_preferences": ["pilates"], "goals": ["rehab"]}
        ).execute()
    assert rejected.value.code == "23514"
    assert rejected.value.message == 'training_preferences contains an invalid value: "pilates"'
    assert rejected.value.hint == "training_preferences"


def test_second_create_conflicts(stack: StackState, make_user: Callable[[], StackUser]) -> None:
    supabase = client_for(stack, make_user())
    row = {"training_preferences": ["sports"], "goals": ["general_health"]}
    supabase.table("movement_profiles").insert(row).execute()
    with pytest.raises(APIError) as conflict:
        supabase.table("movement_profiles").insert(row).execute()
    assert conflict.value.code == "23505"


def test_another_users_profile_is_invisible(
    stack: StackState, make_user: Callable[[], StackUser]
) -> None:
    owner, stranger = make_user(), make_user()
    client_for(stack, owner).table("movement_profiles").insert(
        {"training_preferences": ["yoga"], "goals": ["rehab"]}
    ).execute()
    seen = client_for(stack, stranger).table("movement_profiles").select("*").execute()
    assert seen.data == []
    with pytest.raises(APIError) as missing:
        client_for(stack, stranger).table("movement_profiles").select("*").eq(
            "user_id", str(owner.id)
        ).single().execute()
    assert missing.value.code == "PGRST116"


def test_options_rpc_is_callable_with_the_anon_key(stack: StackState) -> None:
    options = create_client(stack.api_url, stack.anon_key).rpc("movement_profile_options").execute()
    assert set(options.data) == {"training_preferences", "goals"}
    assert "yoga" in options.data["training_preferences"]
    assert "improve_flexibility" not in options.data["goals"]
