"""Abuse of the API through the gateway, and a victim reading meanwhile.

Used by test_floods.py and test_slow_clients.py (inside `make test`) and by soak.py (longer, behind
`make soak`). Three attacks, each with nothing but what a client may hold:

- a flood of GETs whose filter is a pathological regular expression (the one that held a pooled
  connection for the whole statement timeout before the gateway refused such filters), sent by
  attacker threads in a process of their own, so that the victim's timings measure the API and
  not this process's GIL;
- half-open requests: connections that send part of a request line and never finish it;
- slow bodies: complete headers of a POST whose body never arrives;
- oversized arrays: signed-in users each PATCH their own profile with a 1 MB body of one allowed
  value repeated, which no valid array can be (sent from a process of their own, like the regex
  flood).

While an attack runs a signed-in victim reads its own profile again and again; every read must
succeed, and quickly.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from movement_profiles_cli.stack import processes
from movement_profiles_cli.stack.state import ADMIN_USER, StackState
from tests.security.support import OBJECT, VALID_PROFILE, Database, connect, insert_profiles
from tests.support.tokens import access_token
from tests.support.users import create_auth_users

PROJECT_DIR = Path(__file__).resolve().parents[2]

# The filter of the report: nested quantifiers and a back-reference, ~3 s of CPU per evaluation
# for PostgreSQL's regex engine, compiled while the query is planned.
EVIL_PATTERN = r"^(((.*){1,12}){1,12}){1,12}\3x"
# The spellings an attacker rotates through: every operator and position the gateway must catch.
# Each is a raw query string, encoded as an HTTP client would send it (or more oddly).
_ENCODED = (
    EVIL_PATTERN.replace("\\", "%5C")
    .replace("^", "%5E")
    .replace("{", "%7B")
    .replace("}", "%7D")
    .replace("(", "%28")
    .replace(")", "%29")
    .replace("*", "%2A")
    .replace(",", "%2C")
)
REGEX_QUERIES = (
    f"training_preferences-%3E%3E0=match.{_ENCODED}",
    f"goals-%3E%3E0=imatch.{_ENCODED}",
    f"training_preferences-%3E%3E0=not.match.{_ENCODED}",
    f"or=%28goals-%3E%3E0.imatch.{_ENCODED}%2Cgoals-%3E%3E0.eq.x%29",
    f"select=user_id&and=(or(training_preferences->>0.match.{_ENCODED}))",
    f"training_preferences-%3E%3E0=match%28any%29.%7B{_ENCODED}%7D",
    f"goals-%3E%3E0=%6Datch.{_ENCODED}",
    f"limit=1;training_preferences-%3E%3E0=im%61tch.{_ENCODED}",
)

# The component's table as the attackers spell it: PostgREST (and the gateway, which matches the
# decoded path) serves both as /movement_profiles. Every query goes out in each spelling in turn.
FLOOD_PATHS = ("/movement_profiles", "/movement%5Fprofiles")

# A victim read slower than this fails the attack's check.
VICTIM_BUDGET_SECONDS = 1.0


def quantile(values: list[float], q: float) -> float:
    """The q-quantile of `values` (nearest rank), in the values' unit."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


# -- the victim ---------------------------------------------------------------------------------


@dataclass
class Victim:
    user_id: uuid.UUID
    headers: dict[str, str] = field(repr=False)


def make_victim(state: StackState) -> Victim:
    """A signed-in user with a profile, as a frontend would call the API for them."""
    with connect(state) as db:
        (user_id,) = create_auth_users(db, 1)
        insert_profiles(db, {user_id: VALID_PROFILE})
    token = access_token(state, user_id)
    return Victim(
        user_id, {"apikey": state.anon_key, "Authorization": f"Bearer {token}", "Accept": OBJECT}
    )


@dataclass
class VictimReads:
    statuses: Counter[int | str] = field(default_factory=Counter)
    seconds: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(self.statuses.values())

    @property
    def p50_ms(self) -> float:
        return 1000 * quantile(self.seconds, 0.50)

    @property
    def p99_ms(self) -> float:
        return 1000 * quantile(self.seconds, 0.99)

    @property
    def max_ms(self) -> float:
        return 1000 * max(self.seconds, default=float("nan"))

    def problems(self) -> list[str]:
        found = []
        if not self.count:
            found.append("the victim made no read")
        if set(self.statuses) - {200}:
            found.append(f"victim reads failed: {dict(self.statuses)} {self.failures[:3]}")
        if self.seconds and quantile(self.seconds, 0.99) >= VICTIM_BUDGET_SECONDS:
            found.append(f"victim p99 {self.p99_ms:.0f} ms, budget {VICTIM_BUDGET_SECONDS:.0f} s")
        return found

    def summary(self) -> str:
        return (
            f"victim {self.count} reads {dict(self.statuses)}, p50 {self.p50_ms:.1f} ms, "
            f"p99 {self.p99_ms:.1f} ms, max {self.max_ms:.1f} ms"
        )


def read_own_profile(
    client: httpx.Client, victim: Victim, reads: VictimReads, source: str = ""
) -> None:
    """One read of the victim's own row; its status (or error) and time go to `reads`."""
    started = time.perf_counter()
    try:
        response = client.get(
            "/movement_profiles",
            params={"user_id": f"eq.{victim.user_id}"},
            headers=victim.headers,
        )
    except httpx.TransportError as error:
        reads.statuses[type(error).__name__] += 1
        reads.failures.append(f"{source}{error!r}")
        return
    reads.seconds.append(time.perf_counter() - started)
    status = response.status_code
    if status == 200 and response.json().get("user_id") != str(victim.user_id):
        status = -200  # someone else's row: never expected
    reads.statuses[status] += 1
    if status != 200:
        reads.failures.append(f"{source}{response.status_code} {response.text[:200]}")


def read_until(
    state: StackState,
    victim: Victim,
    done: Callable[[], bool],
    *,
    pause: float = 0.01,
    on_each: Callable[[], None] | None = None,
    base_url: str | None = None,
) -> VictimReads:
    """The victim's reads, one after another on one keep-alive connection, until `done()`; through
    the gateway unless `base_url` names another way in."""
    reads = VictimReads()
    with httpx.Client(base_url=base_url or state.rest_url, timeout=30) as client:
        while not done():
            read_own_profile(client, victim, reads)
            if on_each is not None:
                on_each()
            time.sleep(pause)
    return reads


# -- the regex flood ----------------------------------------------------------------------------


@dataclass
class FloodResult:
    attackers: int
    seconds: float
    statuses: Counter[str]
    samples: dict[str, str]  # one body per status, for the report

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def problems(self) -> list[str]:
        found = []
        if self.requests < self.attackers:
            found.append(f"the attackers sent only {self.requests} requests")
        bad = {status for status in self.statuses if not status.startswith("4")}
        if bad:
            found.append(
                f"attackers got {sorted(bad)}: {[self.samples.get(s, '') for s in sorted(bad)]}"
            )
        return found

    def summary(self) -> str:
        rate = self.requests / self.seconds if self.seconds else 0
        return (
            f"{self.attackers} attackers, {self.seconds:.1f} s, {self.requests} requests "
            f"({rate:,.0f}/s), answers {dict(sorted(self.statuses.items()))}"
        )


def _flood(
    url: str, headers: dict[str, str], attackers: int, seconds: float, path: str
) -> FloodResult:
    """Run in the attackers' process: `attackers` threads sending regex filters to `path` (the
    table, as spelled) until the end."""

    def send(client: httpx.Client, index: int, sent: int) -> httpx.Response:
        query = REGEX_QUERIES[(index + sent) % len(REGEX_QUERIES)]
        path = FLOOD_PATHS[(index + sent) // len(REGEX_QUERIES) % len(FLOOD_PATHS)]
        return client.get(f"{url}{path}?{query}", headers=headers)

    return _attack(attackers, seconds, send)


def _attack(
    attackers: int, seconds: float, send: Callable[[httpx.Client, int, int], httpx.Response]
) -> FloodResult:
    """`attackers` threads, each calling `send(client, its index, requests it sent so far)` on a
    keep-alive client of its own until `seconds` are over; their answers counted."""
    statuses: Counter[str] = Counter()
    samples: dict[str, str] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def attack(index: int) -> None:
        mine: Counter[str] = Counter()
        with httpx.Client(timeout=30) as client:
            sent = 0
            while time.monotonic() < deadline:
                try:
                    response = send(client, index, sent)
                except httpx.TransportError as error:
                    status, body = type(error).__name__, repr(error)
                else:
                    status, body = str(response.status_code), response.text[:300]
                sent += 1
                mine[status] += 1
                if status not in samples:
                    with lock:
                        samples.setdefault(status, body)
        with lock:
            statuses.update(mine)

    started = time.monotonic()
    threads = [threading.Thread(target=attack, args=(index,)) for index in range(attackers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return FloodResult(attackers, time.monotonic() - started, statuses, samples)


@contextlib.contextmanager
def regex_flood(
    url: str, headers: dict[str, str], attackers: int, seconds: float, path: str
) -> Iterator[Callable[[], FloodResult | None]]:
    """Start the flood against `url` in a process of its own; yield a function that returns its
    result once it has finished (None before). The process is killed if the caller leaves early."""
    order = {"kind": "regex", "url": url, "headers": headers, "attackers": attackers, "path": path}
    with attackers_process(order, seconds) as result:
        yield result


@contextlib.contextmanager
def attackers_process(
    order: dict[str, Any], seconds: float
) -> Iterator[Callable[[], FloodResult | None]]:
    """Run the flood `order` describes (see the end of this module) for `seconds` in a process of
    its own; yield a function that returns its result once it has finished (None before). The
    process is killed if the caller leaves early."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.attacks"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT_DIR,
    )
    assert process.stdin is not None
    # The keys go on stdin, not on a command line.
    process.stdin.write(json.dumps({**order, "seconds": seconds}))
    process.stdin.close()
    outcome: list[FloodResult] = []

    def result() -> FloodResult | None:
        if outcome:
            return outcome[0]
        if process.poll() is None:
            return None
        assert process.stdout is not None
        assert process.stderr is not None
        output, errors = process.stdout.read(), process.stderr.read()
        assert process.returncode == 0, f"the attackers' process failed: {errors[-2000:]}"
        record = json.loads(output)
        outcome.append(
            FloodResult(
                record["attackers"],
                record["seconds"],
                Counter(record["statuses"]),
                record["samples"],
            )
        )
        return outcome[0]

    try:
        yield result
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def watch_database(state: StackState) -> Database:
    """A connection that sees every backend's query: `postgres` is no superuser and sees only the
    text of its own, so pg_stat_activity is read as the stack's superuser."""
    return psycopg.connect(state.db_url(ADMIN_USER), autocommit=True)


def regex_queries_in_database(db: Database) -> int:
    """Backends of the stack's database running a query with a regular-expression operator now."""
    row = db.execute(
        "select count(*) from pg_stat_activity "
        "where pid <> pg_backend_pid() and state = 'active' and query ~ ' ~\\*? '"
    ).fetchone()
    assert row is not None
    return int(row[0])


@dataclass
class FloodReport:
    who: str
    flood: FloodResult
    victim: VictimReads
    regex_queries_seen: int

    def problems(self) -> list[str]:
        found = [*self.flood.problems(), *self.victim.problems()]
        if self.regex_queries_seen:
            found.append(f"{self.regex_queries_seen} regex queries reached the database")
        return found

    def summary(self) -> str:
        return (
            f"regex flood as {self.who}: {self.flood.summary()}; {self.victim.summary()}; "
            f"regex queries seen in the database: {self.regex_queries_seen}"
        )


def attacker_headers(state: StackState, who: str) -> dict[str, str]:
    """`anon`: the public key only. `user`: a signed-in user of its own."""
    if who == "anon":
        return {"apikey": state.anon_key}
    with connect(state) as db:
        (attacker,) = create_auth_users(db, 1)
    return {"apikey": state.anon_key, "Authorization": f"Bearer {access_token(state, attacker)}"}


def run_regex_flood(
    state: StackState,
    who: str,
    *,
    attackers: int = 24,
    seconds: float = 12.0,
    base_url: str | None = None,
    path: str = "/movement_profiles",
) -> FloodReport:
    """Flood as `who` while the victim reads; the database is sampled for regex queries. Through
    the gateway, or straight at PostgREST (`base_url=state.postgrest_url`) as on hosted Supabase,
    where this project's gateway is not in front. `path` spells the table's path, percent escapes
    included: PostgREST serves the table under each spelling."""
    url = base_url or state.rest_url
    victim = make_victim(state)
    headers = attacker_headers(state, who)
    seen = 0
    last_sample = 0.0

    with watch_database(state) as db, regex_flood(url, headers, attackers, seconds, path) as result:

        def sample() -> None:
            nonlocal seen, last_sample
            if time.monotonic() - last_sample > 0.2:
                last_sample = time.monotonic()
                seen += regex_queries_in_database(db)

        time.sleep(0.5)  # let the attackers get going
        reads = read_until(
            state, victim, lambda: result() is not None, on_each=sample, base_url=url
        )
        flood = result()
    assert flood is not None
    return FloodReport(who, flood, reads, seen)


# -- the oversized-array flood ------------------------------------------------------------------

#: The report's body: `{"goals":["rehab", ...]}` with 125,000 entries, 1,000,011 bytes, under the
#: gateway's 1 MB limit. No valid array is longer than its list of allowed values.
OVERSIZED_ENTRIES = 125_000


def oversized_goals_body(entries: int = OVERSIZED_ENTRIES) -> bytes:
    """A PATCH body whose `goals` repeats one allowed value `entries` times."""
    return b'{"goals":[' + b",".join([b'"rehab"'] * entries) + b"]}"


def _body_flood(
    url: str, targets: list[dict[str, Any]], attackers: int, seconds: float
) -> FloodResult:
    """Run in the attackers' process: `attackers` threads, each PATCHing the oversized body to its
    target (a path with the attacker's own row as filter, and that attacker's headers)."""
    body = oversized_goals_body()

    def send(client: httpx.Client, index: int, sent: int) -> httpx.Response:
        target = targets[index % len(targets)]
        return client.patch(f"{url}{target['path']}", content=body, headers=target["headers"])

    return _attack(attackers, seconds, send)


def longest_profile_write_ms(db: Database) -> float:
    """The longest-running write to movement_profiles in the database right now, in ms (0 if
    none): sampled during a flood, an upper bound of what one attacker's statement costs there."""
    row = db.execute(
        "select coalesce(max(extract(epoch from clock_timestamp() - query_start)), 0) * 1000 "
        "from pg_stat_activity where pid <> pg_backend_pid() and state = 'active' "
        'and query ilike \'%update "public"."movement_profiles"%\''
    ).fetchone()
    assert row is not None
    return float(row[0])


@dataclass
class BodyFloodReport:
    flood: FloodResult
    victim: VictimReads
    longest_write_ms: float  # the longest attacker statement seen in the database

    def summary(self) -> str:
        return (
            f"oversized-array flood: {self.flood.summary()}; {self.victim.summary()}; "
            f"longest attacker statement seen in the database {self.longest_write_ms:.0f} ms"
        )


def run_body_flood(
    state: StackState, *, attackers: int = 20, seconds: float = 10.0, base_url: str | None = None
) -> BodyFloodReport:
    """`attackers` signed-in users, each with a profile of their own, PATCH it with the oversized
    body while the victim reads its own; through the gateway, or straight at PostgREST
    (`base_url=state.postgrest_url`) as on hosted Supabase."""
    url = base_url or state.rest_url
    victim = make_victim(state)
    with connect(state) as db:
        owners = create_auth_users(db, attackers)
        insert_profiles(db, dict.fromkeys(owners, VALID_PROFILE))
    targets = [
        {
            "path": f"/movement_profiles?user_id=eq.{owner}",
            "headers": {
                "apikey": state.anon_key,
                "Authorization": f"Bearer {access_token(state, owner)}",
                "Content-Type": "application/json",
            },
        }
        for owner in owners
    ]
    order = {"kind": "body", "url": url, "targets": targets, "attackers": attackers}
    longest = 0.0
    last_sample = 0.0
    with watch_database(state) as db, attackers_process(order, seconds) as result:

        def sample() -> None:
            nonlocal longest, last_sample
            if time.monotonic() - last_sample > 0.05:
                last_sample = time.monotonic()
                longest = max(longest, longest_profile_write_ms(db))

        time.sleep(0.5)  # let the attackers get going
        reads = read_until(
            state, victim, lambda: result() is not None, on_each=sample, base_url=url
        )
        flood = result()
    assert flood is not None
    return BodyFloodReport(flood, reads, longest)


# -- slow clients -------------------------------------------------------------------------------


def _connect(port: int, source: str) -> socket.socket:
    connection = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        connection.bind((source, 0))
        connection.settimeout(10)
        connection.connect(("127.0.0.1", port))
        connection.settimeout(None)  # blocking again: is_open() peeks with MSG_DONTWAIT
    except OSError:
        connection.close()
        raise
    return connection


def is_open(connection: socket.socket) -> bool:
    """Whether the gateway still holds the connection, waiting for the rest of the request:
    nothing to read (an answer, or the end of the stream, means it has given up on it)."""
    try:
        connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


@contextlib.contextmanager
def held_connections(
    port: int, count: int, first_bytes: bytes, *, source: str = "127.0.0.1"
) -> Iterator[list[socket.socket]]:
    """`count` connections that each send `first_bytes` and then nothing; all closed on exit."""
    needed = count + 256
    limit = processes.raise_open_files_limit(needed)
    assert limit >= needed, f"the open-files limit ({limit}) is below the {needed} needed"
    connections: list[socket.socket] = []
    try:
        for _ in range(count):
            connection = _connect(port, source)
            connections.append(connection)
            connection.sendall(first_bytes)
        yield connections
    finally:
        for connection in connections:
            connection.close()


def read_times(
    state: StackState, victim: Victim, times: int, *, source: str = "127.0.0.1"
) -> VictimReads:
    """`times` reads of the victim's own row, on a new connection from address `source`."""
    reads = VictimReads()
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(base_url=state.rest_url, timeout=30, transport=transport) as client:
        for _ in range(times):
            read_own_profile(client, victim, reads)
            time.sleep(0.02)
    return reads


@dataclass
class SlowClientReport:
    attack: str
    held: int
    opened_in: float
    open_when_read: int
    victim: VictimReads
    open_after: int
    closed_after: float  # seconds from the first connection until the gateway had closed all
    extra: str = ""

    def problems(self, close_within: float) -> list[str]:
        found = [*self.victim.problems()]
        if self.open_when_read != self.held:
            found.append(
                f"only {self.open_when_read} of {self.held} connections were open during the reads"
            )
        if self.open_after or self.closed_after > close_within:
            found.append(
                f"{self.open_after} connections still open after {self.closed_after:.1f} s "
                f"(limit {close_within:.0f} s)"
            )
        return found

    def summary(self) -> str:
        return (
            f"{self.attack}: {self.held} held (opened in {self.opened_in:.1f} s), "
            f"{self.open_when_read} open while the victim read; {self.victim.summary()}; "
            f"all closed by the gateway {self.closed_after:.1f} s after the first was opened "
            f"({self.open_after} left){self.extra}"
        )


def run_half_open(
    state: StackState, count: int = 1100, reads: int = 20, close_timeout: float = 30.0
) -> SlowClientReport:
    """Hold `count` half-open requests; the victim reads meanwhile, on a new connection; then
    the gateway must close them (client_header_timeout)."""
    victim = make_victim(state)
    started = time.monotonic()
    with held_connections(state.api_port, count, half_open_request()) as connections:
        opened_in = time.monotonic() - started
        victim_reads = read_times(state, victim, reads)
        open_when_read = sum(1 for connection in connections if is_open(connection))
        open_after, _ = wait_closed(connections, close_timeout)
        closed_after = time.monotonic() - started
    return SlowClientReport(
        "half-open requests",
        count,
        opened_in,
        open_when_read,
        victim_reads,
        open_after,
        closed_after,
    )


def run_slow_bodies(
    state: StackState,
    count: int,
    *,
    source: str = "127.0.0.2",
    reads: int = 20,
    close_timeout: float = 30.0,
) -> tuple[SlowClientReport, httpx.Response, httpx.Response]:
    """Hold `count` creates from `source` whose body never comes; then one more request from
    `source` (the per-address limit answers it), the victim's reads from 127.0.0.1, and once the
    gateway has cut the slow bodies (client_body_timeout), a request from `source` again.
    Returns the report, the answer while held and the answer after."""
    victim = make_victim(state)
    started = time.monotonic()
    probe = {"apikey": state.anon_key}
    transport = httpx.HTTPTransport(local_address=source)
    with (
        held_connections(state.api_port, count, slow_body_request(state), source=source) as held,
        httpx.Client(base_url=state.rest_url, timeout=30, transport=transport) as neighbour,
    ):
        opened_in = time.monotonic() - started
        time.sleep(0.5)  # until the gateway has read every header
        while_held = neighbour.post("/rpc/movement_profile_options", headers=probe)
        victim_reads = read_times(state, victim, reads)
        open_when_read = sum(1 for connection in held if is_open(connection))
        open_after, _ = wait_closed(held, close_timeout)
        closed_after = time.monotonic() - started
        after = neighbour.post("/rpc/movement_profile_options", headers=probe)
    report = SlowClientReport(
        f"slow bodies from {source}",
        count,
        opened_in,
        open_when_read,
        victim_reads,
        open_after,
        closed_after,
        f"; from {source} while held: {while_held.status_code}, after: {after.status_code}",
    )
    return report, while_held, after


def half_open_request() -> bytes:
    """The start of a request line that is never finished."""
    return b"GET /rest/v1/movement_profiles?select=user_id&user_id=eq."


def slow_body_request(state: StackState) -> bytes:
    """The complete, valid header of a create; of its 100-byte body only the first byte comes."""
    return (
        b"POST /rest/v1/movement_profiles HTTP/1.1\r\n"
        b"Host: 127.0.0.1\r\n"
        b"apikey: " + state.service_role_key.encode() + b"\r\n"
        b"Content-Type: application/json\r\n"
        b"Content-Length: 100\r\n"
        b"\r\n{"
    )


def wait_closed(connections: list[socket.socket], timeout: float) -> tuple[int, float]:
    """Wait until the gateway has closed every connection; (how many still open, seconds)."""
    started = time.monotonic()
    while True:
        still_open = sum(1 for connection in connections if is_open(connection))
        elapsed = time.monotonic() - started
        if not still_open or elapsed > timeout:
            return still_open, elapsed
        time.sleep(0.2)


if __name__ == "__main__":
    # The attackers' process (see regex_flood): an order on stdin, the result on stdout.
    order: dict[str, Any] = json.loads(sys.stdin.read())
    if order["kind"] == "body":
        outcome = _body_flood(order["url"], order["targets"], order["attackers"], order["seconds"])
    else:
        outcome = _flood(
            order["url"], order["headers"], order["attackers"], order["seconds"], order["path"]
        )
    json.dump(
        {
            "attackers": outcome.attackers,
            "seconds": outcome.seconds,
            "statuses": dict(outcome.statuses),
            "samples": outcome.samples,
        },
        sys.stdout,
    )
    sys.stdout.flush()
    os._exit(0)
