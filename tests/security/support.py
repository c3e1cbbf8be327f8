"""What the hardening suites (tests/security, tests/reliability) share.

Callers are built the way a frontend or service builds them (an `apikey` header, a bearer token),
every request goes through the gateway, and "nothing was written" is proved the same way
everywhere: the row count and an md5 over every row of the table, before and after.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
from psycopg.types.json import Jsonb

from movement_profiles_cli.stack.state import StackState

OBJECT = "application/vnd.pgrst.object+json"
RETURN_ROWS = {"Prefer": "return=representation"}
VALID_PROFILE: dict[str, list[str]] = {"training_preferences": ["yoga"], "goals": ["rehab"]}


@dataclass(frozen=True)
class TableFingerprint:
    """How many rows movement_profiles holds and an md5 over all of them, in id order."""

    rows: int
    checksum: str | None


Database = psycopg.Connection[tuple[Any, ...]]


def connect(state: StackState) -> Database:
    """An autocommit connection as postgres (BYPASSRLS, not a superuser), to arrange rows."""
    return psycopg.connect(state.db_url(), autocommit=True)


def table_fingerprint(db: Database) -> TableFingerprint:
    row = db.execute(
        "select count(*), md5(string_agg(t::text, ',' order by id)) from public.movement_profiles t"
    ).fetchone()
    assert row is not None
    return TableFingerprint(int(row[0]), row[1])


def as_user(state: StackState, token: str) -> dict[str, str]:
    """Headers of a frontend signed in as a user: the anon key plus the user's token."""
    return {"apikey": state.anon_key, "Authorization": f"Bearer {token}"}


def _error_body(
    status: int, content_type: str, raw: str | bytes, parse: Callable[[], Any]
) -> dict[str, Any]:
    """An error's body, checked: JSON by content type and by parsing, an object, with a
    non-empty message. `raw` is what the assertion messages quote."""
    assert content_type.startswith("application/json"), (
        f"{status} answered {content_type!r}, not JSON: {raw[:200]!r}"
    )
    body = parse()
    assert isinstance(body, dict), f"error body is not a JSON object: {raw[:200]!r}"
    message = body.get("message")
    assert isinstance(message, str), f"error without a message: {raw[:200]!r}"
    assert message, f"error with an empty message: {raw[:200]!r}"
    return body


def json_error(response: httpx.Response) -> dict[str, Any]:
    """The JSON error body every 4xx/5xx must carry, with a non-empty message."""
    return _error_body(
        response.status_code,
        response.headers.get("content-type", ""),
        response.text,
        response.json,
    )


def stored_profiles(
    db: Database, user_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, tuple[Any, ...]]:
    """Each given user's row (id, training_preferences, goals, created_at, updated_at)."""
    rows = db.execute(
        "select user_id, id, training_preferences, goals, created_at, updated_at "
        "from public.movement_profiles where user_id = any(%s)",
        (list(user_ids),),
    ).fetchall()
    return {row[0]: tuple(row[1:]) for row in rows}


def delete_auth_users(db: Database, user_ids: Iterable[uuid.UUID]) -> None:
    """Remove users and, by the foreign key's cascade, their profiles."""
    db.execute("delete from auth.users where id = any(%s)", (list(user_ids),))


def insert_profiles(db: Database, profiles: Mapping[uuid.UUID, Mapping[str, list[str]]]) -> None:
    """Arrange rows directly in the database as postgres (past RLS), bypassing the API."""
    with db.cursor() as cursor:
        cursor.executemany(
            "insert into public.movement_profiles (user_id, training_preferences, goals) "
            "values (%s, %s, %s)",
            [
                (user_id, Jsonb(profile["training_preferences"]), Jsonb(profile["goals"]))
                for user_id, profile in profiles.items()
            ],
        )


@dataclass(frozen=True)
class RawResponse:
    """An answer read off a socket: status, headers (lower-case names) and the body, de-chunked."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))  # strict: the body must be UTF-8


def raw_request(port: int, request: bytes, timeout: float = 10) -> RawResponse:
    """Send `request` as it is (any bytes at all) to the gateway and read the answer to the end."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(body)
    return RawResponse(int(status_line.split()[1]), headers, body)


def _dechunk(data: bytes) -> bytes:
    body = b""
    while data:
        size, _, data = data.partition(b"\r\n")
        length = int(size.split(b";")[0], 16)
        if length == 0:
            break
        body, data = body + data[:length], data[length + 2 :]
    return body


def raw_get(
    state: StackState,
    target: bytes,
    headers: Mapping[bytes, bytes | None] | None = None,
    *,
    method: bytes = b"GET",
    version: bytes = b"HTTP/1.1",
    body: bytes = b"",
) -> RawResponse:
    """A request with raw bytes in the target and header values; by default it carries the anon
    key and asks the gateway to close the connection. A header given as None is left out."""
    sent: dict[bytes, bytes | None] = {
        b"Host": b"127.0.0.1",
        b"apikey": state.anon_key.encode(),
        b"Connection": b"close",
        **(headers or {}),
    }
    if body:
        sent.setdefault(b"Content-Length", str(len(body)).encode())
    lines = b"".join(
        name + b": " + value + b"\r\n" for name, value in sent.items() if value is not None
    )
    return raw_request(
        state.api_port, method + b" " + target + b" " + version + b"\r\n" + lines + b"\r\n" + body
    )


def gateway_json_error(response: RawResponse) -> dict[str, Any]:
    """The JSON error body every gateway refusal carries: valid UTF-8 JSON, with a message."""
    return _error_body(
        response.status, response.headers.get("content-type", ""), response.body, response.json
    )
