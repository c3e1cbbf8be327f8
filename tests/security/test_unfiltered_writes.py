"""An UPDATE or DELETE without a filter is refused for every API caller, as the safeupdate
library does on hosted Supabase: 400 with SQLSTATE 21000, and nothing written."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from movement_profiles_cli.stack.state import StackState
from tests.security.support import (
    VALID_PROFILE,
    Database,
    as_user,
    create_auth_users,
    insert_profiles,
    json_error,
    table_fingerprint,
    user_token,
)

pytestmark = pytest.mark.integration

# Query strings that name no row: only the parameters that shape the answer.
UNFILTERED = ["", "select=user_id", "order=user_id&limit=1", "columns=goals&select=*"]


@pytest.fixture(scope="module")
def api(stack: StackState) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.rest_url, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def owner(database: Database) -> uuid.UUID:
    (user_id,) = create_auth_users(database, 1)
    insert_profiles(database, {user_id: VALID_PROFILE})
    return user_id


def callers(stack: StackState, owner: uuid.UUID) -> dict[str, dict[str, str]]:
    return {
        "service role": {"apikey": stack.service_role_key},
        "signed-in owner": as_user(stack, user_token(stack, owner)),
    }


@pytest.mark.parametrize("query", UNFILTERED)
@pytest.mark.parametrize(("method", "statement"), [("PATCH", "UPDATE"), ("DELETE", "DELETE")])
def test_a_write_without_a_filter_is_refused_and_changes_nothing(
    stack: StackState,
    api: httpx.Client,
    database: Database,
    owner: uuid.UUID,
    query: str,
    method: str,
    statement: str,
) -> None:
    before = table_fingerprint(database)
    for caller, headers in callers(stack, owner).items():
        response = api.request(
            method, f"/movement_profiles?{query}", json={"goals": ["lose_fat"]}, headers=headers
        )
        assert response.status_code == 400, f"{caller}: {response.status_code} {response.text}"
        body = json_error(response)
        assert body["code"] == "21000"
        assert body["message"] == f"{statement} requires a WHERE clause"
    assert table_fingerprint(database) == before


def test_the_same_write_with_a_filter_goes_through(
    stack: StackState, api: httpx.Client, owner: uuid.UUID
) -> None:
    response = api.patch(
        f"/movement_profiles?user_id=eq.{owner}",
        json={"goals": ["general_health"]},
        headers={**callers(stack, owner)["signed-in owner"], "Prefer": "return=representation"},
    )
    assert response.status_code == 200, response.text
    assert response.json()[0]["goals"] == ["general_health"]
