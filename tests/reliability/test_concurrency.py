"""Concurrency through the gateway: the database, not luck, decides every race.

- 50 creates for one user at once: exactly one 201, the other 49 get 409 (the unique index).
- 50 updates at once, each made with the `updated_at` the writers read (optimistic concurrency):
  exactly one wins; the others change nothing and are told so (an empty result, which the SDK
  raises as `StaleUpdateError`). Shown over raw HTTP and again through the async SDK.
- 200 users at once, each creating and then updating their own profile several times: every row
  ends exactly as its owner last wrote it (and as the last acknowledged answer showed it).

No request in any of them may get a 5xx.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Iterable
from datetime import datetime
from typing import Any

import httpx
import pytest

from movement_profiles import (
    AsyncMovementProfilesClient,
    Goal,
    MovementProfileUpdate,
    TrainingPreference,
)
from movement_profiles.errors import StaleUpdateError
from movement_profiles_cli.stack.state import StackState
from tests.security.support import (
    OBJECT,
    RETURN_ROWS,
    VALID_PROFILE,
    connect,
    insert_profiles,
    stored_profiles,
)
from tests.support.tokens import access_token
from tests.support.users import create_auth_users

pytestmark = pytest.mark.integration

PREFERENCES = [member.value for member in TrainingPreference]
GOALS = [member.value for member in Goal]


def random_profile(rng: random.Random) -> dict[str, list[str]]:
    """A valid profile with arrays in random order (order is data: it must survive intact)."""
    return {
        "training_preferences": rng.sample(PREFERENCES, rng.randint(1, len(PREFERENCES))),
        "goals": rng.sample(GOALS, rng.randint(1, len(GOALS))),
    }


@pytest.fixture
async def client(stack: StackState) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=stack.rest_url, timeout=60, limits=limits) as session:
        yield session


async def all_at_once(requests: Iterable[Awaitable[httpx.Response]]) -> list[httpx.Response]:
    return list(await asyncio.gather(*requests))


def headers_for(stack: StackState, user_id: uuid.UUID) -> dict[str, str]:
    token = access_token(stack, user_id)
    return {"apikey": stack.anon_key, "Authorization": f"Bearer {token}", **RETURN_ROWS}


async def test_fifty_concurrent_creates_for_one_user_give_one_201_and_forty_nine_409(
    stack: StackState, client: httpx.AsyncClient
) -> None:
    with connect(stack) as db:
        (user_id,) = create_auth_users(db, 1)
    headers = headers_for(stack, user_id)
    rng = random.Random(50)
    bodies = [{"user_id": str(user_id), **random_profile(rng)} for _ in range(50)]
    responses = await all_at_once(
        client.post("/movement_profiles", json=body, headers=headers) for body in bodies
    )
    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 1, 409: 49}, statuses
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"23505"}
    (winner,) = [r.json()[0] for r in responses if r.status_code == 201]
    with connect(stack) as db:
        stored = stored_profiles(db, [user_id])
    assert list(stored) == [user_id], "exactly one profile for the user"
    _id, preferences, goals, *_ = stored[user_id]
    assert (preferences, goals) == (winner["training_preferences"], winner["goals"])


async def read_updated_at(
    client: httpx.AsyncClient, user_id: uuid.UUID, headers: dict[str, str]
) -> str:
    response = await client.get(
        "/movement_profiles",
        params={"user_id": f"eq.{user_id}"},
        headers={**headers, "Accept": OBJECT},
    )
    assert response.status_code == 200, response.text
    updated_at: str = response.json()["updated_at"]
    return updated_at


async def test_fifty_concurrent_updates_with_the_same_expected_updated_at_have_one_winner(
    stack: StackState, client: httpx.AsyncClient
) -> None:
    with connect(stack) as db:
        (user_id,) = create_auth_users(db, 1)
        insert_profiles(db, {user_id: VALID_PROFILE})
    headers = headers_for(stack, user_id)
    seen = await read_updated_at(client, user_id, headers)
    rng = random.Random(51)
    changes = [random_profile(rng) for _ in range(50)]
    # What the SDK sends for update(..., expected_updated_at=seen): the row must still be as read.
    condition = {"user_id": f"eq.{user_id}", "updated_at": f"eq.{seen}"}
    responses = await all_at_once(
        client.patch("/movement_profiles", params=condition, json=change, headers=headers)
        for change in changes
    )
    assert {response.status_code for response in responses} == {200}
    winners = [response.json()[0] for response in responses if response.json()]
    assert len(winners) == 1, f"{len(winners)} updates won the race"
    with connect(stack) as db:
        _id, preferences, goals, _created, updated = stored_profiles(db, [user_id])[user_id]
    assert (preferences, goals) == (winners[0]["training_preferences"], winners[0]["goals"])
    assert updated > datetime.fromisoformat(seen)


async def test_fifty_concurrent_sdk_updates_with_expected_updated_at_have_one_winner(
    stack: StackState,
) -> None:
    with connect(stack) as db:
        (user_id,) = create_auth_users(db, 1)
        insert_profiles(db, {user_id: VALID_PROFILE})
    rng = random.Random(52)
    async with AsyncMovementProfilesClient(
        stack.api_url, stack.anon_key, access_token=access_token(stack, user_id)
    ) as sdk:
        seen = (await sdk.get(user_id)).updated_at
        outcomes = await asyncio.gather(
            *(
                sdk.update(user_id, MovementProfileUpdate(**random_profile(rng)), seen)
                for _ in range(50)
            ),
            return_exceptions=True,
        )
        final = await sdk.get(user_id)
    winners = [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]
    losers = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert len(winners) == 1, f"{len(winners)} updates won the race"
    assert all(isinstance(loser, StaleUpdateError) for loser in losers), {
        type(loser).__name__ for loser in losers
    }
    assert all(loser.status == 409 for loser in losers if isinstance(loser, StaleUpdateError))
    assert final == winners[0]


async def own_profile_lifecycle(
    client: httpx.AsyncClient, stack: StackState, user_id: uuid.UUID, rng: random.Random
) -> tuple[dict[str, Any], list[int]]:
    """Create, then update three times; return the last acknowledged row and every status."""
    headers = headers_for(stack, user_id)
    statuses = []
    created = await client.post(
        "/movement_profiles", json={"user_id": str(user_id), **random_profile(rng)}, headers=headers
    )
    statuses.append(created.status_code)
    last = created.json()[0] if created.status_code == 201 else {}
    for _ in range(3):
        await asyncio.sleep(rng.random() / 100)  # interleave the owners' writes differently
        updated = await client.patch(
            "/movement_profiles",
            params={"user_id": f"eq.{user_id}"},
            json=random_profile(rng),
            headers=headers,
        )
        statuses.append(updated.status_code)
        if updated.status_code == 200:
            last = updated.json()[0]
    return last, statuses


async def test_two_hundred_concurrent_owners_each_leave_their_row_as_they_last_wrote_it(
    stack: StackState, client: httpx.AsyncClient
) -> None:
    with connect(stack) as db:
        user_ids = create_auth_users(db, 200)
    rngs = [random.Random(index) for index in range(200)]
    results = await asyncio.gather(
        *(
            own_profile_lifecycle(client, stack, user_id, rng)
            for user_id, rng in zip(user_ids, rngs, strict=True)
        )
    )
    statuses = Counter(status for _last, codes in results for status in codes)
    assert statuses == {201: 200, 200: 600}, statuses
    with connect(stack) as db:
        stored = stored_profiles(db, user_ids)
    assert len(stored) == 200
    mismatched = [
        user_id
        for user_id, (last, _codes) in zip(user_ids, results, strict=True)
        if (stored[user_id][0], stored[user_id][1], stored[user_id][2])
        != (uuid.UUID(last["id"]), last["training_preferences"], last["goals"])
        or uuid.UUID(last["user_id"]) != user_id
    ]
    assert not mismatched, f"{len(mismatched)} rows differ from their owner's last write"
