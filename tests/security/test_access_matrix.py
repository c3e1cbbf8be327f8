"""Who may do what: every actor against every operation, through the gateway, in one table.

Each cell starts from fresh users (A and B with profiles, C without; for the two create operations
A and B have none yet), sends one request and checks three things: the HTTP status the contract
gives, what the answer shows (reads reveal only what the actor may see), and what the table holds
afterwards (a refused request changes no row; an allowed one changes exactly its row). Then the
whole matrix is printed, failures marked, and the test fails listing every cell that differed.

"Own" is the actor's own user: A for user A and for the forged-role tokens (whose `sub` is A),
B for user B. Callers without a user (no key, anon key, service role) have no own profile; for
them "own" means A and "another" B. Writes name `user_id` explicitly, as the SDK does.
"""

from __future__ import annotations

import enum
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from movement_profiles_cli.stack.state import StackState
from tests.security.support import (
    RETURN_ROWS,
    Database,
    as_user,
    delete_auth_users,
    insert_profiles,
    json_error,
    stored_profiles,
)
from tests.support.tokens import access_token, signed
from tests.support.users import create_auth_users

pytestmark = pytest.mark.integration

ARRANGED = {"training_preferences": ["running"], "goals": ["lose_fat"]}
POSTED = {"training_preferences": ["yoga", "crossfit"], "goals": ["rehab"]}
NEW_GOALS = ["build_muscle", "general_health"]
LONG_AGO = "2000-01-01T00:00:00+00:00"
# The id every "change id" cell asks for; only the service role's succeeds, and its row is
# deleted with the cell's users before the next cell runs.
NEW_ID = uuid.uuid4()


class Actor(enum.StrEnum):
    NO_APIKEY = "no apikey"
    ANON = "anon key only"
    USER_A = "user A"
    USER_B = "user B"
    SERVICE = "service role"
    ROLE_POSTGRES = "JWT role postgres"
    ROLE_AUTHENTICATOR = "JWT role authenticator"
    ROLE_MISSING = "JWT role nonexistent"


class Operation(enum.StrEnum):
    CREATE_OWN = "create own"
    CREATE_OTHER = "create for another"
    READ_OWN = "read own"
    READ_OTHER = "read another's"
    LIST_ALL = "list all"
    UPDATE_OWN = "update own"
    UPDATE_OTHER = "update another's"
    CHANGE_USER_ID = "change user_id"
    CHANGE_ID = "change id"
    CHANGE_CREATED_AT = "change created_at"
    DELETE = "delete"
    OPTIONS = "options()"


class Effect(enum.Enum):
    """What the table must look like after the request, for the cell's users A, B and C."""

    NOTHING = "no row changed"
    CREATED_OWN = "own row created with the posted arrays"
    CREATED_OTHER = "other's row created with the posted arrays"
    UPDATED_OWN = "own goals replaced, nothing else"
    UPDATED_OTHER = "other's goals replaced, nothing else"
    MOVED_TO_C = "own row now belongs to user C"
    ID_CHANGED = "own row has the new id"
    TOUCHED = "own row kept created_at and arrays; only updated_at moved"
    DELETED_OWN = "own row deleted"


class Visible(enum.Enum):
    """Which profiles a 2xx answer may show."""

    NONE = "no rows"
    OWN = "exactly the own row"
    OTHER = "exactly the other's row"
    AT_LEAST_BOTH = "every row (own and other among them)"
    NOT_A_READ = "-"


@dataclass(frozen=True)
class Expected:
    status: int
    effect: Effect = Effect.NOTHING
    visible: Visible = Visible.NOT_A_READ


# What a signed-in user may do: own row only; foreign rows are invisible (an
# update of one touches nothing, which the SDK reports as 404); the columns id, user_id and
# created_at are not granted (403); there is no delete policy or grant (403).
USER_OUTCOMES = {
    Operation.CREATE_OWN: Expected(201, Effect.CREATED_OWN, Visible.OWN),
    Operation.CREATE_OTHER: Expected(403),
    Operation.READ_OWN: Expected(200, visible=Visible.OWN),
    Operation.READ_OTHER: Expected(200, visible=Visible.NONE),
    Operation.LIST_ALL: Expected(200, visible=Visible.OWN),
    Operation.UPDATE_OWN: Expected(200, Effect.UPDATED_OWN, Visible.OWN),
    Operation.UPDATE_OTHER: Expected(200, visible=Visible.NONE),
    Operation.CHANGE_USER_ID: Expected(403),
    Operation.CHANGE_ID: Expected(403),
    Operation.CHANGE_CREATED_AT: Expected(403),
    Operation.DELETE: Expected(403),
    Operation.OPTIONS: Expected(200),
}

# The service role is the admin (BYPASSRLS, all grants): it does anything to any row, except
# rewriting created_at, which the before-write trigger keeps for every writer.
SERVICE_OUTCOMES = {
    Operation.CREATE_OWN: Expected(201, Effect.CREATED_OWN, Visible.OWN),
    Operation.CREATE_OTHER: Expected(201, Effect.CREATED_OTHER, Visible.OTHER),
    Operation.READ_OWN: Expected(200, visible=Visible.OWN),
    Operation.READ_OTHER: Expected(200, visible=Visible.OTHER),
    Operation.LIST_ALL: Expected(200, visible=Visible.AT_LEAST_BOTH),
    Operation.UPDATE_OWN: Expected(200, Effect.UPDATED_OWN, Visible.OWN),
    Operation.UPDATE_OTHER: Expected(200, Effect.UPDATED_OTHER, Visible.OTHER),
    Operation.CHANGE_USER_ID: Expected(200, Effect.MOVED_TO_C),
    Operation.CHANGE_ID: Expected(200, Effect.ID_CHANGED),
    Operation.CHANGE_CREATED_AT: Expected(200, Effect.TOUCHED),
    Operation.DELETE: Expected(200, Effect.DELETED_OWN, Visible.OWN),
    Operation.OPTIONS: Expected(200),
}


def expected(actor: Actor, operation: Operation) -> Expected:
    if actor is Actor.NO_APIKEY:
        return Expected(401)  # the gateway, before PostgREST
    if actor is Actor.ANON:
        # The anon role has no privilege on the table; PostgREST says 401 to an anonymous caller.
        return Expected(200) if operation is Operation.OPTIONS else Expected(401)
    if actor in (Actor.USER_A, Actor.USER_B):
        return USER_OUTCOMES[operation]
    if actor is Actor.SERVICE:
        return SERVICE_OUTCOMES[operation]
    if actor is Actor.ROLE_POSTGRES:
        # authenticator is not a member of postgres: "permission denied to set role".
        return Expected(403)
    if actor is Actor.ROLE_AUTHENTICATOR:
        return Expected(401)  # movement_profiles_internal.check_request(): not an API role
    # A role that does not exist fails in PostgREST 12's `set role` with 22023, which it answers
    # 400; the pre-request check never runs (PostgREST 13 answers 401). Nothing is read or written.
    return Expected(400)


@dataclass
class Cell:
    """One arranged universe: the actor's own user, the other user, and a spare user C."""

    own: uuid.UUID
    other: uuid.UUID
    spare: uuid.UUID
    headers: dict[str, str]


def arrange(stack: StackState, db: Database, actor: Actor, operation: Operation) -> Cell:
    user_a, user_b, user_c = create_auth_users(db, 3)
    if operation not in (Operation.CREATE_OWN, Operation.CREATE_OTHER):
        insert_profiles(db, {user_a: ARRANGED, user_b: ARRANGED})
    own, other = (user_b, user_a) if actor is Actor.USER_B else (user_a, user_b)
    return Cell(own, other, user_c, headers_of(stack, actor, user_a, user_b))


def headers_of(
    stack: StackState, actor: Actor, user_a: uuid.UUID, user_b: uuid.UUID
) -> dict[str, str]:
    def forged(role: str) -> dict[str, str]:
        claims = {"sub": str(user_a), "role": role, "exp": int(time.time()) + 600}
        return as_user(stack, signed(claims, stack.jwt_secret))

    return {
        Actor.NO_APIKEY: {},
        Actor.ANON: {"apikey": stack.anon_key},
        Actor.USER_A: as_user(stack, access_token(stack, user_a)),
        Actor.USER_B: as_user(stack, access_token(stack, user_b)),
        Actor.SERVICE: {"apikey": stack.service_role_key},
        Actor.ROLE_POSTGRES: forged("postgres"),
        Actor.ROLE_AUTHENTICATOR: forged("authenticator"),
        Actor.ROLE_MISSING: forged("no_such_role"),
    }[actor]


def send(api: httpx.Client, operation: Operation, cell: Cell) -> httpx.Response:
    headers = {**cell.headers, **RETURN_ROWS}
    own_filter = {"user_id": f"eq.{cell.own}"}
    other_filter = {"user_id": f"eq.{cell.other}"}
    table = "/movement_profiles"
    match operation:
        case Operation.CREATE_OWN:
            return api.post(table, json={"user_id": str(cell.own), **POSTED}, headers=headers)
        case Operation.CREATE_OTHER:
            return api.post(table, json={"user_id": str(cell.other), **POSTED}, headers=headers)
        case Operation.READ_OWN:
            return api.get(table, params=own_filter, headers=headers)
        case Operation.READ_OTHER:
            return api.get(table, params=other_filter, headers=headers)
        case Operation.LIST_ALL:
            return api.get(table, headers=headers)
        case Operation.UPDATE_OWN:
            return api.patch(table, params=own_filter, json={"goals": NEW_GOALS}, headers=headers)
        case Operation.UPDATE_OTHER:
            return api.patch(table, params=other_filter, json={"goals": NEW_GOALS}, headers=headers)
        case Operation.CHANGE_USER_ID:
            body = {"user_id": str(cell.spare)}
            return api.patch(table, params=own_filter, json=body, headers=headers)
        case Operation.CHANGE_ID:
            return api.patch(table, params=own_filter, json={"id": str(NEW_ID)}, headers=headers)
        case Operation.CHANGE_CREATED_AT:
            body = {"created_at": LONG_AGO}
            return api.patch(table, params=own_filter, json=body, headers=headers)
        case Operation.DELETE:
            return api.delete(table, params=own_filter, headers=headers)
        case Operation.OPTIONS:
            return api.post("/rpc/movement_profile_options", headers=cell.headers)


def check_visible(visible: Visible, body: Any, cell: Cell) -> str | None:
    if visible is Visible.NOT_A_READ:
        return None
    if not isinstance(body, list):
        return f"expected a JSON array, got {str(body)[:80]}"
    shown = {uuid.UUID(row["user_id"]) for row in body}
    wanted = {
        Visible.NONE: set(),
        Visible.OWN: {cell.own},
        Visible.OTHER: {cell.other},
    }.get(visible)
    if wanted is not None and shown != wanted:
        return f"answer shows {len(shown)} profile(s), expected {visible.value}"
    if visible is Visible.AT_LEAST_BOTH and not {cell.own, cell.other} <= shown:
        return "answer lacks rows the service role may see"
    return None


def check_effect(
    effect: Effect,
    before: dict[uuid.UUID, tuple[Any, ...]],
    after: dict[uuid.UUID, tuple[Any, ...]],
    cell: Cell,
) -> str | None:
    """None when the table changed exactly as `effect` says; else what differs."""
    expected_after = dict(before)
    if effect is Effect.CREATED_OWN or effect is Effect.CREATED_OTHER:
        target = cell.own if effect is Effect.CREATED_OWN else cell.other
        row = after.get(target)
        if row is None or (row[1], row[2]) != (POSTED["training_preferences"], POSTED["goals"]):
            return f"{effect.value}: stored {row}"
        expected_after[target] = row
    elif effect is Effect.UPDATED_OWN or effect is Effect.UPDATED_OTHER:
        target = cell.own if effect is Effect.UPDATED_OWN else cell.other
        old, row = before[target], after.get(target)
        if row is None or row[:2] != old[:2] or row[2] != NEW_GOALS or row[3] != old[3]:
            return f"{effect.value}: stored {row}"
        expected_after[target] = row
    elif effect is Effect.MOVED_TO_C:
        moved = after.get(cell.spare)
        if cell.own in after or moved is None or moved[0] != before[cell.own][0]:
            return f"{effect.value}: own {after.get(cell.own)}, C {moved}"
        del expected_after[cell.own]
        expected_after[cell.spare] = moved
    elif effect is Effect.ID_CHANGED:
        row = after.get(cell.own)
        if row is None or row[0] != NEW_ID or row[1:4] != before[cell.own][1:4]:
            return f"{effect.value}: stored {row}"
        expected_after[cell.own] = row
    elif effect is Effect.TOUCHED:
        row = after.get(cell.own)
        if row is None or row[:4] != before[cell.own][:4]:
            return f"{effect.value}: stored {row}"
        expected_after[cell.own] = row
    elif effect is Effect.DELETED_OWN:
        del expected_after[cell.own]
    if after != expected_after:
        return f"rows changed that must not have: {effect.value} expected"
    return None


@dataclass
class Result:
    status: int
    problems: list[str]


def run_cell(
    stack: StackState, db: Database, api: httpx.Client, actor: Actor, operation: Operation
) -> Result:
    cell = arrange(stack, db, actor, operation)
    users = (cell.own, cell.other, cell.spare)
    before = stored_profiles(db, users)
    response = send(api, operation, cell)
    after = stored_profiles(db, users)
    want = expected(actor, operation)
    problems = []
    if response.status_code != want.status:
        problems.append(
            f"status {response.status_code}, expected {want.status}: {response.text[:160]}"
        )
    if response.status_code >= 400:
        try:
            json_error(response)
        except AssertionError as error:
            problems.append(str(error))
    elif operation is Operation.OPTIONS:
        if set(response.json()) != {"training_preferences", "goals"}:
            problems.append(f"options() answered {response.text[:160]}")
    elif problem := check_visible(want.visible, response.json(), cell):
        problems.append(problem)
    if problem := check_effect(want.effect, before, after, cell):
        problems.append(problem)
    delete_auth_users(db, users)
    return Result(response.status_code, problems)


def render(results: dict[tuple[Actor, Operation], Result]) -> str:
    """The matrix as text: one row per actor, one column per operation; ✗ marks a wrong cell."""
    first = max(len(actor) for actor in Actor)
    widths = [max(len(operation), 5) for operation in Operation]
    lines = [
        " " * first
        + " | "
        + " | ".join(op.value.ljust(w) for op, w in zip(Operation, widths, strict=True))
    ]
    lines.append("-" * len(lines[0]))
    for actor in Actor:
        cells = []
        for operation, width in zip(Operation, widths, strict=True):
            result = results[actor, operation]
            mark = "ok" if not result.problems else "✗"
            cells.append(f"{result.status} {mark}".ljust(width))
        lines.append(actor.value.ljust(first) + " | " + " | ".join(cells))
    return "\n".join(lines)


@pytest.fixture(scope="module")
def api(stack: StackState) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.rest_url, timeout=10) as client:
        yield client


def test_every_actor_gets_the_contracts_outcome_for_every_operation(
    stack: StackState, database: Database, api: httpx.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    results = {
        (actor, operation): run_cell(stack, database, api, actor, operation)
        for actor in Actor
        for operation in Operation
    }
    with capsys.disabled():
        print(f"\naccess matrix: {len(results)} cells (actor x operation), status and verdict\n")
        print(render(results))
    failures = [
        f"{actor.value} / {operation.value}: {'; '.join(result.problems)}"
        for (actor, operation), result in results.items()
        if result.problems
    ]
    assert not failures, "\n".join(failures)
