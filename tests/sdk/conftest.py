"""Fixtures of the SDK's integration tests: clients of both flavours against the throwaway stack.

Every test that takes `connect` runs twice, with `MovementProfilesClient` and with
`AsyncMovementProfilesClient`, through `Either`, which awaits what the async client returns. The
same test body thus proves both clients, and that they behave the same.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from movement_profiles import AsyncMovementProfilesClient, MovementProfile, MovementProfilesClient
from movement_profiles_cli.stack.state import StackState
from tests.support.users import StackUser


class Either:
    """A sync or async client, called the same way: ``await either.get(user_id)``."""

    def __init__(self, client: MovementProfilesClient | AsyncMovementProfilesClient) -> None:
        self.client = client
        self.is_async = isinstance(client, AsyncMovementProfilesClient)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.client, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            return await result if inspect.isawaitable(result) else result

        return call

    async def all(self, **kwargs: Any) -> list[MovementProfile]:
        """Everything `iter_all` yields."""
        if isinstance(self.client, AsyncMovementProfilesClient):
            return [profile async for profile in self.client.iter_all(**kwargs)]
        return list(self.client.iter_all(**kwargs))

    async def close(self) -> None:
        if isinstance(self.client, AsyncMovementProfilesClient):
            await self.client.aclose()
        else:
            self.client.close()


Connect = Callable[..., Either]


@pytest.fixture(params=["sync", "async"])
async def connect(request: pytest.FixtureRequest, stack: StackState) -> AsyncIterator[Connect]:
    """Open clients of this test's flavour: ``connect(key, access_token, **options)``."""
    opened: list[Either] = []
    client_class = (
        MovementProfilesClient if request.param == "sync" else AsyncMovementProfilesClient
    )

    def open_client(key: str, access_token: str | None = None, **options: Any) -> Either:
        client = Either(client_class(stack.api_url, key, access_token, **options))
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        await client.close()


@pytest.fixture
def admin(connect: Connect, stack: StackState) -> Either:
    """A client with the service role key (acts as an admin; bypasses row-level security)."""
    return connect(stack.service_role_key)


@pytest.fixture
def user(make_user: Callable[[], StackUser]) -> StackUser:
    return make_user()


@pytest.fixture
def as_user(connect: Connect, stack: StackState, user: StackUser) -> Either:
    """A client acting as `user`: the anon key plus the user's access token."""
    return connect(stack.anon_key, user.access_token)
