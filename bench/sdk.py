"""The SDK's `get()` against raw httpx sending the same request (target: >= 0.80 of its calls/s):
one thread, calls back to back on a kept-alive connection, so the difference is the SDK's own work
(building the request, mapping the response to a model)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from bench.measure import Bench, Row, Run, percentile, ratio_row, user_id
from movement_profiles import MovementProfilesClient, _core, _transport

TITLE = "the SDK's get() against raw httpx"
TARGET = 0.80


def back_to_back(call: Callable[[], object], seconds: float) -> Run:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    while (started := time.perf_counter()) < deadline:
        call()
        latencies.append((time.perf_counter() - started) * 1000)
    return Run(len(latencies) / seconds, percentile(latencies, 0.5), percentile(latencies, 0.99))


def run(bench: Bench) -> list[Row]:
    user, key = user_id(1), bench.state.service_role_key
    request = next(_core.get(user))
    headers = {**_transport.client_headers(key, None), **request.headers}
    url = f"{bench.state.rest_url}/{request.path}"
    with (
        MovementProfilesClient(bench.state.api_url, key) as sdk,
        httpx.Client(headers=headers) as raw,
    ):

        def raw_get() -> object:
            return raw.get(url, params=request.params).raise_for_status().json()

        runs = bench.interleaved(
            "sdk",
            {
                "sdk": lambda: back_to_back(lambda: sdk.get(user), bench.duration),
                "raw": lambda: back_to_back(raw_get, bench.duration),
            },
        )
    return [
        ratio_row(
            "`get()` of the sync SDK against raw httpx, one thread",
            runs["sdk"],
            runs["raw"],
            TARGET,
        )
    ]
