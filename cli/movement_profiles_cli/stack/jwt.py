"""HS256 JSON Web Tokens, as Supabase signs its API keys and user sessions, minted with PyJWT.

The CLI mints the local stack's keys and development user tokens; nothing here ever verifies a
token (PostgREST does that).
"""

from __future__ import annotations

from typing import Any

import jwt

DEFAULT_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"
# Supabase's local demo keys carry these claims; minting the same claims with the same default
# secret reproduces the well-known keys `supabase start` prints, byte for byte.
DEMO_KEY_ISSUER = "supabase-demo"
DEMO_KEY_EXPIRY = 1983812996


def sign_hs256(claims: dict[str, Any], secret: str) -> str:
    """Return a compact JWS of `claims` signed with HMAC-SHA256.

    PyJWT writes the header as ``{"alg":"HS256","typ":"JWT"}`` and the claims in the order given,
    so the default secret reproduces Supabase's demo keys byte for byte.
    """
    return jwt.encode(claims, secret, algorithm="HS256")


def api_key(role: str, secret: str) -> str:
    """The `anon` or `service_role` API key for a stack signed with `secret`."""
    return sign_hs256({"iss": DEMO_KEY_ISSUER, "role": role, "exp": DEMO_KEY_EXPIRY}, secret)


def user_token(user_id: str, secret: str, *, issued_at: int, expires_in: int) -> str:
    """An access token for `user_id`, shaped like the ones Supabase Auth issues."""
    return sign_hs256(
        {
            "sub": user_id,
            "role": "authenticated",
            "aud": "authenticated",
            "iat": issued_at,
            "exp": issued_at + expires_in,
        },
        secret,
    )
