"""Fault injection on a stack of its own: load, a client-side ledger, SIGKILL, recovery, audit.

Used by test_faults.py (one fault of each kind, inside `make test`) and soak.py (many, under
longer load, behind `make soak`). Never the session's shared stack: these kill its processes.

The ledger is what each writer knows about its own user's row. Every write is recorded before it
is sent; a 2xx acknowledges it and makes it the row's only possible state; a 4xx proves it was
not written; no answer or a 5xx leaves its fate unknown (the transaction may have committed just
before the process died). So after recovery each row must hold the last acknowledged write or one
of the unknown ones sent after it. Anything else is an acknowledged write lost.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from movement_profiles import Goal, MovementProfilesClient, TrainingPreference
from movement_profiles_cli.stack import processes
from movement_profiles_cli.stack.local_stack import LocalStack
from tests.security.support import RETURN_ROWS, connect, stored_profiles
from tests.support.tokens import access_token
from tests.support.users import create_auth_users

PROJECT_DIR = Path(__file__).resolve().parents[2]
CLI = str(PROJECT_DIR / ".venv" / "bin" / "movement-profiles")
PREFERENCES = [member.value for member in TrainingPreference]
GOALS = [member.value for member in Goal]

Arrays = tuple[tuple[str, ...], tuple[str, ...]]


def random_arrays(rng: random.Random) -> Arrays:
    return (
        tuple(rng.sample(PREFERENCES, rng.randint(1, len(PREFERENCES)))),
        tuple(rng.sample(GOALS, rng.randint(1, len(GOALS)))),
    )


def cli(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *arguments], capture_output=True, text=True, check=False, cwd=PROJECT_DIR
    )


def components(stack: LocalStack) -> tuple[int, dict[str, bool]]:
    """`movement-profiles stack status -o json`: its exit code and which components run."""
    result = cli("stack", "status", "--state-dir", str(stack.state.state_dir), "-o", "json")
    return result.returncode, json.loads(result.stdout)["components"]


def wait_for(condition: Any, timeout: float, what: str) -> None:
    if not processes.wait_until(condition, timeout, interval=0.1):
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@dataclass
class UserLedger:
    """What one writer knows about its user's row."""

    user_id: uuid.UUID
    created: bool = False
    acknowledged: Arrays | None = None
    unknown: list[Arrays] = field(default_factory=list)  # sent after the last acknowledgment


@dataclass
class Ledger:
    users: dict[uuid.UUID, UserLedger]
    acknowledged_writes: int = 0
    statuses: Counter[int | str] = field(default_factory=Counter)
    tokens: list[str] = field(default_factory=list)  # the writers' access tokens
    refusals: list[str] = field(default_factory=list)  # 4xx other than 409, for the report

    def audit(self, stack: LocalStack) -> list[str]:
        """Every user whose row is not in a state its acknowledged writes allow."""
        with connect(stack.state) as db:
            stored = stored_profiles(db, self.users)
        lost = []
        for user_id, entry in self.users.items():
            row = stored.get(user_id)
            arrays = (tuple(row[1]), tuple(row[2])) if row is not None else None
            allowed: list[Arrays | None] = list(entry.unknown)
            allowed.append(entry.acknowledged)  # None: never acknowledged, may be absent
            if arrays not in allowed:
                lost.append(f"{user_id}: stored {arrays}, acknowledged {entry.acknowledged}")
        return lost


async def write_until(
    client: httpx.AsyncClient,
    stack: LocalStack,
    entry: UserLedger,
    ledger: Ledger,
    stop: asyncio.Event,
    seed: int,
) -> None:
    """One user's writer: create the profile, then keep updating it until `stop`."""
    rng = random.Random(seed)
    token = access_token(stack.state, entry.user_id, lifetime=3600)
    ledger.tokens.append(token)
    headers = {"apikey": stack.state.anon_key, "Authorization": f"Bearer {token}", **RETURN_ROWS}
    while not stop.is_set():
        arrays = random_arrays(rng)
        body: dict[str, Any] = {"training_preferences": arrays[0], "goals": arrays[1]}
        entry.unknown.append(arrays)
        try:
            if entry.created:
                response = await client.patch(
                    "/movement_profiles",
                    params={"user_id": f"eq.{entry.user_id}"},
                    json=body,
                    headers=headers,
                )
            else:
                response = await client.post(
                    "/movement_profiles",
                    json={"user_id": str(entry.user_id), **body},
                    headers=headers,
                )
        except httpx.TransportError as error:
            ledger.statuses[type(error).__name__] += 1  # no answer: fate unknown
        else:
            record(entry, ledger, arrays, response)
        await asyncio.sleep(rng.uniform(0.005, 0.03))


# PostgREST 12's answer when the database dies under a request: 400 with an empty code and
# message. It is no verdict on the input, and the write's fate is unknown.
DATABASE_DIED = "400 empty (connection lost)"


def outcome(response: httpx.Response) -> int | str:
    if response.status_code == 400:
        body = response.json()
        if isinstance(body, dict) and not body.get("code") and not body.get("message"):
            return DATABASE_DIED
    return response.status_code


def record(entry: UserLedger, ledger: Ledger, arrays: Arrays, response: httpx.Response) -> None:
    """Update the ledger with one answer to a write of `arrays`."""
    seen = outcome(response)
    ledger.statuses[seen] += 1
    rows = response.json() if response.status_code in (200, 201) else None
    if rows:
        stored = (tuple(rows[0]["training_preferences"]), tuple(rows[0]["goals"]))
        assert stored == arrays, f"the API acknowledged {stored} for a write of {arrays}"
        entry.created = True
        entry.acknowledged = arrays
        entry.unknown.clear()
        ledger.acknowledged_writes += 1
    elif isinstance(seen, int) and seen < 500:
        # Refused, so certainly not written. A 409 on create means an earlier create whose answer
        # was lost did commit: from now on this writer updates.
        entry.unknown.remove(arrays)
        if seen == 409 and not entry.created:
            entry.created = True
        elif seen != 409:
            ledger.refusals.append(f"{seen} {response.text[:300]}")


@dataclass
class LoadRun:
    ledger: Ledger
    stop: asyncio.Event
    task: asyncio.Future[list[None]]


async def start_load(stack: LocalStack, writers: int, seed: int) -> LoadRun:
    with connect(stack.state) as db:
        user_ids = create_auth_users(db, writers)
    ledger = Ledger({user_id: UserLedger(user_id) for user_id in user_ids})
    stop = asyncio.Event()
    client = httpx.AsyncClient(
        base_url=stack.state.rest_url,
        timeout=15,
        limits=httpx.Limits(max_connections=writers, max_keepalive_connections=writers),
    )

    async def run_all() -> list[None]:
        async with client:
            return list(
                await asyncio.gather(
                    *(
                        write_until(client, stack, entry, ledger, stop, seed + index)
                        for index, entry in enumerate(ledger.users.values())
                    )
                )
            )

    return LoadRun(ledger, stop, asyncio.ensure_future(run_all()))


async def finish_load(run: LoadRun) -> Ledger:
    run.stop.set()
    await run.task
    return run.ledger


def reader_profile(stack: LocalStack) -> uuid.UUID:
    """A user with a profile, for the SDK's reads during an outage."""
    with connect(stack.state) as db:
        (user_id,) = create_auth_users(db, 1)
        db.execute(
            "insert into public.movement_profiles (user_id, training_preferences, goals) "
            "values (%s, '[\"yoga\"]', '[\"rehab\"]')",
            (user_id,),
        )
    return user_id


@dataclass
class SdkRead:
    """An SDK read started while the API is down, on a thread of its own."""

    thread: threading.Thread
    outcome: dict[str, Any]
    started_at: float

    def result(self, timeout: float) -> Any:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the SDK read did not return"
        if "error" in self.outcome:
            raise self.outcome["error"]
        return self.outcome["profile"]


def start_sdk_read(stack: LocalStack, user_id: uuid.UUID) -> SdkRead:
    """`get` with a retry budget of several seconds (6 retries, backoff from 0.25 s)."""
    outcome: dict[str, Any] = {}

    def read() -> None:
        token = access_token(stack.state, user_id)
        try:
            with MovementProfilesClient(
                stack.state.api_url,
                stack.state.anon_key,
                access_token=token,
                max_retries=6,
                retry_backoff=0.25,
            ) as client:
                outcome["profile"] = client.get(user_id)
        except Exception as error:  # handed to the test thread by result()
            outcome["error"] = error

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return SdkRead(thread, outcome, time.monotonic())


def kill(pid: int | None) -> None:
    assert pid, "no pid recorded"
    os.kill(pid, signal.SIGKILL)


def api_answers(stack: LocalStack) -> bool:
    try:
        response = httpx.post(
            f"{stack.state.rest_url}/rpc/movement_profile_options",
            headers={"apikey": stack.state.anon_key},
            timeout=2,
        )
    except httpx.TransportError:
        return False
    return response.status_code == 200


def gateway_says_unavailable(stack: LocalStack) -> bool:
    """503 with a JSON message. The service key goes as a url param, as some clients send it:
    the gateway's error log must not keep it (nginx logs the request line of a failed proxy)."""
    response = httpx.post(
        f"{stack.state.rest_url}/rpc/movement_profile_options",
        params={"apikey": stack.state.service_role_key},
        timeout=5,
    )
    return response.status_code == 503 and "message" in response.json()


def secrets_in_logs(stack: LocalStack, secrets: list[str]) -> list[str]:
    """Names of the stack's log files that contain any of `secrets`."""
    found = []
    for log in sorted(stack.state.logs.glob("*")):
        text = log.read_text(errors="replace") if log.is_file() else ""
        if any(secret in text for secret in secrets):
            found.append(log.name)
    return found


def restore_with_cli(stack: LocalStack) -> subprocess.CompletedProcess[str]:
    """`movement-profiles stack up` on the broken stack; the test then reloads its state."""
    result = cli("stack", "up", "--state-dir", str(stack.state.state_dir))
    assert result.returncode == 0, result.stderr
    reloaded = LocalStack.open(stack.state.state_dir)
    stack.state = reloaded.state
    return result
