"""Overlapped work in order: the pipeline the clients' bulk upserts run on, for callers too.

    from movement_profiles.concurrency import run_overlapped

    run_overlapped(batches, send_batch, max_in_flight=4, on_result=lambda written: False)

`run_overlapped` runs blocking work in threads; `async_run_overlapped` runs coroutines as tasks of
the running event loop. Both keep at most `max_in_flight` jobs under way, hand each result on in
the order of the jobs, and never abandon a started job: a stop (an error, or `on_result`
returning true) waits for the jobs already started, so with `max_in_flight` n a stop at job k
means jobs up to k + n - 1 ran, whatever the timing.

The asyncio version is written once (`_async.py`); `scripts/unasync.py` writes the blocking one
(`_sync.py`), as it writes the blocking client. The two differ only in `_workers`: asyncio tasks
or a thread pool, and how to wait between retries.
"""

from movement_profiles.concurrency._async import async_run_overlapped
from movement_profiles.concurrency._sync import run_overlapped

__all__ = ["async_run_overlapped", "run_overlapped"]
