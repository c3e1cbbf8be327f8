"""Tokens for a stack: its users' sessions as Supabase Auth signs them (PyJWT, through the CLI's
own minting), and tokens signed by hand, as an attacker would make them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from movement_profiles_cli.stack import jwt
from movement_profiles_cli.stack.state import StackState


def access_token(
    stack: StackState,
    user_id: uuid.UUID | str,
    *,
    lifetime: int = 3600,
    issued_at: int | None = None,
) -> str:
    """An HS256 session token for `user_id`, signed with the stack's secret."""
    issued = int(time.time()) if issued_at is None else issued_at
    return jwt.user_token(str(user_id), stack.jwt_secret, issued_at=issued, expires_in=lifetime)


def signed(
    claims: Mapping[str, Any],
    secret: str,
    *,
    header: str | None = None,
    digest: Callable[..., Any] = hashlib.sha256,
) -> str:
    """A JWT signed by hand with HMAC-`digest`: PyJWT refuses some of these secrets (empty) and
    writes its own header, where `header` is this exact text (duplicate keys included)."""
    header_text = (
        compact_json({"alg": "HS256", "typ": "JWT"}) if header is None else header.encode()
    )
    signing_input = f"{b64url(header_text)}.{b64url(compact_json(dict(claims)))}"
    signature = hmac.new(secret.encode(), signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64url(signature)}"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def compact_json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()
