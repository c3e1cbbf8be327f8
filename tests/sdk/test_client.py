"""Every method of both clients against the real stack, as a user and as an admin.

Each test runs with the sync and the async client (`connect` is parametrized); requests go
gateway -> PostgREST -> PostgreSQL, nothing is stubbed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import psycopg
import pytest

from movement_profiles import (
    AuthError,
    ConflictError,
    Goal,
    MovementProfileCreate,
    MovementProfileUpdate,
    NotFoundError,
    PermissionDeniedError,
    StaleUpdateError,
    TrainingPreference,
    ValidationError,
)
from movement_profiles_cli.stack import jwt
from movement_profiles_cli.stack.state import StackState
from tests.sdk.conftest import Connect, Either
from tests.support.tokens import access_token
from tests.support.users import StackUser

pytestmark = pytest.mark.integration

Database = psycopg.Connection[tuple[object, ...]]


def stored(db: Database, user_id: uuid.UUID) -> tuple[object, ...] | None:
    return db.execute(
        "select training_preferences, goals from public.movement_profiles where user_id = %s",
        (user_id,),
    ).fetchone()


# -- as a user (anon key + access token) -------------------------------------------------------


async def test_user_creates_reads_and_updates_their_profile(
    as_user: Either, user: StackUser, db: Database
) -> None:
    created = await as_user.create(
        MovementProfileCreate(training_preferences=["strength_training", "yoga"], goals=["rehab"])
    )
    assert created.user_id == user.id  # the database filled in auth.uid()
    assert created.training_preferences == [TrainingPreference.STRENGTH_TRAINING, "yoga"]
    assert created.created_at.tzinfo is not None

    read = await as_user.get(user.id)
    assert read == created

    updated = await as_user.update(str(user.id), MovementProfileUpdate(goals=["lose_fat", "rehab"]))
    assert updated.goals == [Goal.LOSE_FAT, Goal.REHAB]
    assert updated.training_preferences == created.training_preferences
    assert updated.created_at == created.created_at
    assert updated.updated_at > created.updated_at
    assert stored(db, user.id) == (["strength_training", "yoga"], ["lose_fat", "rehab"])


async def test_user_sees_only_their_own_profile(
    as_user: Either, admin: Either, user: StackUser, make_user: Callable[[], StackUser]
) -> None:
    stranger = make_user()
    await admin.create(
        {"user_id": stranger.id, "training_preferences": ["yoga"], "goals": ["rehab"]}
    )
    await as_user.create({"training_preferences": ["yoga"], "goals": ["rehab"]})

    with pytest.raises(NotFoundError) as raised:
        await as_user.get(stranger.id)
    assert raised.value.status == 404
    assert raised.value.response is not None
    assert raised.value.response.status_code == 406
    assert raised.value.request is raised.value.response.request
    assert raised.value.code == "PGRST116"

    with pytest.raises(NotFoundError):
        await as_user.update(stranger.id, {"goals": ["lose_fat"]})
    assert (await admin.get(stranger.id)).goals == ["rehab"], "nothing may change"

    listed = await as_user.list(training_preference="yoga", goal="rehab", limit=1000)
    assert [profile.user_id for profile in listed] == [user.id]
    assert [profile.user_id for profile in await as_user.all()] == [user.id]


async def test_user_cannot_create_a_profile_for_someone_else(
    as_user: Either, make_user: Callable[[], StackUser], db: Database
) -> None:
    stranger = make_user()
    with pytest.raises(PermissionDeniedError) as raised:
        await as_user.create(
            {"user_id": stranger.id, "training_preferences": ["yoga"], "goals": ["rehab"]}
        )
    assert (raised.value.status, raised.value.code) == (403, "42501")
    assert stored(db, stranger.id) is None


async def test_second_profile_for_the_same_user_is_a_conflict(as_user: Either) -> None:
    await as_user.create({"training_preferences": ["yoga"], "goals": ["rehab"]})
    with pytest.raises(ConflictError) as raised:
        await as_user.create({"training_preferences": ["running"], "goals": ["lose_fat"]})
    assert (raised.value.status, raised.value.code) == (409, "23505")


async def test_user_cannot_delete(as_user: Either, user: StackUser, db: Database) -> None:
    await as_user.create({"training_preferences": ["yoga"], "goals": ["rehab"]})
    with pytest.raises(PermissionDeniedError) as raised:
        await as_user.delete(user.id)
    assert raised.value.status == 403
    assert stored(db, user.id) is not None


async def test_user_reads_the_allowed_values(as_user: Either) -> None:
    options = await as_user.options()
    # Every field of the catalogue (a jsonb object: its keys are not in display order, the
    # catalogue's are), the built-in ones with the values they ship with first (other tests may
    # add fields and values to the shared stack, never take shipped ones away).
    shipped = {
        "training_preferences": [member.value for member in TrainingPreference],
        "goals": [member.value for member in Goal],
    }
    for field, values in shipped.items():
        assert options[field][: len(values)] == values
    catalogue = await as_user.catalogue()
    assert {field.name: list(field.allowed) for field in catalogue.fields} == options


async def test_invalid_input_is_rejected_before_any_request(
    as_user: Either, user: StackUser, db: Database
) -> None:
    with pytest.raises(ValidationError) as raised:
        await as_user.create({"training_preferences": ["yoga", "yoga"], "goals": ["rehab"]})
    assert raised.value.response is None
    assert raised.value.status == 400
    with pytest.raises(ValidationError, match="an update needs at least one"):
        await as_user.update(user.id, {})
    assert stored(db, user.id) is None


# model_construct leaves values where pydantic expects lists of strings, and says so.
@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")
@pytest.mark.parametrize(
    ("preferences", "goals"),
    [
        (["dance"], ["rehab"]),
        (["yoga"], []),
        (["yoga", "yoga"], ["rehab"]),
        ("yoga", ["rehab"]),
        (["yoga"], [1]),
    ],
)
async def test_the_server_rejects_in_the_same_words(
    as_user: Either, user: StackUser, db: Database, preferences: object, goals: object
) -> None:
    # The catalogue's verdict, before any write: the field, the message and its details.
    catalogue = await as_user.catalogue()
    field, message = next(
        (field, problem)
        for field, value in (("training_preferences", preferences), ("goals", goals))
        if (problem := catalogue.problem(field, value)) is not None
    )
    # model_construct skips the SDK's validation, so the request reaches the database's CHECKs.
    unchecked = MovementProfileCreate.model_construct(
        training_preferences=preferences, goals=goals, custom_fields={}
    )
    with pytest.raises(ValidationError) as remote:
        await as_user.create(unchecked)
    assert remote.value.response is not None
    assert remote.value.response.status_code == 400
    assert (remote.value.status, remote.value.code) == (400, "23514")
    assert (remote.value.message, remote.value.details, remote.value.hint) == (
        message,
        catalogue.field(field).detail(),
        field,
    )
    # What the model checks without the catalogue, it words as the database does.
    if preferences != ["dance"]:
        with pytest.raises(ValidationError) as local:
            MovementProfileCreate(training_preferences=preferences, goals=goals)
        assert (local.value.code, local.value.message, local.value.hint) == (
            "23514",
            message,
            field,
        )
    assert stored(db, user.id) is None


async def test_stale_update_writes_nothing(as_user: Either, user: StackUser, db: Database) -> None:
    first = await as_user.create({"training_preferences": ["yoga"], "goals": ["rehab"]})
    second = await as_user.update(
        user.id, {"goals": ["lose_fat"]}, expected_updated_at=first.updated_at
    )
    with pytest.raises(StaleUpdateError) as raised:
        await as_user.update(
            user.id, {"goals": ["build_muscle"]}, expected_updated_at=first.updated_at
        )
    assert raised.value.status == 409
    assert raised.value.current_updated_at == second.updated_at
    assert stored(db, user.id) == (["yoga"], ["lose_fat"])
    # The stored updated_at, as an ISO string, is accepted too.
    third = await as_user.update(
        user.id, {"goals": ["rehab"]}, expected_updated_at=second.updated_at.isoformat()
    )
    assert third.goals == ["rehab"]


async def test_optimistic_update_of_a_missing_profile_is_not_found(
    as_user: Either, user: StackUser
) -> None:
    with pytest.raises(NotFoundError):
        await as_user.update(
            user.id, {"goals": ["rehab"]}, expected_updated_at="2026-01-01T00:00:00Z"
        )


def expired_token(stack: StackState) -> str:
    # PostgREST allows 30 s of clock skew: expire well before that.
    return access_token(stack, uuid.uuid4(), issued_at=int(time.time()) - 3600, lifetime=60)


def foreign_token(stack: StackState) -> str:
    return jwt.user_token(
        str(uuid.uuid4()),
        "another-secret-that-is-long-enough-to-sign!",
        issued_at=int(time.time()),
        expires_in=600,
    )


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(expired_token, id="expired"),
        pytest.param(foreign_token, id="wrong-secret"),
        pytest.param(lambda stack: "not.a.jwt", id="garbage"),
    ],
)
async def test_bad_tokens_are_auth_errors(
    connect: Connect, stack: StackState, make_token: Callable[[StackState], str]
) -> None:
    client = connect(stack.anon_key, make_token(stack))
    with pytest.raises(AuthError) as raised:
        await client.get(uuid.uuid4())
    assert raised.value.status == 401
    assert raised.value.response is not None
    assert raised.value.response.status_code == 401
    assert raised.value.code == "PGRST301"


async def test_a_bad_api_key_is_an_auth_error(connect: Connect) -> None:
    with pytest.raises(AuthError) as raised:
        await connect("not-a-key").options()
    assert raised.value.status == 401
    assert raised.value.message == "Invalid API key"


async def test_anonymous_callers_must_authenticate(connect: Connect, stack: StackState) -> None:
    anonymous = connect(stack.anon_key)
    with pytest.raises(AuthError) as raised:
        await anonymous.get(uuid.uuid4())
    assert (raised.value.status, raised.value.code) == (401, "42501")
    assert (await anonymous.options())["goals"][0] == "build_muscle"  # options are public


# -- as an admin (service role key) ------------------------------------------------------------


async def test_admin_manages_any_users_profile(
    admin: Either, user: StackUser, db: Database
) -> None:
    created = await admin.create(
        MovementProfileCreate(
            user_id=user.id, training_preferences=["crossfit"], goals=["build_muscle"]
        )
    )
    assert created.user_id == user.id
    assert await admin.get(user.id) == created

    updated = await admin.update(
        user.id,
        MovementProfileUpdate(training_preferences=["crossfit", "running"]),
        expected_updated_at=created.updated_at,
    )
    assert updated.training_preferences == ["crossfit", "running"]
    assert updated.goals == ["build_muscle"]

    assert await admin.delete(user.id) is None
    assert stored(db, user.id) is None
    with pytest.raises(NotFoundError):
        await admin.get(user.id)
    with pytest.raises(NotFoundError):
        await admin.delete(user.id)
    with pytest.raises(NotFoundError):
        await admin.update(user.id, {"goals": ["rehab"]})


async def test_admin_create_for_an_unknown_user_is_invalid(admin: Either) -> None:
    with pytest.raises(ValidationError) as raised:
        await admin.create(
            {"user_id": uuid.uuid4(), "training_preferences": ["yoga"], "goals": ["rehab"]}
        )
    assert (raised.value.status, raised.value.code, raised.value.hint) == (400, "23503", "user_id")


async def test_admin_create_needs_a_user_id(admin: Either) -> None:
    with pytest.raises(ValidationError) as raised:
        await admin.create({"training_preferences": ["yoga"], "goals": ["rehab"]})
    assert (raised.value.status, raised.value.code) == (400, "23502")


async def test_list_filters_by_containment_with_limit_and_offset(
    admin: Either, make_user: Callable[[], StackUser]
) -> None:
    users = [make_user() for _ in range(3)]
    arrays = [
        (["sports", "mixed"], ["general_health", "rehab"]),
        (["sports"], ["general_health"]),
        (["mixed"], ["rehab"]),
    ]
    for owner, (preferences, goals) in zip(users, arrays, strict=True):
        await admin.create(
            {"user_id": owner.id, "training_preferences": preferences, "goals": goals}
        )
    mine = {owner.id for owner in users}

    def matching(profiles: list) -> set[uuid.UUID]:
        return {profile.user_id for profile in profiles} & mine

    both = await admin.list(training_preference=["sports", "mixed"], limit=1000)
    assert matching(both) == {users[0].id}
    assert all({"sports", "mixed"} <= set(profile.training_preferences) for profile in both)
    assert matching(await admin.list(goal=Goal.REHAB, limit=1000)) == {users[0].id, users[2].id}
    assert matching(await admin.list("sports", "general_health", limit=1000)) == {
        users[0].id,
        users[1].id,
    }

    everything = await admin.list(limit=1000)
    assert [p.user_id for p in everything] == sorted(p.user_id for p in everything)
    assert await admin.list(limit=2, offset=1) == everything[1:3]
    assert await admin.list(limit=0) == []


async def test_upsert_many_inserts_and_overwrites_in_batches(
    admin: Either, make_user: Callable[[], StackUser], db: Database
) -> None:
    users = [make_user() for _ in range(5)]
    existing = await admin.create(
        {"user_id": users[0].id, "training_preferences": ["yoga"], "goals": ["rehab"]}
    )
    batches: list[int] = []
    written = await admin.upsert_many(
        [
            MovementProfileCreate(
                user_id=owner.id, training_preferences=["running"], goals=["lose_fat"]
            )
            for owner in users
        ],
        batch_size=2,
        on_batch=batches.append,
    )
    assert written == 5
    assert batches == [2, 2, 1]
    for owner in users:
        assert stored(db, owner.id) == (["running"], ["lose_fat"])
    overwritten = await admin.get(users[0].id)
    assert overwritten.created_at == existing.created_at
    assert overwritten.id == existing.id
    assert overwritten.updated_at > existing.updated_at


async def test_upsert_many_keeping_identity_restores_an_export(
    admin: Either, make_user: Callable[[], StackUser]
) -> None:
    users = [make_user() for _ in range(3)]
    for owner in users:
        await admin.create(
            {"user_id": owner.id, "training_preferences": ["yoga"], "goals": ["rehab"]}
        )
    exported = [
        profile for profile in await admin.all() if profile.user_id in {u.id for u in users}
    ]
    for owner in users:
        await admin.delete(owner.id)
    # As an export file would hold them: JSON values, not models.
    rows = [profile.model_dump(mode="json") for profile in exported]
    assert await admin.upsert_many(rows, keep_identity=True) == 3
    assert len(exported) == 3
    assert [await admin.get(profile.user_id) for profile in exported] == exported


async def test_upsert_many_rejects_invalid_input_before_sending_its_batch(
    admin: Either, make_user: Callable[[], StackUser], db: Database
) -> None:
    first, second = make_user(), make_user()
    with pytest.raises(
        ValidationError, match='profile #1: goals contains a duplicate value: "rehab"'
    ):
        await admin.upsert_many(
            [
                {"user_id": first.id, "training_preferences": ["yoga"], "goals": ["rehab"]},
                {
                    "user_id": second.id,
                    "training_preferences": ["yoga"],
                    "goals": ["rehab", "rehab"],
                },
            ],
            batch_size=1,
        )
    assert stored(db, first.id) == (["yoga"], ["rehab"]), "the batch before stays written"
    assert stored(db, second.id) is None


@pytest.mark.parametrize("max_in_flight", [1, 2])
async def test_upsert_many_with_batches_in_flight_fails_deterministically(
    admin: Either, make_user: Callable[[], StackUser], db: Database, max_in_flight: int
) -> None:
    first, third = make_user(), make_user()
    # No auth user: the database refuses the second batch (foreign key), whatever the timing.
    missing = uuid.uuid4()
    batches: list[int] = []
    with pytest.raises(ValidationError) as refused:
        await admin.upsert_many(
            [
                MovementProfileCreate(user_id=owner, training_preferences=["yoga"], goals=["rehab"])
                for owner in (first.id, missing, third.id)
            ],
            batch_size=1,
            on_batch=batches.append,
            max_in_flight=max_in_flight,
        )
    assert refused.value.code == "23503"
    assert stored(db, first.id) == (["yoga"], ["rehab"]), "the batch before stays written"
    # With two in flight the third batch was sent before the second failed: it completes.
    assert batches == [1] * max_in_flight
    assert (stored(db, third.id) is not None) == (max_in_flight == 2)


async def test_upsert_json_rows_sends_texts_that_the_database_judges(
    admin: Either, make_user: Callable[[], StackUser], db: Database
) -> None:
    first, second = make_user(), make_user()

    def text(owner: uuid.UUID, goals: str) -> bytes:
        return (
            f'{{"goals": {goals}, "user_id": "{str(owner).upper()}", '
            '"training_preferences": ["yoga", "running"]}'
        ).encode()

    assert await admin.upsert_json_rows([text(first.id, '["rehab"]')]) == 1
    assert stored(db, first.id) == (["yoga", "running"], ["rehab"])
    # Nothing checks the rows on the way: the database refuses the batch, with the field-named
    # error the SDK's own validation would give, and writes none of it.
    with pytest.raises(ValidationError, match='goals contains an invalid value: "dance"'):
        await admin.upsert_json_rows(
            [text(second.id, '["rehab"]'), text(first.id, '["lose_fat", "dance"]')]
        )
    assert stored(db, second.id) is None
    assert stored(db, first.id) == (["yoga", "running"], ["rehab"])


async def test_iter_all_pages_through_every_profile_in_user_id_order(
    admin: Either, make_user: Callable[[], StackUser]
) -> None:
    for owner in [make_user() for _ in range(3)]:
        await admin.create(
            {"user_id": owner.id, "training_preferences": ["yoga"], "goals": ["rehab"]}
        )
    exported = await admin.all(page_size=2)
    ids = [profile.user_id for profile in exported]
    assert ids == sorted(ids)
    assert len(ids) == len(set(ids))
    assert exported == await admin.list(limit=1000)


async def test_iter_all_checks_the_page_size(admin: Either) -> None:
    with pytest.raises(ValidationError, match="page_size"):
        await admin.all(page_size=0)
