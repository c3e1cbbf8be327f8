"""A few calls at once, and waiting between retries: the only part of the clients that differs
between asyncio and threads by more than ``await``.

The asyncio code (`movement_profiles._async`, `concurrency._async`) uses `AsyncWorkers` and
`async_sleep`; `scripts/unasync.py` turns them into `Workers` and `sleep` when it writes the
blocking code. The two pairs are written by hand, side by side, so that everything built on them
is written once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

__all__ = ["AsyncJob", "AsyncWorkers", "Job", "Workers", "async_sleep", "sleep"]

J = TypeVar("J")
R = TypeVar("R")


async def async_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


def sleep(seconds: float) -> None:
    time.sleep(seconds)


class AsyncJob(Generic[R]):
    """A started call; `result()` waits for it."""

    def __init__(self, task: asyncio.Future[R]) -> None:
        self._task = task

    async def result(self) -> R:
        return await self._task


class AsyncWorkers:
    """Starts calls as tasks of the running event loop."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    async def aclose(self) -> None:
        """Nothing to release: every task was awaited."""

    def start(self, work: Callable[[J], Awaitable[R]], job: J) -> AsyncJob[R]:
        return AsyncJob(asyncio.ensure_future(work(job)))


class Job(Generic[R]):
    """A started call; `result()` waits for it."""

    def __init__(self, future: Future[R]) -> None:
        self._future = future

    def result(self) -> R:
        return self._future.result()


class Workers:
    """Runs calls in up to `limit` threads; with a limit of one, at once in the caller's thread."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._executor = (
            ThreadPoolExecutor(limit, thread_name_prefix="movement-profiles") if limit > 1 else None
        )

    def close(self) -> None:
        """Let the threads go, once every call has been waited for."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)

    def start(self, work: Callable[[J], R], job: J) -> Job[R]:
        if self._executor is not None:
            return Job(self._executor.submit(work, job))
        done: Future[R] = Future()
        try:
            done.set_result(work(job))
        except Exception as error:
            done.set_exception(error)
        return Job(done)
