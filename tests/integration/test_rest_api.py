"""The story's test list, over HTTP through the gateway, with plain httpx.

Every request goes gateway -> PostgREST -> PostgreSQL as a frontend's would; nothing is stubbed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import httpx
import psycopg
import pytest

from movement_profiles_cli.stack import jwt
from movement_profiles_cli.stack.state import StackState
from tests.support.tokens import access_token
from tests.support.users import StackUser

pytestmark = pytest.mark.integration

OBJECT = "application/vnd.pgrst.object+json"


@pytest.fixture
def api(stack: StackState) -> httpx.Client:
    with httpx.Client(base_url=stack.rest_url, headers={"apikey": stack.anon_key}) as client:
        yield client


def as_user(user: StackUser, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {user.access_token}", **extra}


def create(
    api: httpx.Client, user: StackUser, preferences: object, goals: object
) -> httpx.Response:
    return api.post(
        "/movement_profiles",
        json={"training_preferences": preferences, "goals": goals},
        headers=as_user(user, Prefer="return=representation", Accept=OBJECT),
    )


def stored_row(
    db: psycopg.Connection[tuple[object, ...]], user: StackUser
) -> tuple[object, ...] | None:
    return db.execute(
        "select training_preferences, goals from public.movement_profiles where user_id = %s",
        (user.id,),
    ).fetchone()


def test_post_creates_profile_with_jsonb_arrays(
    api: httpx.Client,
    make_user: Callable[[], StackUser],
    db: psycopg.Connection[tuple[object, ...]],
) -> None:
    user = make_user()
    response = create(api, user, ["strength_training", "yoga"], ["build_muscle", "rehab"])
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["user_id"] == str(user.id)
    assert body["training_preferences"] == ["strength_training", "yoga"]
    assert body["goals"] == ["build_muscle", "rehab"]
    uuid.UUID(body["id"])
    assert stored_row(db, user) == (["strength_training", "yoga"], ["build_muscle", "rehab"])
    kinds = db.execute(
        "select jsonb_typeof(training_preferences), jsonb_typeof(goals) "
        "from public.movement_profiles where user_id = %s",
        (user.id,),
    ).fetchone()
    assert kinds == ("array", "array")


@pytest.mark.parametrize(
    ("preferences", "goals", "field", "message"),
    [
        (
            ["dance"],
            ["rehab"],
            "training_preferences",
            'training_preferences contains an invalid value: "dance"',
        ),
        (
            ["yoga"],
            ["improve_flexibility"],
            "goals",
            'goals contains an invalid value: "improve_flexibility"',
        ),
        (
            [],
            ["rehab"],
            "training_preferences",
            "training_preferences must contain at least one value",
        ),
        (["yoga"], [], "goals", "goals must contain at least one value"),
        (
            ["yoga", "yoga"],
            ["rehab"],
            "training_preferences",
            'training_preferences contains a duplicate value: "yoga"',
        ),
        (
            "yoga",
            ["rehab"],
            "training_preferences",
            "training_preferences must be a JSON array of strings",
        ),
        (["yoga"], None, "goals", "goals must be a JSON array of strings"),
    ],
)
def test_invalid_input_gives_400_naming_the_field_and_stores_nothing(
    api: httpx.Client,
    make_user: Callable[[], StackUser],
    db: psycopg.Connection[tuple[object, ...]],
    preferences: object,
    goals: object,
    field: str,
    message: str,
) -> None:
    user = make_user()
    response = create(api, user, preferences, goals)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["code"] == "23514"
    assert error["message"] == message
    assert error["hint"] == field
    assert error["details"].startswith("Allowed values: ")
    assert stored_row(db, user) is None


def test_get_returns_arrays_intact_and_in_order(
    api: httpx.Client, make_user: Callable[[], StackUser]
) -> None:
    user = make_user()
    preferences = ["yoga", "crossfit", "running", "strength_training"]
    goals = ["rehab", "build_muscle", "general_health"]
    assert create(api, user, preferences, goals).status_code == 201
    response = api.get(
        "/movement_profiles",
        params={"user_id": f"eq.{user.id}"},
        headers=as_user(user, Accept=OBJECT),
    )
    assert response.status_code == 200
    assert response.json()["training_preferences"] == preferences
    assert response.json()["goals"] == goals


def test_patch_updates_arrays_and_moves_updated_at(
    api: httpx.Client,
    make_user: Callable[[], StackUser],
    db: psycopg.Connection[tuple[object, ...]],
) -> None:
    user = make_user()
    created = create(api, user, ["running"], ["lose_fat"]).json()
    response = api.patch(
        "/movement_profiles",
        params={"user_id": f"eq.{user.id}"},
        json={"training_preferences": ["running", "yoga"], "goals": ["improve_endurance"]},
        headers=as_user(user, Prefer="return=representation", Accept=OBJECT),
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["training_preferences"] == ["running", "yoga"]
    assert updated["goals"] == ["improve_endurance"]
    assert updated["created_at"] == created["created_at"]
    assert updated["updated_at"] > created["updated_at"]
    assert stored_row(db, user) == (["running", "yoga"], ["improve_endurance"])


def test_second_create_for_same_user_is_409(
    api: httpx.Client, make_user: Callable[[], StackUser]
) -> None:
    user = make_user()
    assert create(api, user, ["yoga"], ["rehab"]).status_code == 201
    second = create(api, user, ["running"], ["lose_fat"])
    assert second.status_code == 409
    assert second.json()["code"] == "23505"


def test_another_users_profile_is_not_found(
    api: httpx.Client, make_user: Callable[[], StackUser]
) -> None:
    owner, stranger = make_user(), make_user()
    assert create(api, owner, ["yoga"], ["rehab"]).status_code == 201
    response = api.get(
        "/movement_profiles",
        params={"user_id": f"eq.{owner.id}"},
        headers=as_user(stranger, Accept=OBJECT),
    )
    assert response.status_code == 406
    assert response.json()["code"] == "PGRST116"
    patched = api.patch(
        "/movement_profiles",
        params={"user_id": f"eq.{owner.id}"},
        json={"goals": ["lose_fat"]},
        headers=as_user(stranger, Prefer="return=representation"),
    )
    assert patched.status_code == 200
    assert patched.json() == [], "an update of another user's row must touch nothing"


def test_missing_apikey_is_401_json(stack: StackState) -> None:
    response = httpx.get(f"{stack.rest_url}/movement_profiles")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["message"] == "No API key found in request"


def test_invalid_apikey_is_401_json(stack: StackState) -> None:
    response = httpx.get(f"{stack.rest_url}/movement_profiles", headers={"apikey": "not-a-key"})
    assert response.status_code == 401
    assert response.json()["message"] == "Invalid API key"


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("not.a.jwt", id="garbage"),
        pytest.param(
            jwt.user_token(
                str(uuid.uuid4()),
                "a-different-secret-that-is-long-enough!!",
                issued_at=int(time.time()),
                expires_in=600,
            ),
            id="wrong-secret",
        ),
        pytest.param("expired", id="expired"),
    ],
)
def test_bad_jwt_is_401(api: httpx.Client, stack: StackState, token: str) -> None:
    if token == "expired":
        # PostgREST allows 30 s of clock skew: expire well before that.
        token = access_token(stack, uuid.uuid4(), issued_at=int(time.time()) - 3600, lifetime=60)
    response = api.get("/movement_profiles", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["code"].startswith("PGRST30")


def test_cors_preflight_is_answered_without_apikey(stack: StackState) -> None:
    response = httpx.options(
        f"{stack.rest_url}/movement_profiles",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, apikey, content-type, prefer",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert "PATCH" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"]
    for header in ("authorization", "apikey", "content-type", "prefer"):
        assert header in allowed


def test_cors_preflight_allows_the_headers_a_host_page_asks_for(stack: StackState) -> None:
    # Kong's cors plugin, as Supabase configures it, answers the headers the browser asks for.
    asked = "authorization, apikey, x-tenant-id"
    response = httpx.options(
        f"{stack.rest_url}/workout_programs",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": asked,
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-headers"] == asked
    plain = httpx.options(f"{stack.rest_url}/workout_programs")
    assert "apikey" in plain.headers["access-control-allow-headers"]


def test_apikey_is_used_as_bearer_when_authorization_is_absent(stack: StackState) -> None:
    # The service key as apikey alone acts as service_role: it sees every seeded profile.
    response = httpx.get(
        f"{stack.rest_url}/movement_profiles", headers={"apikey": stack.service_role_key}
    )
    assert response.status_code == 200
    anon = httpx.get(f"{stack.rest_url}/movement_profiles", headers={"apikey": stack.anon_key})
    assert anon.status_code == 401
    assert anon.json()["code"] == "42501"
