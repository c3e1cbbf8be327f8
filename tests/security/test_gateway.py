"""The gateway's own refusals: expensive filters, bytes that are not UTF-8, paths and requests
nginx used to answer in HTML, and what PostgREST's internal ports and OpenAPI root tell a caller.

The component is a guest in its host's project: the refusals of what this API never needs
(regex filters, CSV and form bodies, unlisted headers) hold on the component's own paths, in
every spelling PostgREST routes to them, and on the host's paths the gateway answers what
PostgREST answers straight (as behind hosted Supabase's Kong).

Requests go over raw sockets where an HTTP library would refuse to send them (bytes that are not
UTF-8 in a URL or a header, a broken request line). Every refusal must be a 4xx whose body is
valid UTF-8 JSON with a message; nothing here may get a 5xx.
"""

from __future__ import annotations

import os
import re
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from movement_profiles_cli.stack import gateway
from movement_profiles_cli.stack.state import DB_PASSWORD, StackState
from tests.security import host_table
from tests.security.support import (
    VALID_PROFILE,
    Database,
    RawResponse,
    gateway_json_error,
    insert_profiles,
    raw_get,
    raw_request,
    table_fingerprint,
)
from tests.support.tokens import access_token
from tests.support.users import create_auth_users

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("MOVEMENT_PROFILES_FUZZ_EXAMPLES", "250"))
PATTERN = "%5E(((.*)%7B1,12%7D)%7B1,12%7D)%7B1,12%7D%5C3x"
TABLE = b"/rest/v1/movement_profiles"


@pytest.fixture(scope="module")
def user(stack: StackState, database: Database) -> tuple[uuid.UUID, dict[bytes, bytes | None]]:
    """A signed-in user with a profile, and the raw headers of their frontend."""
    (user_id,) = create_auth_users(database, 1)
    insert_profiles(database, {user_id: VALID_PROFILE})
    token = access_token(stack, user_id)
    return user_id, {b"Authorization": f"Bearer {token}".encode()}


def callers(stack: StackState, user_headers: dict[bytes, bytes | None]) -> dict[str, Any]:
    return {
        "anon": {},
        "user": user_headers,
        "service role": {b"apikey": stack.service_role_key.encode()},
    }


# -- expensive filters --------------------------------------------------------------------------

REFUSED_FILTERS = {
    "match": f"training_preferences->>0=match.{PATTERN}",
    "imatch": f"goals->>0=imatch.{PATTERN}",
    "not.match": f"training_preferences->>0=not.match.{PATTERN}",
    "not.imatch": f"goals->>0=not.imatch.{PATTERN}",
    "match(any)": f"goals->>0=match(any).%7B{PATTERN},x%7D",
    "imatch(all) encoded": f"goals->>0=imatch%28all%29.%7B{PATTERN}%7D",
    "inside or=()": f"or=(goals->>0.eq.rehab,training_preferences->>0.match.{PATTERN})",
    "inside nested and/or": f"and=(user_id.not.is.null,or(goals->>0.not.imatch.{PATTERN}))",
    "inside not.or": f"not.or=(goals->>0.imatch.{PATTERN})",
    "encoded or tree": f"or=%28goals-%3E%3E0.match.{PATTERN}%29",
    "name percent-encoded": f"goals->>0=%6datch.{PATTERN}",
    "name in capitals, encoded": f"goals->>0=%4D%41TCH.{PATTERN}",
    "mixed case": f"goals->>0=iMaTcH.{PATTERN}",
    "dot encoded": f"goals->>0=m%61tch%2E{PATTERN}",
    "after a ; separator": f"select=user_id;goals->>0=match.{PATTERN}",
    "in a later param": f"select=user_id&limit=1&goals->>0=imatch.{PATTERN}",
    "on an embedded filter": f"select=*&movement_profiles.or=(goals->>0.match.{PATTERN})",
}


@pytest.mark.parametrize("caller", ["anon", "user", "service role"])
@pytest.mark.parametrize("case", REFUSED_FILTERS)
def test_regex_filters_on_the_components_table_are_refused_at_the_gateway(
    stack: StackState,
    user: tuple[uuid.UUID, dict[bytes, bytes | None]],
    caller: str,
    case: str,
) -> None:
    target = TABLE + b"?" + REFUSED_FILTERS[case].encode()
    response = raw_get(stack, target, callers(stack, user[1])[caller])
    assert response.status == 400, response.body[:300]
    body = gateway_json_error(response)
    assert body["code"] == "OPERATOR_NOT_ALLOWED"
    assert body["details"] is None
    assert "match" in body["message"]
    assert body["hint"]


# Every spelling of the component's paths that nginx decodes and normalizes to them: what PostgREST
# is sent, and what the component's rules are matched against.
TABLE_SPELLINGS = [
    TABLE,
    b"/rest/v1/movement%5Fprofiles",
    b"/rest/v1/movement%5fprofiles",
    b"/rest/v1/%6Dovement_profiles",
    b"/rest/v1//movement_profiles",
    b"/rest/v1/./movement_profiles",
    b"/rest/v1/x/../movement_profiles",
]
RPC_SPELLINGS = [
    b"/rest/v1/rpc/movement_profile_options",
    b"/rest/v1/rpc/movement%5fprofile_options",
    b"/rest/v1/rpc%2Fmovement_profile_options",
    b"/rest/v1/%72pc/movement_profile_options",
    b"/rest/v1/rpc//movement_profile_options",
]
COMPONENT_SPELLINGS = TABLE_SPELLINGS + RPC_SPELLINGS
SERVICE = b"apikey"


def service_headers(stack: StackState) -> dict[bytes, bytes | None]:
    return {SERVICE: stack.service_role_key.encode()}


def test_the_gateway_knows_every_function_the_component_exposes(
    db: psycopg.Connection[tuple[object, ...]],
) -> None:
    # A function the gateway does not list would be served as a host's path: without the
    # component's refusals (regex filters, foreign bodies, a user's oversized body).
    exposed = db.execute(
        "select proname from pg_catalog.pg_proc"
        " where pronamespace = 'public'::regnamespace and proname like 'movement\\_profile\\_%'"
    ).fetchall()
    assert sorted(name for (name,) in exposed) == sorted(gateway.COMPONENT_FUNCTIONS)


@pytest.mark.parametrize("path", COMPONENT_SPELLINGS, ids=lambda path: path.decode())
def test_every_spelling_of_the_components_paths_is_served_as_that_path(
    stack: StackState, path: bytes
) -> None:
    """The spelling reaches PostgREST as the component's path (200 with its answer), and an
    unlisted header, bad bytes and all, is not forwarded there (PostgREST would answer 500)."""
    query = b"?select=user_id&limit=1" if path in TABLE_SPELLINGS else b""
    headers = {**service_headers(stack), b"X-Anything-Else": b"\xff\xfe"}
    response = raw_get(stack, path + query, headers)
    assert response.status == 200, response.body[:300]
    assert isinstance(response.json(), list if path in TABLE_SPELLINGS else dict)


@pytest.mark.parametrize("path", COMPONENT_SPELLINGS, ids=lambda path: path.decode())
@pytest.mark.parametrize("operator", ["match", "imatch", "not.match"])
def test_regex_filters_are_refused_on_every_spelling_of_the_components_paths(
    stack: StackState, path: bytes, operator: str
) -> None:
    column = b"goals->>0" if path in TABLE_SPELLINGS else b"goal"
    target = path + b"?" + column + b"=" + operator.encode() + b"." + PATTERN.encode()
    response = raw_get(stack, target, service_headers(stack))
    assert response.status == 400, response.body[:300]
    assert gateway_json_error(response)["code"] == "OPERATOR_NOT_ALLOWED"


FOREIGN_BODIES = {
    "CSV": (b"text/csv", b'training_preferences,goals\n"[""yoga""]","[""rehab""]"'),
    "form": (b"application/x-www-form-urlencoded", b"training_preferences=%5B%5D&goals=%5B%5D"),
}


@pytest.mark.parametrize("path", COMPONENT_SPELLINGS, ids=lambda path: path.decode())
@pytest.mark.parametrize("kind", FOREIGN_BODIES)
def test_csv_and_form_bodies_are_refused_on_every_spelling_of_the_components_paths(
    stack: StackState, database: Database, path: bytes, kind: str
) -> None:
    content_type, content = FOREIGN_BODIES[kind]
    headers = {**service_headers(stack), b"Content-Type": content_type}
    rows_before = table_fingerprint(database)
    response = raw_get(stack, path, headers, method=b"POST", body=content)
    assert response.status == 415, response.body[:300]
    assert gateway_json_error(response)["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert table_fingerprint(database) == rows_before


def _goals_body(size: int) -> bytes:
    """A PATCH body of exactly `size` bytes: a long array of one allowed goal."""
    prefix, suffix = b'{"goals":["rehab"', b"]}"
    entries = (size - len(prefix) - len(suffix)) // len(b',"rehab"')
    body = prefix + b',"rehab"' * entries + suffix
    return body + b" " * (size - len(body))


@pytest.mark.parametrize("path", TABLE_SPELLINGS[:2], ids=lambda path: path.decode())
def test_a_body_larger_than_a_profile_is_refused_for_users_before_postgrest_parses_it(
    stack: StackState, database: Database, user: tuple[uuid.UUID, Any], path: bytes
) -> None:
    user_id, user_headers = user
    target = path + f"?user_id=eq.{user_id}".encode()
    headers = {**user_headers, b"Content-Type": b"application/json"}
    rows_before = table_fingerprint(database)
    refused = raw_get(stack, target, headers, method=b"PATCH", body=_goals_body(16_001))
    assert refused.status == 413, refused.body[:300]
    assert "limit 16,000 bytes" in gateway_json_error(refused)["message"]
    # Just under the limit the database judges it (too many values: a 400 naming the field).
    judged = raw_get(stack, target, headers, method=b"PATCH", body=_goals_body(16_000))
    assert judged.status == 400, judged.body[:300]
    assert gateway_json_error(judged)["hint"] == "goals"
    # A body without Content-Length could be any size: users send one profile with it.
    chunked = raw_get(
        stack,
        target,
        {**headers, b"Transfer-Encoding": b"chunked", b"Content-Length": None},
        method=b"PATCH",
        body=b"d\r\n" + b'{"goals":[1]}' + b"\r\n0\r\n\r\n",
    )
    assert chunked.status == 413, chunked.body[:300]
    assert table_fingerprint(database) == rows_before


def test_the_service_role_keeps_the_full_body_limit_on_the_components_table(
    stack: StackState, database: Database, user: tuple[uuid.UUID, Any]
) -> None:
    user_id, _ = user
    target = TABLE + f"?user_id=eq.{user_id}".encode()
    headers = {**service_headers(stack), b"Content-Type": b"application/json"}
    response = raw_get(stack, target, headers, method=b"PATCH", body=_goals_body(200_000))
    assert response.status == 400, response.body[:300]
    assert gateway_json_error(response)["hint"] == "goals"


# -- the host's paths: what PostgREST answers, as behind hosted Supabase's Kong -----------------


@pytest.fixture(scope="module")
def host(stack: StackState, database: Database) -> Iterator[None]:
    with host_table.host_table(stack, database):
        yield


@dataclass(frozen=True)
class Caller:
    """What a client sends the gateway, and what Kong would send PostgREST for it."""

    through_gateway: dict[str, str]
    straight: dict[str, str]


def host_callers(stack: StackState, user_id: uuid.UUID) -> dict[str, Caller]:
    token = access_token(stack, user_id)
    return {
        "anon": Caller({"apikey": stack.anon_key}, {"Authorization": f"Bearer {stack.anon_key}"}),
        "user": Caller(
            {"apikey": stack.anon_key, "Authorization": f"Bearer {token}"},
            {"Authorization": f"Bearer {token}"},
        ),
        "service role": Caller(
            {"apikey": stack.service_role_key},
            {"Authorization": f"Bearer {stack.service_role_key}"},
        ),
    }


def answer(response: httpx.Response) -> tuple[int, Any]:
    """Status and body; a JSON body parsed, so that formatting does not count."""
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.status_code, response.json()
    return response.status_code, response.text


def both_ways(
    stack: StackState,
    caller: Caller,
    method: str,
    path: str,
    *,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
) -> tuple[tuple[int, Any], tuple[int, Any]]:
    """The same request through the gateway and straight at PostgREST."""
    answers = []
    for base, credentials in (
        (stack.rest_url, caller.through_gateway),
        (stack.postgrest_url, caller.straight),
    ):
        response = httpx.request(
            method,
            base + path,
            params=params,
            headers={**credentials, **(headers or {})},
            content=content,
            timeout=10,
        )
        answers.append(answer(response))
    return answers[0], answers[1]


# Raw query strings, as a client sends them.
HOST_READS = {
    "match": "name=match.%5Ea",
    "imatch": "name=imatch.%5Ea",
    "not.match": "name=not.match.%5Ea",
    "not.imatch": "name=not.imatch.%5EA",
    "match in an or tree": "or=(name.match.%5Eb,name.eq.Apple)",
    "match, operator percent-encoded": "name=%6Datch.%5Ea",
}


@pytest.mark.parametrize("caller", ["anon", "user", "service role"])
@pytest.mark.parametrize("case", HOST_READS)
def test_regex_filters_on_a_host_table_answer_as_postgrest_does(
    stack: StackState, host: None, user: tuple[uuid.UUID, Any], caller: str, case: str
) -> None:
    who = host_callers(stack, user[0])[caller]
    query = f"{HOST_READS[case]}&select=name&order=name"
    gateway, straight = both_ways(stack, who, "GET", f"/{host_table.TABLE}?{query}")
    assert gateway == straight
    if caller == "service role":
        assert gateway[0] == 200, gateway


@pytest.mark.parametrize("caller", ["anon", "user", "service role"])
def test_a_host_function_reads_a_client_header_as_through_kong(
    stack: StackState, host: None, user: tuple[uuid.UUID, Any], caller: str
) -> None:
    who = host_callers(stack, user[0])[caller]
    gateway, straight = both_ways(
        stack,
        who,
        "GET",
        f"/rpc/{host_table.HEADER_FUNCTION}",
        params={"name": "x-host-tenant"},
        headers={"X-Host-Tenant": "acme"},
    )
    assert gateway == straight
    if caller == "service role":
        assert gateway == (200, "acme")


HOST_BODIES = {
    "CSV bulk insert": ("text/csv", b"name,tag\nimported-1,bulk\nimported-2,bulk\n"),
    "form insert": ("application/x-www-form-urlencoded", b"name=from-a-form&tag=form"),
}


@pytest.mark.parametrize("case", HOST_BODIES)
def test_csv_and_form_inserts_into_a_host_table_answer_as_postgrest_does(
    stack: StackState, database: Database, host: None, user: tuple[uuid.UUID, Any], case: str
) -> None:
    content_type, content = HOST_BODIES[case]
    who = host_callers(stack, user[0])["service role"]
    try:
        gateway, straight = both_ways(
            stack,
            who,
            "POST",
            f"/{host_table.TABLE}",
            params={"select": "name,tag"},
            headers={"Content-Type": content_type, "Prefer": "return=representation"},
            content=content,
        )
        assert gateway == straight
        assert gateway[0] == 201, gateway
        written = len(gateway[1])
        assert host_table.fingerprint(database)[0] == len(host_table.ROWS) + 2 * written
    finally:
        host_table.seed(database)


def allowed_filters(user_id: uuid.UUID) -> dict[str, dict[str, str]]:
    """What the SDK, the CLI and the web example send, and the other cheap operators."""
    mine = str(user_id)
    return {
        "SDK get": {"select": "id,user_id,training_preferences,goals", "user_id": f"eq.{mine}"},
        "SDK list": {
            "training_preferences": 'cs.["yoga"]',
            "goals": 'cs.["rehab"]',
            "order": "user_id.asc",
            "limit": "100",
        },
        "SDK export page": {"order": "user_id.asc", "limit": "5", "user_id": f"gt.{mine}"},
        "SDK optimistic update filter": {
            "user_id": f"eq.{mine}",
            "updated_at": "eq.2026-01-01T00:00:00+00:00",
        },
        "neq, in, is": {"user_id": f"in.({mine})", "id": "not.is.null", "goals": "neq.[]"},
        "like and ilike": {"training_preferences->>0": "like.yo*", "goals->>0": "ilike.*REHAB*"},
        "or with eq": {"or": f"(user_id.eq.{mine},user_id.eq.{uuid.uuid4()})"},
        "a value that says match": {"goals": 'cs.["matchless"]', "select": "user_id"},
        "contained by": {"goals": 'cd.["rehab","lose_fat"]'},
    }


@pytest.mark.parametrize("case", list(allowed_filters(uuid.uuid4())))
def test_the_operators_this_project_uses_still_pass(
    stack: StackState, user: tuple[uuid.UUID, dict[bytes, bytes | None]], case: str
) -> None:
    user_id, headers = user
    params = allowed_filters(user_id)[case]
    with httpx.Client(base_url=stack.rest_url, timeout=10) as client:
        response = client.get(
            "/movement_profiles",
            params=params,
            headers={
                "apikey": stack.anon_key,
                **{k.decode(): v.decode() for k, v in headers.items() if v},
            },
        )
    assert response.status_code == 200, response.text
    rows = response.json()
    assert all(row["user_id"] == str(user_id) for row in rows)


# -- bytes that are not UTF-8 -------------------------------------------------------------------

NOT_UTF8_URLS = {
    "%FF in the path": b"/rest/v1/%FF",
    "raw 0xFF in the path": b"/rest/v1/movement\xffprofiles",
    "%FF in a filter": TABLE + b"?user_id=eq.%FF",
    "raw 0xFF in a filter": TABLE + b"?user_id=eq.\xff",
    "Latin-1 e-acute": TABLE + b"?goals=cs.%5B%22caf%E9%22%5D",
    "overlong slash": TABLE + b"?user_id=eq.%C0%AF",
    "overlong, raw": TABLE + b"?user_id=eq.\xc0\xaf",
    "UTF-16 surrogate": TABLE + b"?user_id=eq.%ED%A0%80",
    "above U+10FFFF": TABLE + b"?user_id=eq.%F4%90%80%80",
    "truncated sequence": TABLE + b"?user_id=eq.%E2%82",
    "truncated at the end": TABLE + b"?select=user_id%E2",
    "lone continuation byte": TABLE + b"?select=%80user_id",
    "raw lead, encoded non-continuation": TABLE + b"?user_id=eq.\xc3%41",
    "in a param name": TABLE + b"?%FFuser_id=eq.x",
    "in an apikey param": TABLE + b"?apikey=%FF",
    "in the rpc path": b"/rest/v1/rpc/movement_profile_options%FE",
}


@pytest.mark.parametrize("case", NOT_UTF8_URLS)
def test_a_url_that_is_not_utf8_is_a_json_400(stack: StackState, case: str) -> None:
    response = raw_get(stack, NOT_UTF8_URLS[case])
    assert response.status == 400, response.body[:300]
    assert gateway_json_error(response)["code"] == "INVALID_UTF8"


VALID_UTF8_URLS = {
    "Cyrillic o, raw": '/rest/v1/movement_profiles?goals=cs.["y\u043ega"]'.encode(),
    "Cyrillic o, encoded": TABLE + b"?goals=cs.%5B%22y%D0%BEga%22%5D",
    "raw lead byte, encoded continuation": TABLE + b"?goals=cs.%5B%22y\xd0%BEga%22%5D",
    "emoji, raw": '/rest/v1/movement_profiles?goals=cs.["\U0001f600"]'.encode(),
    "emoji, encoded": TABLE + b"?goals=cs.%5B%22%F0%9F%98%80%22%5D",
    "a % that encodes nothing": TABLE + b"?goals=cs.%5B%22100%25%22%5D&select=%user_id",
}


@pytest.mark.parametrize("case", VALID_UTF8_URLS)
def test_a_url_in_valid_utf8_passes(stack: StackState, case: str) -> None:
    response = raw_get(stack, VALID_UTF8_URLS[case], {b"apikey": stack.service_role_key.encode()})
    assert response.status < 500, response.body[:300]
    body = response.json()
    if response.status >= 400:
        assert body["code"] != "INVALID_UTF8", body
    else:
        assert body == [], body


NOT_UTF8_VALUES = {
    "0xFF": b"\xff",
    "Latin-1": b"caf\xe9",
    "surrogate": b"\xed\xa0\x80",
    "truncated": b"ok\xe2\x82",
    "overlong": b"\xc0\xaf",
}
# Headers PostgREST reads or receives, the credentials, and common ones of browsers and proxies.
CHECKED_HEADERS = [
    "Accept",
    "Content-Type",
    "Prefer",
    "Range",
    "Range-Unit",
    "Authorization",
    "apikey",
    "Accept-Profile",
    "Content-Profile",
    "Origin",
    "X-Client-Info",
    "User-Agent",
    "Host",
    "Cookie",
    "Referer",
    "Accept-Language",
    "Accept-Encoding",
    "X-Forwarded-For",
    "X-Real-IP",
    "X-Requested-With",
    "X-Supabase-Api-Version",
    "If-None-Match",
    "Cache-Control",
]


@pytest.mark.parametrize("value", NOT_UTF8_VALUES)
@pytest.mark.parametrize("header", CHECKED_HEADERS)
def test_a_header_that_is_not_utf8_is_a_json_400(
    stack: StackState, header: str, value: str
) -> None:
    bad = NOT_UTF8_VALUES[value]
    if header == "Authorization":
        bad = b"Bearer " + bad
    response = raw_get(stack, TABLE + b"?select=user_id", {header.encode(): bad})
    assert response.status == 400, response.body[:300]
    body = gateway_json_error(response)
    assert body["code"] == "INVALID_UTF8"
    assert header.lower() in body["message"].lower()


def test_a_header_in_valid_utf8_passes(stack: StackState) -> None:
    headers = {
        b"apikey": stack.service_role_key.encode(),
        b"X-Client-Info": "caf\u00e9/1.0 \U0001f600".encode(),
        b"User-Agent": "\u043a\u043b\u0438\u0435\u043d\u0442".encode(),
    }
    response = raw_get(stack, TABLE + b"?select=user_id&limit=1", headers)
    assert response.status == 200, response.body[:300]


def request_with(place: str, data: bytes, state: StackState) -> bytes:
    """A request carrying `data` as it is in the path, the query string or a header value."""
    key = state.anon_key.encode()
    if place == "path":
        line = b"GET /rest/v1/" + data + b" HTTP/1.1\r\n"
        headers = b""
    elif place == "query":
        line = b"GET /rest/v1/movement_profiles?select=" + data + b" HTTP/1.1\r\n"
        headers = b""
    else:
        line = b"GET /rest/v1/movement_profiles?select=user_id HTTP/1.1\r\n"
        headers = place.encode() + b": " + data + b"\r\n"
    return (
        line
        + b"Host: 127.0.0.1\r\napikey: "
        + key
        + b"\r\nConnection: close\r\n"
        + headers
        + b"\r\n"
    )


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    place=st.sampled_from(
        [
            "path",
            "query",
            "Accept",
            "Prefer",
            "Content-Profile",
            "Range",
            "X-Client-Info",
            "X-Other",
        ]
    ),
    # Any bytes but CR and LF, which would end the request line or the header early (a request
    # line without a version is HTTP/0.9, answered without a status line).
    data=(
        st.binary(min_size=1, max_size=40)
        | st.text(max_size=20).map(lambda text: urllib.parse.quote(text).encode() + b"%FF")
    ).map(lambda data: data.replace(b"\r", b"").replace(b"\n", b"") or b"x"),
)
def test_any_bytes_get_an_answer_in_json_and_never_a_5xx(
    stack: StackState, place: str, data: bytes
) -> None:
    response = raw_request(stack.api_port, request_with(place, data, stack))
    assert response.status < 500, (place, data, response.status, response.body[:300])
    if response.body:
        response.json()  # valid UTF-8 JSON, whatever the answer


# -- answers nginx used to give in HTML, and paths PostgREST answers with {} ----------------------


def assert_json_error(response: RawResponse, status: int) -> dict[str, Any]:
    assert response.status == status, (response.status, response.body[:300])
    assert "location" not in response.headers, response.headers
    return gateway_json_error(response)


def test_the_api_root_without_a_slash_is_a_json_404_and_no_redirect(stack: StackState) -> None:
    response = raw_get(stack, b"/rest/v1", {b"Host": b"evil.example"})
    body = assert_json_error(response, 404)
    assert "/rest/v1/" in body["hint"]
    assert b"evil" not in response.body


@pytest.mark.parametrize(
    "path",
    [
        b"/rest/v1/movement_profiles/",
        b"/rest/v1/rpc/",
        b"/rest/v1/a/b",
        b"/rest/v1/movement_profiles%2F",
    ],
)
@pytest.mark.parametrize("key", ["anon", "service role"])
def test_paths_postgrest_does_not_serve_are_a_json_404(
    stack: StackState, path: bytes, key: str
) -> None:
    apikey = stack.anon_key if key == "anon" else stack.service_role_key
    response = raw_get(stack, path, {b"apikey": apikey.encode()})
    assert assert_json_error(response, 404)["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404),
        (b"GET /rest/v1/movement_profiles HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        (b"GET / HTTP/3.0\r\nHost: x\r\n\r\n", 505),
        (
            b"POST /rest/v1/movement_profiles HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n"
            b"Connection: close\r\n\r\n",
            501,
        ),
        (b"TRACE /rest/v1/movement_profiles HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405),
        (b"GET /rest/v1/\x00 HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400),
        (b"GET /rest/v1/" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET /rest/v1/x HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400),
        (b"GET /rest/v1/x HTTP/1.1\r\nX: " + b"a" * 20_000 + b"\r\nHost: x\r\n\r\n", 401),
    ],
    ids=[
        "unknown path",
        "HTTP/2.0",
        "HTTP/3.0",
        "unknown transfer-encoding",
        "TRACE",
        "NUL in the path",
        "TLS handshake",
        "URI too long",
        "two Host headers",
        "header too large",
    ],
)
def test_errors_nginx_answers_itself_are_json(
    stack: StackState, request_bytes: bytes, status: int
) -> None:
    assert_json_error(raw_request(stack.api_port, request_bytes), status)


# -- what PostgREST's own ports tell ------------------------------------------------------------


def test_the_openapi_root_names_the_gateway_not_postgrest(stack: StackState) -> None:
    response = httpx.get(f"{stack.rest_url}/", headers={"apikey": stack.anon_key}, timeout=10)
    assert response.status_code == 200, response.text
    spec = response.json()
    assert (spec["host"], spec["basePath"]) == (f"127.0.0.1:{stack.api_port}", "/rest/v1/")
    assert str(stack.rest_port) not in response.text
    assert str(stack.rest_admin_port) not in response.text


@pytest.mark.parametrize(
    "path", ["/config", "/schema_cache", "/metrics", "/", "/ready", "/live", "/config/", "/env"]
)
def test_postgrests_admin_port_shows_no_secret(stack: StackState, path: str) -> None:
    """PostgREST 12.0.2's admin server answers /ready and /live with empty bodies, nothing else."""
    response = httpx.get(f"http://127.0.0.1:{stack.rest_admin_port}{path}", timeout=10)
    shown = response.text + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    for secret in (stack.jwt_secret, f":{DB_PASSWORD}@", stack.service_role_key, "db-uri"):
        assert secret not in shown, f"{path} shows a secret"
    if path in ("/ready", "/live"):
        assert response.status_code == 200
    else:
        assert response.status_code == 404
    assert response.content == b""


def test_the_user_body_pattern_matches_exactly_the_lengths_over_the_limit() -> None:
    pattern = re.compile(f"^{gateway.USER_BODY_TOO_LARGE}$")
    wrong = [n for n in range(0, 1_100_000, 7) if bool(pattern.match(str(n))) != (n > 16_000)]
    assert wrong == []
    assert [n for n in range(15_990, 16_020) if pattern.match(str(n))] == list(
        range(16_001, 16_020)
    )
