# Generated from _async.py by scripts/unasync.py (`make generate`). Do not edit.
"""The batch pipeline in threads. The blocking one, `_sync.py`, is generated from `_async.py` by
``scripts/unasync.py`` (``make generate``): edit `_async.py` only."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import TypeVar

from movement_profiles.concurrency._workers import Job, Workers

__all__ = ["run_overlapped"]

J = TypeVar("J")
R = TypeVar("R")


def run_overlapped(
    jobs: Iterable[J],
    work: Callable[[J], R],
    max_in_flight: int,
    on_result: Callable[[R], bool],
) -> None:
    """Do `work` on each job with up to `max_in_flight` of them under way, taking the results in
    the order of the jobs: the batch pipeline of `upsert_many` and of the CLI's import.

    `on_result` gets each result and returns whether to start no further jobs. The first error
    (of a job, or of iterating `jobs`) also stops starting them. Jobs already started are never
    abandoned: each completes, and its result still goes to `on_result`, before the first error
    is raised. So with `max_in_flight` n, a stop at job k means jobs up to k + n - 1 ran,
    whatever the timing.
    """
    failure: BaseException | None = None
    stop = False
    pending: deque[Job[R]] = deque()

    def settle_oldest() -> None:
        nonlocal failure, stop
        try:
            result = pending.popleft().result()
        except Exception as error:
            failure = failure or error
            return
        stop = on_result(result) or stop

    workers = Workers(max_in_flight)
    try:
        for job in jobs:
            pending.append(workers.start(work, job))
            if len(pending) >= max_in_flight:
                settle_oldest()
                if failure is not None or stop:
                    break
    except Exception as error:
        failure = failure or error
    finally:
        while pending:
            settle_oldest()
        workers.close()
    if failure is not None:
        raise failure
