"""Slow clients cannot exhaust the gateway.

- 1,100 half-open requests (part of a request line, never finished; 1,024 of them used to lock
  every other client out with `worker_connections are not enough`) are all held at once while a
  signed-in victim opens a new connection and reads its profile; the gateway then closes them
  after client_header_timeout.
- A client trickling its request header a byte at a time is closed just the same: the header
  timeout counts from the connection, not from the last byte.
- Creates whose body never arrives count against their address's limit of requests in progress:
  one more from that address is answered 429 (JSON), a victim from another address is served,
  and the gateway cuts the slow bodies after client_body_timeout.

The timings and counts are printed.
"""

from __future__ import annotations

import contextlib
import socket
import time

import pytest

from movement_profiles_cli.stack import gateway
from movement_profiles_cli.stack.state import StackState
from tests.reliability.attacks import (
    held_connections,
    is_open,
    run_half_open,
    run_slow_bodies,
)
from tests.security.support import json_error

pytestmark = pytest.mark.integration

HALF_OPEN = 1100
# The gateway closes a held connection after its timeout; allow for a busy machine on top.
CLOSED_WITHIN = gateway.CLIENT_TIMEOUT + 8


def test_half_open_requests_do_not_lock_out_a_new_client(
    stack: StackState, capsys: pytest.CaptureFixture[str]
) -> None:
    report = run_half_open(stack, HALF_OPEN, close_timeout=CLOSED_WITHIN + 5)
    with capsys.disabled():
        print(f"\n{report.summary()}")
    assert report.open_when_read == HALF_OPEN, "the gateway did not hold them all at once"
    assert set(report.victim.statuses) == {200}, report.victim.failures[:3]
    assert not report.victim.problems(), report.victim.problems()
    assert report.open_after == 0, f"{report.open_after} half-open requests were never closed"
    assert report.closed_after <= CLOSED_WITHIN, report.summary()


def test_a_header_trickled_a_byte_at_a_time_is_cut_at_the_header_timeout(
    stack: StackState, capsys: pytest.CaptureFixture[str]
) -> None:
    request = b"GET /rest/v1/movement_profiles?select=user_id&user_id=eq." + b"0" * 200
    started = time.monotonic()
    with held_connections(stack.api_port, 5, request[:1]) as trickling:
        sent = 1
        while any(is_open(connection) for connection in trickling):
            assert time.monotonic() - started < CLOSED_WITHIN + 5, "still open"
            assert sent < len(request), "the whole request line went through"
            for connection in trickling:
                with contextlib.suppress(OSError):  # closed by the gateway
                    connection.send(request[sent : sent + 1])
            sent += 1
            time.sleep(0.25)
        lasted = time.monotonic() - started
    with capsys.disabled():
        print(f"\ntrickled header: {sent} bytes over {lasted:.1f} s, then closed by the gateway")
    assert gateway.CLIENT_TIMEOUT - 1 <= lasted <= CLOSED_WITHIN


def test_slow_bodies_hit_their_address_limit_and_not_other_clients(
    stack: StackState, capsys: pytest.CaptureFixture[str]
) -> None:
    # The whole 127.0.0.0/8 is this machine: 127.0.0.2 is another client address for nginx.
    with socket.socket() as probe:
        probe.bind(("127.0.0.2", 0))
    held = gateway.CONNECTIONS_PER_ADDRESS
    report, while_held, after = run_slow_bodies(
        stack, held, source="127.0.0.2", close_timeout=CLOSED_WITHIN + 5
    )
    with capsys.disabled():
        print(f"\n{report.summary()}")
    assert while_held.status_code == 429, while_held.text
    assert json_error(while_held)["code"] == "TOO_MANY_REQUESTS"
    assert report.open_when_read == held
    assert not report.victim.problems(), report.victim.problems()
    assert report.open_after == 0, report.summary()
    assert report.closed_after <= CLOSED_WITHIN, report.summary()
    assert after.status_code == 200, after.text
