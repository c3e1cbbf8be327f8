"""The bench's peer (bench/story_service.py) against the test stack: `make bench` compares it with
the gateway only if both do the same work, so a profile written by one reads the same through the
other, and the peer refuses what the story says it refuses."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from bench.story_peer import PeerService
from movement_profiles_cli.stack.state import StackState
from tests.support.users import StackUser

pytestmark = pytest.mark.integration

PROFILES = "/movement-profiles"  # the story's paths
FIELDS = {"id", "user_id", "training_preferences", "goals", "created_at", "updated_at"}
BODY = {"training_preferences": ["strength_training", "yoga"], "goals": ["build_muscle", "rehab"]}


@pytest.fixture(scope="module")
def peer(stack: StackState, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    log = tmp_path_factory.mktemp("peer") / "peer.log"
    with (
        PeerService(stack.db_url(), stack.jwt_secret, log, workers=1) as service,
        httpx.Client(base_url=service.url) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def gateway(stack: StackState) -> Iterator[httpx.Client]:
    headers = {"apikey": stack.anon_key, "Accept": "application/vnd.pgrst.object+json"}
    with httpx.Client(base_url=stack.rest_url, headers=headers) as client:
        yield client


def bearer(user: StackUser) -> dict[str, str]:
    return {"Authorization": f"Bearer {user.access_token}"}


def as_values(profile: dict[str, Any]) -> dict[str, Any]:
    """The profile with its timestamps as instants (PostgREST writes +00:00, pydantic Z)."""
    assert set(profile) == FIELDS
    return {
        **profile,
        "created_at": datetime.fromisoformat(profile["created_at"]),
        "updated_at": datetime.fromisoformat(profile["updated_at"]),
    }


def gateway_profile(gateway: httpx.Client, user: StackUser) -> dict[str, Any]:
    # The story's design has the two fields of the contract: compare what both serve.
    response = gateway.get(
        "/movement_profiles",
        params={"user_id": f"eq.{user.id}", "select": ",".join(sorted(FIELDS))},
        headers=bearer(user),
    )
    response.raise_for_status()
    return as_values(response.json())


def test_a_profile_reads_the_same_through_the_peer_and_the_gateway(
    peer: httpx.Client, gateway: httpx.Client, make_user: Callable[[], StackUser]
) -> None:
    by_peer, by_gateway = make_user(), make_user()
    created = peer.post(PROFILES, json=BODY, headers=bearer(by_peer))
    assert created.status_code == 201, created.text
    assert as_values(created.json()) == gateway_profile(gateway, by_peer)

    response = gateway.post(
        "/movement_profiles",
        json=BODY,
        headers={**bearer(by_gateway), "Prefer": "return=representation"},
    )
    assert response.status_code == 201, response.text
    read = peer.get(f"{PROFILES}/{by_gateway.id}", headers=bearer(by_gateway))
    assert read.status_code == 200, read.text
    assert as_values(read.json()) == gateway_profile(gateway, by_gateway)


def test_put_updates_the_row_the_gateway_reads(
    peer: httpx.Client, gateway: httpx.Client, make_user: Callable[[], StackUser]
) -> None:
    user = make_user()
    before = as_values(peer.post(PROFILES, json=BODY, headers=bearer(user)).json())
    updated = peer.put(f"{PROFILES}/{user.id}", json={"goals": ["lose_fat"]}, headers=bearer(user))
    assert updated.status_code == 200, updated.text
    after = gateway_profile(gateway, user)
    assert as_values(updated.json()) == after
    assert after["goals"] == ["lose_fat"]
    assert after["training_preferences"] == BODY["training_preferences"]
    assert after["created_at"] == before["created_at"]
    assert after["updated_at"] > before["updated_at"]  # set by the table's trigger


@pytest.mark.parametrize(
    "body",
    [
        {"training_preferences": ["dance"], "goals": ["rehab"]},
        {"training_preferences": [], "goals": ["rehab"]},
        {"training_preferences": ["yoga"]},
        {"training_preferences": ["yoga", "yoga"], "goals": ["rehab"]},  # the table's CHECK
    ],
)
def test_invalid_input_is_400(
    peer: httpx.Client, make_user: Callable[[], StackUser], body: dict[str, Any]
) -> None:
    response = peer.post(PROFILES, json=body, headers=bearer(make_user()))
    assert response.status_code == 400, response.text


def test_a_bad_token_is_401_and_another_users_profile_403(
    peer: httpx.Client, make_user: Callable[[], StackUser]
) -> None:
    owner, other = make_user(), make_user()
    assert peer.post(PROFILES, json=BODY, headers=bearer(owner)).status_code == 201
    path = f"{PROFILES}/{owner.id}"
    assert peer.get(path).status_code == 401
    forged = {"Authorization": f"Bearer {owner.access_token[:-2]}xx"}
    assert peer.get(path, headers=forged).status_code == 401
    assert peer.get(path, headers=bearer(other)).status_code == 403
    assert peer.put(path, json={"goals": ["rehab"]}, headers=bearer(other)).status_code == 403
