"""The pre-request check is the host project's hook too: it judges the component's own paths and
leaves every other request as PostgREST serves it without the check.

A host's own objects are arranged here the way a real project has them: a catalogue anon reads
through a `using (true)` policy, a signed-in report that runs for 0.4 s, a role of its own that
authenticator may become. Every request is sent twice: straight at PostgREST (as on hosted, where
Kong passes requests on unchanged) and through the local gateway.

On the component's paths the check reads exactly what PostgREST reads: the path as PostgREST
decodes it (`/movement%5Fprofiles` is the table), the token PostgREST verified (a second
Authorization header is no way around the rules), the one `alg` of the token's header.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from movement_profiles_cli.stack.state import StackState
from tests.security.support import Database
from tests.support.tokens import access_token, b64url, signed
from tests.support.users import create_auth_users

pytestmark = pytest.mark.integration

THIRD_PARTY_SUB = "user_2NNEqL2nrIRdJ194ndJqAHwEfxC"  # a Clerk user id: no UUID, no auth.users row
OUR_TABLE_SPELLINGS = ("/movement_profiles", "/movement%5Fprofiles", "/movement%5fprofiles")


@dataclass(frozen=True)
class Host:
    """The names of the host's objects, unique to this run."""

    table: str
    report: str
    role: str
    probe: str


def claims_of(sub: str, role: str = "authenticated", **extra: object) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": sub, "role": role, "aud": "authenticated", "iat": now, "exp": now + 600, **extra}


@pytest.fixture(scope="module")
def host(database: Database, stack: StackState) -> Iterator[Host]:
    suffix = uuid.uuid4().hex[:8]
    names = Host(
        f"host_catalogue_{suffix}",
        f"host_report_{suffix}",
        f"host_reader_{suffix}",
        f"host_probe_{suffix}",
    )
    database.execute(
        f"""
        create table public.{names.table} (id int primary key, name text not null);
        alter table public.{names.table} enable row level security;
        create policy "Anyone reads the catalogue" on public.{names.table}
          for select using (true);
        insert into public.{names.table} values (1, 'Beginner strength');
        create function public.{names.report}() returns text
          language sql set search_path = '' as $$
            select pg_catalog.pg_sleep(0.4);
            select pg_catalog.current_setting('statement_timeout');
          $$;
        create function public.{names.probe}() returns text
          language sql set search_path = '' as $$
            select pg_catalog.current_setting('host.hook', true)
          $$;
        create role {names.role} nologin;
        grant {names.role} to authenticator;
        grant select on public.{names.table} to anon, authenticated, {names.role};
        grant execute on function public.{names.report}() to authenticated;
        grant execute on function public.{names.probe}() to anon;
        notify pgrst, 'reload schema';
        """
    )
    try:
        wait_until_served(stack, f"/{names.table}", f"/rpc/{names.probe}")
        yield names
    finally:
        database.execute(
            f"""
            drop table public.{names.table};
            drop function public.{names.report}();
            drop function public.{names.probe}();
            revoke {names.role} from authenticator;
            drop role {names.role};
            notify pgrst, 'reload schema';
            """
        )


def wait_until_served(stack: StackState, *paths: str) -> None:
    """Until PostgREST's schema cache holds the host's objects."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if all(httpx.get(f"{stack.postgrest_url}{path}").status_code == 200 for path in paths):
            return
        time.sleep(0.1)
    raise AssertionError(f"PostgREST does not serve {paths}")


@pytest.fixture(params=["straight at PostgREST", "through the gateway"], scope="module")
def api(request: pytest.FixtureRequest, stack: StackState) -> Iterator[httpx.Client]:
    """Both routes in; `apikey` is what the gateway wants, and PostgREST ignores it."""
    base_url = stack.postgrest_url if request.param == "straight at PostgREST" else stack.rest_url
    with httpx.Client(base_url=base_url, headers={"apikey": stack.anon_key}, timeout=10) as client:
        yield client


def through_gateway(api: httpx.Client) -> bool:
    return api.base_url.path.startswith("/rest/v1")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- The host's paths: as if the component were not there ------------------------------------------


def test_anon_reads_a_host_table(api: httpx.Client, host: Host) -> None:
    response = api.get(f"/{host.table}")
    assert response.status_code == 200, response.text
    assert response.json() == [{"id": 1, "name": "Beginner strength"}]


def test_a_signed_in_host_rpc_of_0_4_s_keeps_the_platforms_statement_timeout(
    api: httpx.Client, host: Host, stack: StackState, database: Database
) -> None:
    [user] = create_auth_users(database, 1)
    response = api.post(f"/rpc/{host.report}", headers=bearer(access_token(stack, user)))
    assert response.status_code == 200, response.text
    assert response.json() == "8s"


@pytest.mark.parametrize(
    ("token_kind", "make_token"),
    [
        (
            "third-party auth: sub not a UUID, no auth.users row",
            lambda s: signed(
                claims_of(THIRD_PARTY_SUB),
                s,
            ),
        ),
        (
            "signed with HS384, without exp",
            lambda s: signed(
                {"sub": THIRD_PARTY_SUB, "role": "authenticated"},
                s,
                header='{"alg":"HS384","typ":"JWT"}',
                digest=hashlib.sha384,
            ),
        ),
    ],
)
def test_every_token_postgrest_accepts_reads_a_host_table(
    api: httpx.Client, host: Host, stack: StackState, token_kind: str, make_token: Any
) -> None:
    response = api.get(f"/{host.table}", headers=bearer(make_token(stack.jwt_secret)))
    assert response.status_code == 200, f"{token_kind}: {response.text}"
    assert len(response.json()) == 1


def test_a_role_of_the_host_reads_a_host_table(
    api: httpx.Client, host: Host, stack: StackState
) -> None:
    token = signed(
        {"role": host.role, "exp": int(time.time()) + 600},
        stack.jwt_secret,
    )
    response = api.get(f"/{host.table}", headers=bearer(token))
    assert response.status_code == 200, response.text


# -- The component's paths, under every spelling PostgREST routes there ----------------------------


@pytest.mark.parametrize("path", OUR_TABLE_SPELLINGS)
def test_anon_is_refused_on_the_component_table_however_spelled(
    api: httpx.Client, path: str
) -> None:
    response = api.get(path)
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "42501"
    assert response.json()["message"] == "permission denied for table movement_profiles"


def test_anon_calls_the_options_function_however_spelled(api: httpx.Client) -> None:
    response = api.post("/%72pc/movement%5Fprofile%5foptions")
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"training_preferences", "goals"}


@pytest.mark.parametrize("path", OUR_TABLE_SPELLINGS)
def test_a_third_party_token_is_refused_on_the_component_table(
    api: httpx.Client, stack: StackState, path: str
) -> None:
    token = signed(
        claims_of(THIRD_PARTY_SUB),
        stack.jwt_secret,
    )
    response = api.get(path, headers=bearer(token))
    assert response.status_code == 401, response.text
    assert response.json()["message"] == "JWT sub claim is not a UUID"


@pytest.mark.parametrize("path", OUR_TABLE_SPELLINGS)
def test_a_users_body_larger_than_a_profile_is_refused_before_the_database_parses_it(
    api: httpx.Client, stack: StackState, database: Database, path: str
) -> None:
    """Refused on its declared length by the check (or, through the gateway, before it): the
    database never parses the megabyte. Just under the limit the column's CHECK judges it."""
    (user_id,) = create_auth_users(database, 1)
    headers = {**bearer(access_token(stack, user_id)), "Content-Type": "application/json"}
    created = api.post(
        path, headers=headers, json={"training_preferences": ["yoga"], "goals": ["rehab"]}
    )
    assert created.status_code == 201, created.text

    def patch(size: int) -> httpx.Response:
        body = b'{"goals":["rehab"' + b',"rehab"' * ((size - 20) // 8)
        body += b"]}" + b" " * (size - len(body) - 2)
        assert len(body) == size
        return api.patch(path, params={"user_id": f"eq.{user_id}"}, headers=headers, content=body)

    refused = patch(1_000_000)
    assert refused.status_code == 413, refused.text
    assert "too large for a movement profile" in refused.json()["message"]
    judged = patch(16_000)
    assert judged.status_code == 400, judged.text
    assert judged.json()["hint"] == "goals"
    service = {"Authorization": f"Bearer {stack.service_role_key}"}
    if through_gateway(api):
        service["apikey"] = stack.service_role_key
    bulk = api.patch(
        path,
        params={"user_id": f"eq.{user_id}"},
        headers={**service, "Content-Type": "application/json"},
        content=b'{"goals":["rehab"' + b',"rehab"' * 25_000 + b"]}",
    )
    assert bulk.status_code == 400, bulk.text
    assert bulk.json()["hint"] == "goals"


def test_a_second_authorization_header_does_not_hide_an_hs384_token(
    api: httpx.Client, host: Host, stack: StackState, database: Database
) -> None:
    """PostgREST verifies the first header's token; the check sees the last header only, so it
    refuses when that is not the token PostgREST verified."""
    [user] = create_auth_users(database, 1)
    hs384 = signed(
        claims_of(str(user), jti="first"),
        stack.jwt_secret,
        header='{"alg":"HS384","typ":"JWT"}',
        digest=hashlib.sha384,
    )
    headers = [
        ("Authorization", f"Bearer {hs384}"),
        ("Authorization", f"Bearer {access_token(stack, user)}"),
    ]
    ours = api.get("/movement_profiles", headers=headers)
    if through_gateway(api):
        # nginx refuses a repeated Authorization header itself, before any rule or PostgREST.
        assert ours.status_code == 400, ours.text
        return
    assert ours.status_code == 401, ours.text
    assert ours.json()["message"] == "Authorization header is ambiguous"
    # The host's path: the check stays out; what PostgREST makes of two headers is its own answer.
    theirs = api.get(f"/{host.table}", headers=headers)
    assert theirs.status_code == 200, theirs.text


@pytest.mark.parametrize(
    "header",
    [
        '{"alg":"HS384","alg":"HS256","typ":"JWT"}',
        '{"alg":"HS384","\\u0061lg":"HS256","typ":"JWT"}',
    ],
)
def test_a_token_header_naming_alg_twice_is_refused(
    api: httpx.Client, host: Host, stack: StackState, database: Database, header: str
) -> None:
    """PostgREST reads the first `alg` (HS384) and verifies the token with it; PostgreSQL's JSON
    reads the last. The check refuses a header that names it twice, however spelled."""
    [user] = create_auth_users(database, 1)
    token = signed(claims_of(str(user)), stack.jwt_secret, header=header, digest=hashlib.sha384)
    assert api.get(f"/{host.table}", headers=bearer(token)).status_code == 200
    ours = api.get("/movement_profiles", headers=bearer(token))
    assert ours.status_code == 401, ours.text
    assert ours.json()["message"] == "JWT algorithm is not accepted"


def test_the_token_is_read_as_postgrest_reads_it_after_any_white_space(
    api: httpx.Client, stack: StackState, database: Database
) -> None:
    """`Bearer  <token>` (two spaces): PostgREST drops the white space and verifies the token; the
    check reads the same token, so its rules hold and nothing answers 400."""
    [user] = create_auth_users(database, 1)
    accepted = api.get(
        "/movement_profiles", headers={"Authorization": f"Bearer  {access_token(stack, user)}"}
    )
    assert accepted.status_code == 200, accepted.text
    hs384 = signed(
        claims_of(str(user)),
        stack.jwt_secret,
        header='{"alg":"HS384","typ":"JWT"}',
        digest=hashlib.sha384,
    )
    refused = api.get("/movement_profiles", headers={"Authorization": f"Bearer  {hs384}"})
    assert refused.status_code == 401, refused.text
    assert refused.json()["message"] == "JWT algorithm is not accepted"


@pytest.mark.parametrize(
    "last_header",
    ["Bearer not-a-jwt", "Bearer !!!.???.***", f"Bearer {b64url(b'not json')}.e30.c2ln"],
)
def test_a_malformed_authorization_header_is_a_401(
    api: httpx.Client, stack: StackState, database: Database, last_header: str
) -> None:
    [user] = create_auth_users(database, 1)
    headers = [
        ("Authorization", f"Bearer {access_token(stack, user)}"),
        ("Authorization", last_header),
    ]
    response = api.get("/movement_profiles", headers=headers)
    if through_gateway(api):
        assert response.status_code == 400, response.text  # nginx: a repeated Authorization
        return
    assert response.status_code == 401, response.text
    assert response.json()["message"] == "Authorization header is malformed"


# -- A host with a pre-request hook of its own -----------------------------------------------------


def test_a_host_hook_that_chains_the_check_gets_the_same_scoping(
    database: Database, host: Host, stack: StackState
) -> None:
    hook = f"public.{host.probe}_hook"
    database.execute(
        f"""
        create function {hook}() returns void
          language plpgsql set search_path = '' as $$
          begin
            perform movement_profiles_internal.check_request();
            perform pg_catalog.set_config('host.hook', 'ran', true);
          end
          $$;
        grant execute on function {hook}() to public;
        alter role authenticator set pgrst.db_pre_request = '{hook}';
        notify pgrst, 'reload config';
        """
    )
    try:
        wait_for_hook(stack, host, "ran")
        with httpx.Client(base_url=stack.postgrest_url, timeout=10) as api:
            assert api.get(f"/{host.table}").status_code == 200
            third_party = signed(
                claims_of(THIRD_PARTY_SUB),
                stack.jwt_secret,
            )
            assert api.get(f"/{host.table}", headers=bearer(third_party)).status_code == 200
            refused = api.get("/movement%5Fprofiles")
            assert refused.status_code == 401, refused.text
            assert refused.json()["code"] == "42501"
            refused = api.get("/movement_profiles", headers=bearer(third_party))
            assert refused.json()["message"] == "JWT sub claim is not a UUID"
    finally:
        database.execute(
            "alter role authenticator set pgrst.db_pre_request = "
            "'movement_profiles_internal.check_request'; notify pgrst, 'reload config'"
        )
        wait_for_hook(stack, host, None)
        database.execute(f"drop function {hook}()")


def wait_for_hook(stack: StackState, host: Host, value: str | None) -> None:
    """Until PostgREST runs the hook that leaves `value` in host.hook (None: the check alone)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        response = httpx.post(f"{stack.postgrest_url}/rpc/{host.probe}")
        if response.status_code == 200 and response.json() in (
            value,
            "" if value is None else value,
        ):
            return
        time.sleep(0.1)
    raise AssertionError(f"PostgREST did not reload its pre-request hook: {response.text}")
