"""An UPDATE or DELETE without a filter is refused for every API caller, as the safeupdate
library does on hosted Supabase: 400 with SQLSTATE 21000, and nothing written. That holds on the
component's table and on a host's, however the parameter names and the path are spelled:
PostgREST decodes both before it reads them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from movement_profiles_cli.stack.state import StackState
from tests.security import host_table
from tests.security.support import (
    RETURN_ROWS,
    VALID_PROFILE,
    Database,
    as_user,
    insert_profiles,
    json_error,
    table_fingerprint,
)
from tests.support.tokens import access_token
from tests.support.users import create_auth_users

pytestmark = pytest.mark.integration

# Query strings that name no row: only the parameters that shape the answer.
UNFILTERED = ["", "select=user_id", "order=user_id&limit=1", "columns=goals&select=*"]
# The same, spelled as PostgREST decodes them: percent-encoded names, a parameter with no raw `=`
# (PostgREST ignores it), a filter of an embedded resource (it filters no row written).
UNFILTERED_SPELLINGS = [
    "%73elect=user_id",
    "s%65lect=*&%6Frder=user_id",
    "%6C%69%6D%69%74=1&%6Fffset=0",
    "on%5Fconflict=id",
    "%63olumns=goals",
    "select%3Duser_id",
    "user_id",
    "select=*;%6Frder=id",
    "x.user_id=eq.00000000-0000-4000-8000-000000000000",
    "x%2Eor=(id.is.null)",
]
# The component's table, in spellings nginx decodes to it.
TABLE_SPELLINGS = ["/movement_profiles", "/movement%5Fprofiles", "//movement_profiles"]


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
        "signed-in owner": as_user(stack, access_token(stack, owner)),
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


@pytest.mark.parametrize("path", TABLE_SPELLINGS)
@pytest.mark.parametrize("query", UNFILTERED_SPELLINGS)
@pytest.mark.parametrize(("method", "statement"), [("PATCH", "UPDATE"), ("DELETE", "DELETE")])
def test_an_unfiltered_write_in_any_spelling_is_refused(
    stack: StackState,
    api: httpx.Client,
    database: Database,
    owner: uuid.UUID,
    path: str,
    query: str,
    method: str,
    statement: str,
) -> None:
    before = table_fingerprint(database)
    for caller, headers in callers(stack, owner).items():
        response = api.request(
            method, f"{path}?{query}", json={"goals": ["lose_fat"]}, headers=headers
        )
        assert response.status_code == 400, f"{caller}: {response.status_code} {response.text}"
        body = json_error(response)
        assert (body["code"], body["message"]) == ("21000", f"{statement} requires a WHERE clause")
    assert table_fingerprint(database) == before


@pytest.fixture(scope="module")
def host(stack: StackState, database: Database) -> Iterator[None]:
    with host_table.host_table(stack, database):
        yield


@pytest.mark.parametrize("query", UNFILTERED + UNFILTERED_SPELLINGS)
@pytest.mark.parametrize(("method", "statement"), [("PATCH", "UPDATE"), ("DELETE", "DELETE")])
def test_an_unfiltered_write_to_a_host_table_is_refused(
    stack: StackState,
    api: httpx.Client,
    database: Database,
    host: None,
    query: str,
    method: str,
    statement: str,
) -> None:
    before = host_table.fingerprint(database)
    response = api.request(
        method,
        f"/{host_table.TABLE}?{query}",
        json={"tag": "overwritten"},
        headers={"apikey": stack.service_role_key},
    )
    assert response.status_code == 400, f"{response.status_code} {response.text}"
    body = json_error(response)
    assert (body["code"], body["message"]) == ("21000", f"{statement} requires a WHERE clause")
    assert host_table.fingerprint(database) == before


def test_a_filtered_write_to_a_host_table_goes_through(
    stack: StackState, api: httpx.Client, database: Database, host: None
) -> None:
    try:
        response = api.patch(
            f"/{host_table.TABLE}?name=eq.beta&%73elect=name,tag",
            json={"tag": "changed"},
            headers={"apikey": stack.service_role_key, **RETURN_ROWS},
        )
        assert response.status_code == 200, response.text
        assert response.json() == [{"name": "beta", "tag": "changed"}]
    finally:
        host_table.seed(database)
