"""Optimistic concurrency: of two writers that read the same version, only the first may write."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import psycopg
import pytest

from movement_profiles import AsyncMovementProfilesClient, MovementProfilesClient, StaleUpdateError
from movement_profiles_cli.stack.state import StackState
from tests.support.users import StackUser

pytestmark = pytest.mark.integration


def test_the_second_of_two_writers_gets_a_conflict_and_writes_nothing(
    stack: StackState,
    make_user: Callable[[], StackUser],
    db: psycopg.Connection[tuple[object, ...]],
) -> None:
    user = make_user()
    with (
        MovementProfilesClient(stack.api_url, stack.anon_key, user.access_token) as phone,
        MovementProfilesClient(stack.api_url, stack.service_role_key) as support_desk,
    ):
        phone.create({"training_preferences": ["yoga"], "goals": ["rehab"]})
        seen_by_phone = phone.get(user.id)
        seen_by_support = support_desk.get(user.id)
        assert seen_by_phone.updated_at == seen_by_support.updated_at

        phone.update(user.id, {"goals": ["lose_fat"]}, expected_updated_at=seen_by_phone.updated_at)
        with pytest.raises(StaleUpdateError) as raised:
            support_desk.update(
                user.id,
                {"training_preferences": ["running"]},
                expected_updated_at=seen_by_support.updated_at,
            )

    assert raised.value.status == 409
    row = db.execute(
        "select training_preferences, goals, updated_at from public.movement_profiles "
        "where user_id = %s",
        (user.id,),
    ).fetchone()
    assert row is not None
    assert row[:2] == (["yoga"], ["lose_fat"]), "the stale writer must not have written"
    assert row[2] == raised.value.current_updated_at


async def test_simultaneous_writers_of_one_version_let_exactly_one_through(
    stack: StackState,
    make_user: Callable[[], StackUser],
    db: psycopg.Connection[tuple[object, ...]],
) -> None:
    user = make_user()
    writers = [AsyncMovementProfilesClient(stack.api_url, stack.service_role_key) for _ in range(4)]
    try:
        created = await writers[0].create(
            {"user_id": user.id, "training_preferences": ["yoga"], "goals": ["rehab"]}
        )
        goals = ["build_muscle", "lose_fat", "improve_endurance", "general_health"]
        outcomes = await asyncio.gather(
            *(
                writer.update(user.id, {"goals": [goal]}, expected_updated_at=created.updated_at)
                for writer, goal in zip(writers, goals, strict=True)
            ),
            return_exceptions=True,
        )
    finally:
        for writer in writers:
            await writer.aclose()

    winners = [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]
    losers = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(loser, StaleUpdateError) for loser in losers), losers
    stored = db.execute(
        "select goals from public.movement_profiles where user_id = %s", (user.id,)
    ).fetchone()
    assert stored == (winners[0].goals,)
