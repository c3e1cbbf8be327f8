"""Secrets stay secret: the service key, the JWT secret and users' tokens never appear in error
messages, in the CLI's captured output, or in the stack's logs.

`movement-profiles stack status` and `dev token` print secrets on purpose (that is what they are
for) and are left out; everything else a person or a CI log would capture is checked, errors
included, since errors are where secrets usually slip out (a key echoed in a message, a token in a
traceback or a repr).
"""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest

from movement_profiles import MovementProfileCreate, MovementProfilesClient
from movement_profiles.errors import MovementProfilesError
from movement_profiles_cli.stack.state import StackState
from tests.security.support import VALID_PROFILE, Database, insert_profiles, json_error
from tests.support.cli_env import cli_environment
from tests.support.tokens import access_token, signed
from tests.support.users import create_auth_users

pytestmark = pytest.mark.integration

PROJECT_DIR = Path(__file__).resolve().parents[2]
CLI = str(PROJECT_DIR / ".venv" / "bin" / "movement-profiles")


@pytest.fixture(scope="module")
def users(database: Database) -> tuple[uuid.UUID, uuid.UUID]:
    """A user with a profile and one without."""
    with_profile, without_profile = create_auth_users(database, 2)
    insert_profiles(database, {with_profile: VALID_PROFILE})
    return with_profile, without_profile


@pytest.fixture(scope="module")
def token(stack: StackState, users: tuple[uuid.UUID, uuid.UUID]) -> str:
    return access_token(stack, users[0])


@pytest.fixture(scope="module")
def expired_token(stack: StackState, users: tuple[uuid.UUID, uuid.UUID]) -> str:
    now = int(time.time())
    claims = {"sub": str(users[0]), "role": "authenticated", "iat": now - 7200, "exp": now - 3600}
    return signed(claims, stack.jwt_secret)


def secrets(stack: StackState, *tokens: str) -> dict[str, str]:
    return {
        "service role key": stack.service_role_key,
        "JWT secret": stack.jwt_secret,
        **{f"user token {index}": value for index, value in enumerate(tokens)},
    }


def assert_free_of(text: str, secrets: dict[str, str], where: str) -> None:
    for name, value in secrets.items():
        assert value not in text, f"{where} contains the {name}"


def error_requests(
    stack: StackState, token: str, expired: str, user_id: uuid.UUID
) -> dict[str, tuple[str, dict[str, object]]]:
    """Requests that fail in every layer: gateway, JWT check, pre-request, PostgREST, database."""
    url = "/movement_profiles"
    user = {"apikey": stack.anon_key, "Authorization": f"Bearer {token}"}
    return {
        "service key as url param with a bad filter": (
            "GET",
            {"url": url, "params": {"apikey": stack.service_role_key, "user_id": "eq.x"}},
        ),
        "service key as url param, twice": (
            "GET",
            {"url": url, "params": [("apikey", stack.service_role_key)] * 2},
        ),
        "service key with a flipped character": (
            "GET",
            {"url": url, "headers": {"apikey": stack.service_role_key[:-1] + "x"}},
        ),
        "expired user token": (
            "GET",
            {
                "url": url,
                "headers": {"apikey": stack.anon_key, "Authorization": f"Bearer {expired}"},
            },
        ),
        "token with a forged signature": (
            "GET",
            {
                "url": url,
                "headers": {"apikey": stack.anon_key, "Authorization": f"Bearer {token[:-4]}AAAA"},
            },
        ),
        "user token as apikey": ("GET", {"url": url, "headers": {"apikey": token}}),
        "user: invalid filter": (
            "GET",
            {"url": url, "params": {"user_id": "eq.x"}, "headers": user},
        ),
        "user: invalid body": (
            "POST",
            {"url": url, "json": {"training_preferences": ["dance"], "goals": []}, "headers": user},
        ),
        "user: create for another": (
            "POST",
            {"url": url, "json": {"user_id": str(uuid.uuid4()), **VALID_PROFILE}, "headers": user},
        ),
        "user: duplicate create": (
            "POST",
            {"url": url, "json": {"user_id": str(user_id), **VALID_PROFILE}, "headers": user},
        ),
        "user: delete": ("DELETE", {"url": url, "params": {"user_id": "eq.x"}, "headers": user}),
        "user: unknown table": ("GET", {"url": "/users", "headers": user}),
        "user: unknown function": ("POST", {"url": "/rpc/uid", "headers": user}),
        **{
            f"service key as url param `{spelling}` beside the anon key": (
                "GET",
                {
                    "url": f"{url}?user_id=eq.x{spelling}{stack.service_role_key}",
                    "headers": {"apikey": stack.anon_key},
                },
            )
            for spelling in APIKEY_SPELLINGS
        },
        **{
            f"service key as url param `{spelling}`, then a bad filter": (
                "GET",
                {"url": f"{url}?{spelling.lstrip('&;')}{stack.service_role_key};user_id=eq.x"},
            )
            for spelling in APIKEY_SPELLINGS
        },
        "service key as url param in two spellings": (
            "GET",
            {"url": f"{url}?apikey={stack.service_role_key};API%4BEY={stack.service_role_key}"},
        ),
    }


# Every way of writing the `apikey` url param that PostgREST's query parser would decode to that
# name (separators `&` and `;`, any case, percent-encoded letters or `=`); the gateway removes
# each before proxying, so PostgREST can neither echo the key nor log it.
APIKEY_SPELLINGS = [
    "&apikey=",
    ";apikey=",
    "&APIKEY=",
    ";ApiKey=",
    "&api%6bey=",
    "&api%6Bey=",
    ";%61%70%69%6B%65%79=",
    "&%41PI%4bEY=",
    "&apikey%3D",
]


@pytest.mark.parametrize("spelling", APIKEY_SPELLINGS)
def test_an_apikey_url_param_never_reaches_postgrest_in_any_spelling(
    stack: StackState, spelling: str
) -> None:
    """Were the param proxied, PostgREST would take it for a filter and refuse it (PGRST100 or
    42703), quoting it; removed, the request is served."""
    with httpx.Client(base_url=stack.rest_url, timeout=10) as client:
        beside_a_header = client.get(
            f"/movement_profiles?select=user_id&limit=1{spelling}{stack.anon_key}",
            headers={"apikey": stack.service_role_key},
        )
        alone = client.get(
            f"/movement_profiles?{spelling.lstrip('&;')}{stack.service_role_key};select=user_id"
        )
    for response in (beside_a_header, alone):
        assert response.status_code == 200, response.text
        assert len(response.json()) >= 1  # the service role sees rows: the param was its key
        assert stack.anon_key not in response.text
        assert stack.service_role_key not in response.text


@pytest.mark.parametrize(
    "case",
    list(error_requests(StackState(Path(), Path()), "t", "e", uuid.uuid4())),
)
def test_error_answers_never_echo_a_secret(
    stack: StackState,
    token: str,
    expired_token: str,
    users: tuple[uuid.UUID, uuid.UUID],
    case: str,
) -> None:
    method, arguments = error_requests(stack, token, expired_token, users[0])[case]
    with httpx.Client(base_url=stack.rest_url, timeout=10) as client:
        response = client.request(method, **arguments)
    assert response.status_code >= 400, f"{case} did not fail: {response.status_code}"
    json_error(response)
    headers = "\n".join(f"{name}: {value}" for name, value in response.headers.items())
    assert_free_of(response.text + headers, secrets(stack, token, expired_token), case)


def cli_sessions(
    stack: StackState,
    users: tuple[uuid.UUID, uuid.UUID],
    token: str,
    expired: str,
) -> list[tuple[list[str], set[int]]]:
    """Commands, each with the exit codes it may end with."""
    with_profile, without_profile = users
    mine, stranger = str(with_profile), str(without_profile)
    profile = ["--training-preference", "yoga", "--goal", "rehab"]
    return [
        (["options"], {0}),
        (["options", "--json"], {0}),
        (["get", mine], {0}),
        (["get", mine, "--json"], {0}),
        (["get", stranger], {3}),
        (["list", "--limit", "3", "--json"], {0}),
        (["create", "--user-id", mine, *profile], {4}),
        (
            ["create", "--user-id", stranger, "--training-preference", "dance", "--goal", "rehab"],
            {2},
        ),
        (["update", mine, "--goal", "lose_fat", "--json"], {0}),
        (["update", mine, "--goal", "rehab", "--expected-updated-at", "2000-01-01T00:00:00Z"], {4}),
        (["export", "--format", "jsonl", "--page-size", "5"], {0}),
        (["get", mine, "--access-token", token], {0}),
        (["get", stranger, "--access-token", token], {3}),
        (["create", "--user-id", stranger, *profile, "--access-token", token], {5}),
        (["delete", mine, "--yes", "--access-token", token], {5}),
        (["get", mine, "--access-token", expired], {5}),
        (["get", mine, "--access-token", token[:-4] + "AAAA"], {5}),
        (["get", mine, "--url", stack.api_url, "--key", stack.service_role_key[:-1] + "x"], {5}),
        (["get", mine, "--url", "http://127.0.0.1:9", "--key", stack.service_role_key], {1}),
        # One without the other is refused: the key is never combined with another's URL.
        (["get", mine, "--url", "http://127.0.0.1:9"], {2}),
        (["get", mine, "--key", stack.service_role_key], {2}),
        (["get", "not-a-uuid"], {2}),
        (["dev", "user", "create", "--state-dir", str(stack.state_dir)], {0}),
    ]


def test_cli_output_never_contains_a_secret(
    stack: StackState, users: tuple[uuid.UUID, uuid.UUID], token: str, expired_token: str
) -> None:
    environment = cli_environment(stack)
    hidden = secrets(stack, token, expired_token)
    for arguments, exit_codes in cli_sessions(stack, users, token, expired_token):
        result = subprocess.run(
            [CLI, *arguments],
            capture_output=True,
            text=True,
            check=False,
            env=environment,
            cwd=PROJECT_DIR,
            timeout=60,
        )
        shown = " ".join(argument[:20] for argument in arguments)
        assert result.returncode in exit_codes, (
            f"`{shown}` exited {result.returncode}: {result.stderr.strip()[:300]}"
        )
        assert "Traceback" not in result.stderr, f"`{shown}` printed a traceback"
        assert_free_of(result.stdout + result.stderr, hidden, f"output of `{shown}`")


def failures_of(client: MovementProfilesClient, users: tuple[uuid.UUID, uuid.UUID]) -> list[str]:
    """str, repr and attributes of every error a read, a create and a delete raise."""
    with_profile, without_profile = users
    shown = []
    for call in (
        lambda: client.get(without_profile),
        lambda: client.create(MovementProfileCreate(user_id=with_profile, **VALID_PROFILE)),
        lambda: client.delete(without_profile),
    ):
        try:
            call()
        except MovementProfilesError as error:
            shown.extend([str(error), repr(error), str(vars(error))])
    return shown


def test_sdk_errors_and_reprs_never_contain_a_secret(
    stack: StackState, users: tuple[uuid.UUID, uuid.UUID], token: str, expired_token: str
) -> None:
    hidden = secrets(stack, token, expired_token)
    shown: list[str] = []
    clients = [
        MovementProfilesClient(stack.api_url, stack.service_role_key),
        MovementProfilesClient(stack.api_url, stack.anon_key, access_token=token),
        MovementProfilesClient(stack.api_url, stack.anon_key, access_token=expired_token),
        MovementProfilesClient(stack.api_url, stack.service_role_key[:-1] + "x"),
        MovementProfilesClient("http://127.0.0.1:9", stack.service_role_key, max_retries=0),
    ]
    for client in clients:
        with client:
            shown.append(repr(client))
            shown.extend(failures_of(client, users))
    assert len(shown) > len(clients), "the calls were expected to fail"
    assert_free_of("\n".join(shown), hidden, "an SDK error or repr")


def test_postgrest_logs_no_request_line(stack: StackState, token: str) -> None:
    """PostgREST runs with log-level "crit": at "warn" it logged the request line of every 4xx
    and 5xx, query string (and any key in it) included."""
    marker = f"marker-{uuid.uuid4()}"
    user = {"apikey": stack.anon_key, "Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=stack.rest_url, timeout=10) as client:
        statuses = {
            client.get("/movement_profiles", params={"user_id": f"eq.{marker}"}).status_code,
            client.get(
                "/movement_profiles", params={"id": f"eq.{marker}"}, headers=user
            ).status_code,
            client.get(f"/{marker}", params={"q": marker}, headers=user).status_code,
            client.post(f"/rpc/{marker}", params={"q": marker}, headers=user).status_code,
            client.get("/movement_profiles", params={"order": marker}, headers=user).status_code,
        }
    assert statuses <= {400, 401, 404}, statuses
    log = (stack.logs / "postgrest.log").read_text(errors="replace")
    assert "Schema cache loaded" in log, "not PostgREST's log, or it logs nothing at all"
    assert marker not in log


def test_stack_logs_never_contain_a_secret(
    stack: StackState, token: str, expired_token: str
) -> None:
    """Runs last in this module, after the failures above have had their chance to be logged."""
    logs = sorted(path for path in stack.logs.glob("*") if path.is_file())
    assert logs, f"no logs in {stack.logs}"
    hidden = secrets(stack, token, expired_token)
    for log in logs:
        assert_free_of(log.read_text(errors="replace"), hidden, f"log {log.name}")
