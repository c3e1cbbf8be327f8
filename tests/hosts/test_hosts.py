"""movement-profiles is a good guest: installed into existing Supabase projects, it changes
nothing of theirs, and works on top of each.

For each host (tests/hosts/harness.py): its migrations and seed as `postgres` on the platform
baseline, PostgREST with db-config on; its own requests answered straight by PostgREST and through
the gateway; the component installed the documented way (`movement-profiles install`, then
`supabase migration up`); the same requests again. Every answer must be what it was, the gateway's
what PostgREST's is, and no grant or setting of the host's may have moved.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
import psycopg
import pytest

from movement_profiles_cli.stack.local_stack import LocalStack
from tests.hosts import harness
from tests.hosts.conftest import BROKEN, OUTCOMES, HostOutcome
from tests.support.tokens import access_token
from tests.support.users import create_auth_users

pytestmark = pytest.mark.integration

HOSTS = harness.load_hosts()


@dataclass
class Installed:
    host: harness.Host
    stack: LocalStack
    direct_before: list[harness.Answer]
    gateway_before: list[harness.Answer]
    direct_after: list[harness.Answer]
    gateway_after: list[harness.Answer]
    privilege_changes: list[str]

    def changed(self) -> list[str]:
        found = []
        for request, before, after, gateway_before, gateway_after in zip(
            self.host.requests,
            self.direct_before,
            self.direct_after,
            self.gateway_before,
            self.gateway_after,
            strict=True,
        ):
            if before != after:
                found.append(f"{request.name} (PostgREST): {before} -> {after}")
            if gateway_before != gateway_after:
                found.append(f"{request.name} (gateway): {gateway_before} -> {gateway_after}")
        return found

    def gateway_differs(self) -> list[str]:
        found = []
        for when, direct, gateway in (
            ("before", self.direct_before, self.gateway_before),
            ("after", self.direct_after, self.gateway_after),
        ):
            pairs = zip(self.host.requests, direct, gateway, strict=True)
            for request, straight, through in pairs:
                if straight != through:
                    found.append(f"{request.name} ({when}): {straight}; gateway: {through}")
        return found


@pytest.fixture(scope="module", params=HOSTS, ids=[host.name for host in HOSTS])
def installed(
    request: pytest.FixtureRequest,
    host_stack: LocalStack,
    tmp_path_factory: pytest.TempPathFactory,
) -> Installed:
    host: harness.Host = request.param
    if (reason := harness.snapshot_missing(host)) is not None:
        pytest.skip(reason)
    try:
        return _install_and_compare(host, host_stack, tmp_path_factory)
    except Exception:
        BROKEN.append(host.name)
        raise


def _install_and_compare(
    host: harness.Host, host_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory
) -> Installed:
    project = host.materialize(tmp_path_factory.mktemp("host"))
    harness.load_host(host_stack, project)
    privileges_before = harness.privileges(host_stack)
    # The writes are idempotent (fixed ids, upserts): a first round brings the data to where every
    # later round finds it, so every round after it answers alike.
    harness.record(host_stack, host.requests, gateway=False)
    direct_before = harness.record(host_stack, host.requests, gateway=False)
    gateway_before = harness.record(host_stack, host.requests, gateway=True)
    assert harness.record(host_stack, host.requests, gateway=False) == direct_before, (
        f"{host.name}'s requests are not repeatable: fix requests.json"
    )

    harness.install(host_stack, host, project)

    result = Installed(
        host=host,
        stack=host_stack,
        direct_before=direct_before,
        gateway_before=gateway_before,
        direct_after=harness.record(host_stack, host.requests, gateway=False),
        gateway_after=harness.record(host_stack, host.requests, gateway=True),
        privilege_changes=harness.privilege_changes(
            privileges_before, harness.privileges(host_stack)
        ),
    )
    OUTCOMES.append(
        HostOutcome(
            host=host.name,
            compared=2 * len(host.requests),
            changed=len(result.changed()),
            gateway_differs=len(result.gateway_differs()),
            privileges_changed=len(result.privilege_changes),
        )
    )
    return result


def test_the_hosts_own_answers_are_unchanged_by_the_install(installed: Installed) -> None:
    changed = installed.changed()
    assert not changed, "\n".join(changed)


def test_the_gateway_answers_the_hosts_requests_as_postgrest_does(installed: Installed) -> None:
    differs = installed.gateway_differs()
    assert not differs, "\n".join(differs)


def test_no_grant_or_setting_of_the_host_changed(installed: Installed) -> None:
    assert not installed.privilege_changes, "\n".join(installed.privilege_changes)


def test_the_component_works_on_top_of_the_host(installed: Installed) -> None:
    state = installed.stack.state
    with psycopg.connect(state.db_url(), autocommit=True) as connection:
        owner, other = create_auth_users(connection, 2)

    def as_user(user: uuid.UUID) -> dict[str, str]:
        return {"apikey": state.anon_key, "Authorization": f"Bearer {access_token(state, user)}"}

    with httpx.Client(base_url=state.rest_url, timeout=30) as api:
        created = api.post(
            "/movement_profiles",
            json={
                "user_id": str(owner),
                "training_preferences": ["yoga"],
                "goals": ["build_muscle"],
            },
            headers={**as_user(owner), "Prefer": "return=representation"},
        )
        assert created.status_code == 201, created.text

        mine = f"/movement_profiles?user_id=eq.{owner}"
        read = api.get(mine, headers=as_user(owner))
        assert read.status_code == 200, read.text
        assert [row["goals"] for row in read.json()] == [["build_muscle"]]

        updated = api.patch(
            mine,
            json={"goals": ["rehab"]},
            headers={**as_user(owner), "Prefer": "return=representation"},
        )
        assert updated.status_code == 200, updated.text
        assert [row["goals"] for row in updated.json()] == [["rehab"]]

        invalid = api.patch(mine, json={"goals": ["flying"]}, headers=as_user(owner))
        assert invalid.status_code == 400, invalid.text
        assert invalid.json()["code"] == "23514"
        assert invalid.json()["hint"] == "goals"

        # Row-level security: another user sees nothing of it.
        theirs = api.get(mine, headers=as_user(other))
        assert theirs.status_code == 200, theirs.text
        assert theirs.json() == []

        anon = api.get("/movement_profiles", headers=harness.headers_for("anon", state.jwt_secret))
        assert anon.status_code == 401, anon.text

        # The component's own check runs for its paths on every host, through a host's own
        # pre-request hook too: a token whose `sub` is no Supabase user id is refused there.
        third_party = api.get(
            "/movement_profiles", headers=harness.headers_for("third_party", state.jwt_secret)
        )
        assert third_party.status_code == 401, third_party.text
