"""A stack that is down: every call ends in ServiceUnavailableError, after bounded retries."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from movement_profiles import (
    AsyncMovementProfilesClient,
    MovementProfilesClient,
    ServiceUnavailableError,
)
from movement_profiles.errors import ConnectError
from tests.support.ports import free_port


@pytest.fixture
def closed_port_url() -> str:
    """A URL on which nothing listens: a port that was free a moment ago."""
    return f"http://127.0.0.1:{free_port()}"


def test_every_sync_call_fails_fast_with_service_unavailable(closed_port_url: str) -> None:
    started = time.monotonic()
    with MovementProfilesClient(closed_port_url, "anon-key", retry_backoff=0.01) as client:
        calls = {
            "get": lambda: client.get(uuid.uuid4()),
            "list": lambda: client.list(),
            "options": client.options,
            "create": lambda: client.create({"training_preferences": ["yoga"], "goals": ["rehab"]}),
            "update": lambda: client.update(uuid.uuid4(), {"goals": ["rehab"]}),
            "delete": lambda: client.delete(uuid.uuid4()),
            "iter_all": lambda: list(client.iter_all()),
        }
        for name, call in calls.items():
            with pytest.raises(ServiceUnavailableError) as raised:
                call()
            error = raised.value
            assert (error.status, error.response, error.code) == (503, None, "connect_error"), name
            assert isinstance(error, ConnectError), name
            assert error.request is not None, name
            assert isinstance(error.__cause__, httpx.ConnectError), name
            # Nothing was sent, so writes were retried as well; both within the bound.
            assert error.attempts == 3, name
            assert "could not connect" in error.message
    assert time.monotonic() - started < 5


async def test_async_calls_fail_the_same_way(closed_port_url: str) -> None:
    async with AsyncMovementProfilesClient(
        closed_port_url, "anon-key", max_retries=1, retry_backoff=0.01
    ) as client:
        with pytest.raises(ServiceUnavailableError) as raised:
            await client.get(uuid.uuid4())
    assert raised.value.attempts == 2
