"""Faults under load: SIGKILL PostgREST, then PostgreSQL, on a stack of this module's own.

For each: writers keep creating and updating their own profiles through the gateway while the
process is killed; `stack status` must report the dead component (exit 1); `stack up` must bring
it back; an SDK read started during the outage must retry and succeed; and afterwards every
acknowledged write must be in the table (see faults.py for the ledger). `make soak` repeats these
many times under longer load.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest

from movement_profiles_cli.stack import processes
from movement_profiles_cli.stack.local_stack import LocalStack
from tests.reliability.faults import (
    DATABASE_DIED,
    Ledger,
    api_answers,
    components,
    finish_load,
    gateway_says_unavailable,
    kill,
    reader_profile,
    restore_with_cli,
    secrets_in_logs,
    start_load,
    start_sdk_read,
    wait_for,
)
from tests.security.support import connect
from tests.support.stack import throwaway_stack

pytestmark = pytest.mark.integration

WRITERS = 30
# Statuses a writer may see around a fault: its own successes, 503 while a component is down
# (the gateway's, or PostgREST's while the database is), and 409 when a create whose answer was
# lost had in fact committed. Never a 500, never a 4xx that says the request was wrong, except
# PostgREST 12's empty 400 when the database dies under a request (faults.DATABASE_DIED).
EXPECTED_STATUSES: set[int | str] = {200, 201, 409, 503}


@pytest.fixture(scope="module")
def fault_stack() -> Iterator[LocalStack]:
    with throwaway_stack() as stack:
        yield stack


def secrets_of(stack: LocalStack) -> list[str]:
    return [stack.state.service_role_key, stack.state.jwt_secret]


def report(capsys: pytest.CaptureFixture[str], fault: str, ledger: Ledger, lost: list[str]) -> None:
    with capsys.disabled():
        print(
            f"\n{fault}: {len(ledger.users)} concurrent writers, "
            f"{ledger.acknowledged_writes} acknowledged writes, answers {dict(ledger.statuses)}, "
            f"writes lost: {len(lost)}"
        )


async def restore_and_read_back(stack: LocalStack, reader: uuid.UUID) -> None:
    """Start an SDK read into the outage, restore with `stack up`, and check both recover."""
    sdk_read = start_sdk_read(stack, reader)
    await asyncio.sleep(0.5)  # its first attempts meet the outage
    restored = await asyncio.to_thread(restore_with_cli, stack)
    for secret in secrets_of(stack):
        assert secret not in restored.stdout + restored.stderr
    await asyncio.to_thread(wait_for, lambda: api_answers(stack), 30, "the API to answer again")
    assert await asyncio.to_thread(components, stack) == (
        0,
        {"postgres": True, "postgrest": True, "gateway": True},
    )
    profile = await asyncio.to_thread(sdk_read.result, 30)
    assert profile.user_id == reader


async def test_postgrest_killed_under_load_is_reported_restored_and_loses_no_write(
    fault_stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = fault_stack
    reader = reader_profile(stack)
    load = await start_load(stack, WRITERS, seed=100)
    await asyncio.sleep(1.0)

    killed = stack.state.pids.postgrest
    kill(killed)
    await asyncio.to_thread(
        wait_for, lambda: not processes.is_running(killed, "postgrest"), 5, "PostgREST to die"
    )
    exit_code, running = await asyncio.to_thread(components, stack)
    assert (exit_code, running) == (1, {"postgres": True, "postgrest": False, "gateway": True})
    assert await asyncio.to_thread(gateway_says_unavailable, stack)

    await restore_and_read_back(stack, reader)

    await asyncio.sleep(1.0)  # the writers carry on against the restored API
    ledger = await finish_load(load)
    lost = ledger.audit(stack)
    report(capsys, "PostgREST SIGKILL", ledger, lost)
    assert set(ledger.statuses) <= EXPECTED_STATUSES, (ledger.statuses, ledger.refusals[:3])
    assert ledger.statuses[503] > 0, "the load did not meet the outage"
    assert ledger.acknowledged_writes > WRITERS
    assert lost == [], "acknowledged writes were lost"
    assert secrets_in_logs(stack, [*secrets_of(stack), *ledger.tokens]) == []


async def test_postgres_killed_under_write_load_keeps_every_acknowledged_write(
    fault_stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = fault_stack
    reader = reader_profile(stack)
    load = await start_load(stack, WRITERS, seed=200)
    await asyncio.sleep(1.0)

    killed = stack.state.pids.postgres
    kill(killed)
    await asyncio.to_thread(
        wait_for, lambda: not processes.is_running(killed, "postgres"), 10, "PostgreSQL to die"
    )
    exit_code, running = await asyncio.to_thread(components, stack)
    assert exit_code == 1
    assert running["postgres"] is False

    await restore_and_read_back(stack, reader)

    await asyncio.sleep(1.0)
    ledger = await finish_load(load)
    lost = ledger.audit(stack)
    report(capsys, "PostgreSQL SIGKILL", ledger, lost)
    assert set(ledger.statuses) <= EXPECTED_STATUSES | {DATABASE_DIED}, (
        ledger.statuses,
        ledger.refusals[:3],
    )
    assert ledger.acknowledged_writes > WRITERS
    assert lost == [], "acknowledged writes were lost"
    assert secrets_in_logs(stack, [*secrets_of(stack), *ledger.tokens]) == []


async def test_the_audit_notices_an_acknowledged_write_that_is_missing(
    fault_stack: LocalStack,
) -> None:
    """The control: without a fault the ledger matches; lose one row and the audit says so."""
    load = await start_load(fault_stack, 5, seed=300)
    await asyncio.sleep(0.5)
    ledger = await finish_load(load)
    assert ledger.audit(fault_stack) == []
    victim = next(iter(ledger.users))
    with connect(fault_stack.state) as db:
        db.execute("delete from public.movement_profiles where user_id = %s", (victim,))
    (lost,) = ledger.audit(fault_stack)
    assert lost.startswith(str(victim))
