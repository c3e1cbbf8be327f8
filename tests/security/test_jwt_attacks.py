"""Forged, stale and malformed tokens: each is refused with 401 or 403 and a JSON error, never a
5xx, and nothing is written.

Every token is sent as a frontend sends a session (the anon key as `apikey`, the token as bearer)
with five requests aimed at real victims: read and update a profile that exists, create one for a
user that has none, delete, and call `movement_profile_options()`. The table's row count and
checksum must be the same afterwards.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import jwt as pyjwt
import pytest

from movement_profiles_cli.stack.state import StackState
from tests.security.support import (
    RETURN_ROWS,
    VALID_PROFILE,
    Database,
    connect,
    insert_profiles,
    json_error,
    table_fingerprint,
)
from tests.support.tokens import b64url, compact_json, signed
from tests.support.users import create_auth_users

pytestmark = pytest.mark.integration

# PostgREST allows 30 s of clock skew; these are far outside it.
HOUR = 3600
HS256 = {"alg": "HS256", "typ": "JWT"}


@dataclass(frozen=True)
class Victims:
    """The attacker's targets: a user with a profile, and one without (for creates)."""

    with_profile: uuid.UUID
    without_profile: uuid.UUID
    attacker: uuid.UUID


def session_claims(user_id: uuid.UUID, **overrides: object) -> dict[str, object]:
    """The claims of a Supabase Auth session, with some replaced (None removes a claim)."""
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": str(user_id),
        "role": "authenticated",
        "aud": "authenticated",
        "iat": now,
        "exp": now + HOUR,
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def unsigned(header: object, claims: object, signature: str = "") -> str:
    return f"{b64url(compact_json(header))}.{b64url(compact_json(claims))}.{signature}"


def tampered(token: str, claims: object) -> str:
    """The token's header and signature around a different payload."""
    header, _payload, signature = token.split(".")
    return f"{header}.{b64url(compact_json(claims))}.{signature}"


Forge = Callable[[StackState, Victims], str]

ATTACKS: dict[str, Forge] = {
    "expired an hour ago": lambda s, v: signed(
        session_claims(v.attacker, iat=int(time.time()) - 2 * HOUR, exp=int(time.time()) - HOUR),
        s.jwt_secret,
    ),
    "not valid for another hour (nbf)": lambda s, v: signed(
        session_claims(v.attacker, nbf=int(time.time()) + HOUR), s.jwt_secret
    ),
    "issued in the future (iat)": lambda s, v: signed(
        session_claims(v.attacker, iat=int(time.time()) + HOUR), s.jwt_secret
    ),
    "wrong secret": lambda s, v: signed(
        session_claims(v.with_profile), "not-the-projects-secret-but-just-as-long!"
    ),
    "empty secret": lambda s, v: signed(session_claims(v.with_profile), ""),
    "alg none, no signature": lambda s, v: unsigned(
        {"alg": "none", "typ": "JWT"}, session_claims(v.with_profile, role="service_role")
    ),
    "alg None, no signature": lambda s, v: unsigned(
        {"alg": "None", "typ": "JWT"}, session_claims(v.with_profile)
    ),
    "alg none, two parts": lambda s, v: unsigned(
        {"alg": "none"}, session_claims(v.with_profile)
    ).rstrip("."),
    "alg none, with the real signature": lambda s, v: (
        f"{b64url(compact_json({'alg': 'none', 'typ': 'JWT'}))}."
        + ".".join(signed(session_claims(v.with_profile), s.jwt_secret).split(".")[1:])
    ),
    "alg RS256 header, HMAC signature": lambda s, v: (
        f"{b64url(compact_json({'alg': 'RS256', 'typ': 'JWT'}))}."
        + ".".join(signed(session_claims(v.with_profile), s.jwt_secret).split(".")[1:])
    ),
    "signed with the anon key as secret": lambda s, v: signed(
        session_claims(v.with_profile), s.anon_key
    ),
    "signed with the service key as secret": lambda s, v: signed(
        session_claims(v.with_profile, role="service_role"), s.service_role_key
    ),
    "tampered payload: sub of another user": lambda s, v: tampered(
        signed(session_claims(v.attacker), s.jwt_secret), session_claims(v.with_profile)
    ),
    "tampered payload: role service_role": lambda s, v: tampered(
        signed(session_claims(v.attacker), s.jwt_secret),
        session_claims(v.attacker, role="service_role"),
    ),
    "tampered anon key: role service_role": lambda s, v: tampered(
        s.anon_key, {"iss": "supabase-demo", "role": "service_role", "exp": 1983812996}
    ),
    "missing sub": lambda s, v: signed(session_claims(v.attacker, sub=None), s.jwt_secret),
    "sub not a UUID": lambda s, v: signed(session_claims(v.attacker, sub="admin"), s.jwt_secret),
    "sub an SQL fragment": lambda s, v: signed(
        session_claims(v.attacker, sub="' or 1=1 --"), s.jwt_secret
    ),
    "sub a number": lambda s, v: signed(session_claims(v.attacker, sub=12345), s.jwt_secret),
    "sub of a user that does not exist": lambda s, v: signed(
        session_claims(uuid.uuid4()), s.jwt_secret
    ),
    "sub the nil UUID": lambda s, v: signed(session_claims(uuid.UUID(int=0)), s.jwt_secret),
    "missing exp (never expires)": lambda s, v: signed(
        session_claims(v.attacker, exp=None), s.jwt_secret
    ),
    "exp not a number": lambda s, v: signed(
        session_claims(v.attacker, exp="tomorrow"), s.jwt_secret
    ),
    "exp eight days ahead (Supabase Auth issues a week at most)": lambda s, v: signed(
        session_claims(v.attacker, exp=int(time.time()) + 8 * 24 * HOUR), s.jwt_secret
    ),
    "exp 1e308 (never expires in practice)": lambda s, v: signed(
        session_claims(v.attacker, exp=1e308), s.jwt_secret
    ),
    "signed with HS384 and the project's secret": lambda s, v: pyjwt.encode(
        session_claims(v.attacker), s.jwt_secret, algorithm="HS384"
    ),
    "signed with HS512 and the project's secret": lambda s, v: pyjwt.encode(
        session_claims(v.attacker), s.jwt_secret, algorithm="HS512"
    ),
    "anon key re-signed with HS384": lambda s, v: pyjwt.encode(
        {"iss": "supabase-demo", "role": "anon", "exp": 1983812996}, s.jwt_secret, algorithm="HS384"
    ),
    "audience other than authenticated": lambda s, v: signed(
        session_claims(v.attacker, aud="some-other-service"), s.jwt_secret
    ),
    "audience a list without authenticated": lambda s, v: signed(
        session_claims(v.attacker, aud=["some-other-service"]), s.jwt_secret
    ),
    "claims not an object": lambda s, v: unsigned(HS256, ["authenticated"], "c2ln"),
    "header not JSON": lambda s, v: (
        "bm90IGpzb24." + signed(session_claims(v.attacker), s.jwt_secret).split(".", 1)[1]
    ),
    "not a JWT at all": lambda s, v: "definitely-not-a-token",
    "oversized: 6 KB with a forged signature": lambda s, v: signed(
        session_claims(v.with_profile, padding="x" * 4_500), "forged-secret-forged-secret-forged!"
    ),
    "oversized: 12 KB, correctly signed": lambda s, v: signed(
        session_claims(v.attacker, padding="x" * 9_000), s.jwt_secret
    ),
    "oversized: 1 MB": lambda s, v: signed(
        session_claims(v.with_profile, padding="x" * 750_000), s.jwt_secret
    ),
}


@pytest.fixture(scope="module")
def database(stack: StackState) -> Iterator[Database]:
    with connect(stack) as connection:
        yield connection


@pytest.fixture(scope="module")
def victims(database: Database) -> Victims:
    with_profile, without_profile, attacker = create_auth_users(database, 3)
    insert_profiles(database, {with_profile: VALID_PROFILE})
    return Victims(with_profile, without_profile, attacker)


@pytest.fixture(scope="module")
def api(stack: StackState) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.rest_url, timeout=10) as client:
        yield client


def attack_requests(victims: Victims) -> list[tuple[str, str, dict[str, object]]]:
    """(method, path, keyword arguments) of the five requests each token is tried with."""
    target = {"user_id": f"eq.{victims.with_profile}"}
    created = {"user_id": str(victims.without_profile), **VALID_PROFILE}
    return [
        ("GET", "/movement_profiles", {"params": target}),
        ("POST", "/movement_profiles", {"json": created}),
        ("PATCH", "/movement_profiles", {"params": target, "json": {"goals": ["lose_fat"]}}),
        ("DELETE", "/movement_profiles", {"params": target}),
        ("POST", "/rpc/movement_profile_options", {}),
    ]


@pytest.mark.parametrize("attack", ATTACKS)
def test_forged_or_malformed_token_is_refused_and_writes_nothing(
    stack: StackState, api: httpx.Client, database: Database, victims: Victims, attack: str
) -> None:
    token = ATTACKS[attack](stack, victims)
    before = table_fingerprint(database)
    for method, path, arguments in attack_requests(victims):
        headers = {"apikey": stack.anon_key, "Authorization": f"Bearer {token}", **RETURN_ROWS}
        response = api.request(method, path, headers=headers, **arguments)
        assert response.status_code in (401, 403), (
            f"{method} {path}: {response.status_code} {response.text[:200]}"
        )
        json_error(response)
        assert token not in response.text, "the error must not echo the token"
    assert table_fingerprint(database) == before


def test_the_session_these_attacks_imitate_is_accepted(
    stack: StackState, api: httpx.Client, victims: Victims
) -> None:
    """The control: the same claims, correctly signed, read the victim's own profile."""
    token = signed(session_claims(victims.with_profile), stack.jwt_secret)
    response = api.get(
        "/movement_profiles",
        params={"user_id": f"eq.{victims.with_profile}"},
        headers={"apikey": stack.anon_key, "Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    assert [row["user_id"] for row in response.json()] == [str(victims.with_profile)]
