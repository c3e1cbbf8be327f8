"""Access tokens of a stack's users, signed with its JWT secret as Supabase Auth signs them."""

from __future__ import annotations

import time

from movement_profiles_cli.stack import jwt
from movement_profiles_cli.stack.state import StackState


def access_token(
    stack: StackState, user_id: str, *, lifetime: int = 3600, issued_at: int | None = None
) -> str:
    """An HS256 session token for `user_id` (PyJWT, through the CLI's own minting)."""
    issued = int(time.time()) if issued_at is None else issued_at
    return jwt.user_token(user_id, stack.jwt_secret, issued_at=issued, expires_in=lifetime)
