"""`from_supabase`: the SDK sends through an existing supabase-py client's connections."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

# supabase-py is an extra (`movement-profiles[supabase]`): the lowest-versions leg runs the SDK
# without it, and this file in a venv of its own with supabase-py's lowest release.
pytest.importorskip("supabase.client")  # not the checkout's supabase/ folder
from supabase import AsyncClientOptions, ClientOptions, acreate_client, create_client

from movement_profiles import (
    AsyncMovementProfilesClient,
    MovementProfilesClient,
    NotFoundError,
)
from movement_profiles_cli.stack.state import StackState
from tests.support.users import StackUser

pytestmark = pytest.mark.integration


def test_sync_client_reuses_the_supabase_clients_session_and_user(
    stack: StackState, make_user: Callable[[], StackUser]
) -> None:
    user, stranger = make_user(), make_user()
    sent: list[httpx.Request] = []
    session = httpx.Client(event_hooks={"request": [sent.append]})
    supabase = create_client(
        stack.api_url,
        stack.anon_key,
        options=ClientOptions(
            headers={"Authorization": f"Bearer {user.access_token}"}, httpx_client=session
        ),
    )
    with MovementProfilesClient.from_supabase(supabase) as profiles:
        created = profiles.create({"training_preferences": ["yoga"], "goals": ["rehab"]})
        assert created.user_id == user.id  # acted as the supabase client's user
        assert profiles.get(user.id) == created
        with pytest.raises(NotFoundError):
            profiles.get(stranger.id)
    assert len(sent) == 3, "every request went through the supabase client's session"
    # Closing the SDK client left the supabase client usable.
    rows = supabase.table("movement_profiles").select("user_id").execute().data
    assert rows == [{"user_id": str(user.id)}]
    session.close()


async def test_async_client_reuses_the_supabase_async_client(
    stack: StackState, make_user: Callable[[], StackUser]
) -> None:
    user = make_user()
    supabase = await acreate_client(
        stack.api_url,
        stack.service_role_key,
        options=AsyncClientOptions(),
    )
    async with AsyncMovementProfilesClient.from_supabase(supabase) as profiles:
        created = await profiles.create(
            {"user_id": user.id, "training_preferences": ["running"], "goals": ["lose_fat"]}
        )
        assert (await profiles.get(user.id)) == created
        session = supabase.postgrest.session
    assert not session.is_closed
    await session.aclose()
