"""Injection: filters, selects, headers and `user_id` values crafted as SQL or PostgREST-filter
injections read and change nothing that is not the caller's.

The caller is user A; user B has a profile and an email in auth.users. For every crafted request
the answer must not be a 5xx, must not show B's user id, B's profile id or any email, and every
row it does show must be A's. Writes are checked against the table: everything but A's own row
must be byte-for-byte as before.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from movement_profiles import MovementProfilesClient
from movement_profiles.errors import ValidationError
from movement_profiles_cli.stack.state import StackState
from tests.security.support import RETURN_ROWS, VALID_PROFILE, Database, insert_profiles, json_error
from tests.support.tokens import access_token
from tests.support.users import create_auth_users

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Parties:
    caller: uuid.UUID
    caller_profile: uuid.UUID
    victim: uuid.UUID
    victim_profile: uuid.UUID
    victim_email: str
    headers: dict[str, str] = field(repr=False)


@pytest.fixture(scope="module")
def parties(stack: StackState, database: Database) -> Parties:
    caller, victim = create_auth_users(database, 2)
    insert_profiles(database, {caller: VALID_PROFILE, victim: VALID_PROFILE})
    ids = dict(
        database.execute(
            "select user_id, id from public.movement_profiles where user_id = any(%s)",
            ([caller, victim],),
        ).fetchall()
    )
    email = database.execute("select email from auth.users where id = %s", (victim,)).fetchone()
    assert email is not None
    token = access_token(stack, caller)
    headers = {"apikey": stack.anon_key, "Authorization": f"Bearer {token}", **RETURN_ROWS}
    return Parties(caller, ids[caller], victim, ids[victim], email[0], headers)


@pytest.fixture(scope="module")
def api(stack: StackState) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.rest_url, timeout=10) as client:
        yield client


def others_fingerprint(database: Database, caller: uuid.UUID) -> tuple[int, str | None]:
    """Row count and md5 of every profile that is not the caller's."""
    row = database.execute(
        "select count(*), md5(string_agg(t::text, ',' order by id)) "
        "from public.movement_profiles t where user_id <> %s",
        (caller,),
    ).fetchone()
    assert row is not None
    return int(row[0]), row[1]


def assert_nothing_foreign(response: httpx.Response, parties: Parties) -> None:
    """No 5xx; nothing of B's that the request did not itself carry (errors may quote the input)."""
    assert response.status_code < 500, f"{response.status_code} {response.text[:200]}"
    sent = str(response.request.url) + response.request.content.decode(errors="replace")
    for secret in (str(parties.victim), str(parties.victim_profile), parties.victim_email):
        if secret not in sent:
            assert secret not in response.text, f"the answer shows the victim's data: {secret}"
    if response.status_code >= 400:
        json_error(response)
        return
    assert "@" not in response.text, "an email leaked"
    body = response.json() if response.content else []
    for row in body if isinstance(body, list) else [body]:
        if isinstance(row, dict):
            assert row.get("user_id", str(parties.caller)) == str(parties.caller)
            assert row.get("id", str(parties.caller_profile)) == str(parties.caller_profile)


def read_filters(p: Parties) -> dict[str, dict[str, str]]:
    """Query strings of GET /movement_profiles, by what each tries."""
    a, b = p.caller, p.victim
    return {
        "quote-break in eq": {"user_id": "eq.x' or 1=1--"},
        "quote-break after B's id": {"user_id": f"eq.{b}' or '1'='1"},
        "B's id with a comment": {"user_id": f"eq.{b}--"},
        "not equal to me": {"user_id": f"neq.{a}"},
        "is not null": {"user_id": "not.is.null"},
        "in (A, B)": {"user_id": f"in.({a},{b})"},
        "or with B": {"or": f"(user_id.eq.{b},user_id.neq.{a})"},
        "or always true": {"or": "(user_id.is.null,user_id.not.is.null)"},
        "or with SQL": {"or": "(user_id.eq.x) or (1=1)"},
        "nested and/or": {"and": f"(or(user_id.eq.{b},id.not.is.null),user_id.neq.{a})"},
        "not.and": {"not.and": f"(user_id.eq.{a})"},
        "like on a uuid": {"user_id": "like.*"},
        "contains with SQL": {"training_preferences": 'cs.["yoga"]) or (1=1'},
        "select from auth.users": {"select": "*,(select email from auth.users)"},
        "embed auth.users": {"select": "*,auth.users(*)"},
        "embed users": {"select": "*,users(*)"},
        "embed through user_id": {"select": "*,user:user_id(*)"},
        "embed email alias": {"select": "user_id,email:auth.users(email)"},
        "cast injection": {"select": "id::text,user_id"},
        "json path injection": {"select": "goals->>0;select 1"},
        "order by a subquery": {"order": "(select 1)"},
        "order with a statement": {"order": "user_id;drop table public.movement_profiles"},
        "limit with a statement": {"limit": "1;select 1"},
        "negative offset": {"offset": "-1"},
        "on_conflict on a read": {"on_conflict": "user_id"},
        "columns on a read": {"columns": "user_id"},
        "id of B's profile": {"id": f"eq.{p.victim_profile}"},
        "B's id url-encoded twice": {"user_id": f"eq.{str(b).replace('-', '%252D')}"},
    }


@pytest.mark.parametrize(
    "case",
    list(read_filters(Parties(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), "", {}))),
)
def test_crafted_read_filters_show_only_the_callers_row(
    api: httpx.Client, parties: Parties, case: str
) -> None:
    params = read_filters(parties)[case]
    response = api.get("/movement_profiles", params=params, headers=parties.headers)
    assert_nothing_foreign(response, parties)


@pytest.mark.parametrize(
    ("path", "extra_headers"),
    [
        ("/movement_profiles", {"Accept-Profile": "auth"}),
        ("/users", {"Accept-Profile": "auth"}),
        ("/users", {}),
        ("/rpc/uid", {}),
        ("/rpc/jwt", {"Accept-Profile": "auth"}),
        ("/rpc/auth_user_exists", {"Accept-Profile": "pre_request"}),
        ("/rpc/assert_option_array", {"Accept-Profile": "private"}),
        ("/../auth/users", {}),
        ("/movement_profiles%3Bselect%201", {}),
        ("/", {}),
    ],
)
def test_schemas_other_than_public_are_unreachable(
    api: httpx.Client, parties: Parties, path: str, extra_headers: dict[str, str]
) -> None:
    response = api.get(path, headers={**parties.headers, **extra_headers})
    assert_nothing_foreign(response, parties)
    if path != "/":
        assert response.status_code >= 400


def crafted_writes(p: Parties) -> dict[str, tuple[str, dict[str, object]]]:
    """(method, request keyword arguments) of writes that try to reach B's row."""
    b = str(p.victim)
    goals = {"goals": ["lose_fat"]}
    profile_for_b = {"user_id": b, **VALID_PROFILE}
    return {
        "update with neq me": ("PATCH", {"params": {"user_id": f"neq.{p.caller}"}, "json": goals}),
        "update with or B": (
            "PATCH",
            {"params": {"or": f"(user_id.eq.{b},user_id.eq.{p.caller})"}, "json": goals},
        ),
        "update without a filter": ("PATCH", {"json": goals}),
        "update with quote-break": (
            "PATCH",
            {"params": {"user_id": "eq.x' or 1=1--"}, "json": goals},
        ),
        "update moving my row to B": (
            "PATCH",
            {"params": {"user_id": f"eq.{p.caller}"}, "json": {**goals, "user_id": b}},
        ),
        "update with B's profile id": (
            "PATCH",
            {"params": {"id": f"eq.{p.victim_profile}"}, "json": goals},
        ),
        "delete with or": ("DELETE", {"params": {"or": f"(user_id.eq.{b},user_id.eq.{p.caller})"}}),
        "delete without a filter": ("DELETE", {}),
        "create for B": ("POST", {"json": profile_for_b}),
        "create with a quote-break user_id": (
            "POST",
            {"json": {"user_id": "x' or 1=1--", **VALID_PROFILE}},
        ),
        "create with a filter as user_id": (
            "POST",
            {"json": {"user_id": f"eq.{b}", **VALID_PROFILE}},
        ),
        "create with an object as user_id": (
            "POST",
            {"json": {"user_id": {"eq": b}, **VALID_PROFILE}},
        ),
        "upsert over B's row": (
            "POST",
            {
                "params": {"on_conflict": "user_id"},
                "json": profile_for_b,
                "headers": {"Prefer": "resolution=merge-duplicates,return=representation"},
            },
        ),
        "upsert ignoring B's row": (
            "POST",
            {
                "params": {"on_conflict": "user_id"},
                "json": profile_for_b,
                "headers": {"Prefer": "resolution=ignore-duplicates,return=representation"},
            },
        ),
        "upsert by B's profile id": (
            "POST",
            {
                "params": {"on_conflict": "id"},
                "json": {"id": str(p.victim_profile), **VALID_PROFILE},
                "headers": {"Prefer": "resolution=merge-duplicates,return=representation"},
            },
        ),
        "bulk create hiding B": (
            "POST",
            {"json": [{"user_id": str(p.caller), **VALID_PROFILE}, profile_for_b]},
        ),
        "create with columns trick": (
            "POST",
            {"params": {"columns": "user_id,goals,training_preferences"}, "json": profile_for_b},
        ),
        "put B's row": (
            "PUT",
            {"params": {"user_id": f"eq.{b}"}, "json": profile_for_b},
        ),
        "options with SQL arguments": ("POST", {"json": {"x": "1); drop table x; --"}}),
    }


@pytest.mark.parametrize(
    "case",
    list(crafted_writes(Parties(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), "", {}))),
)
def test_crafted_writes_change_nothing_that_is_not_the_callers(
    api: httpx.Client, database: Database, parties: Parties, case: str
) -> None:
    method, arguments = crafted_writes(parties)[case]
    headers = {**parties.headers, **arguments.pop("headers", {})}
    path = "/rpc/movement_profile_options" if case.startswith("options") else "/movement_profiles"
    before = others_fingerprint(database, parties.caller)
    response = api.request(method, path, headers=headers, **arguments)
    assert others_fingerprint(database, parties.caller) == before, f"{case} changed B's row"
    assert_nothing_foreign(response, parties)


@pytest.mark.parametrize(
    "user_id",
    [
        "x' or 1=1--",
        "eq.00000000-0000-0000-0000-000000000000",
        "00000000-0000-0000-0000-000000000000&user_id=not.is.null",
        "*",
        "",
    ],
)
def test_the_sdk_refuses_a_crafted_user_id_before_sending(stack: StackState, user_id: str) -> None:
    """The SDK puts user_id into a filter; a value that is not a UUID never leaves the process."""
    with (
        MovementProfilesClient(stack.api_url, stack.service_role_key) as client,
        pytest.raises(ValidationError) as raised,
    ):
        client.get(user_id)
    assert raised.value.request is None, "the SDK must refuse it before any request"
    assert stack.service_role_key not in str(raised.value)
