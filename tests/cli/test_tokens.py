"""The local stack's keys and development tokens, minted with PyJWT. No stack needed."""

from __future__ import annotations

import jwt as pyjwt

from movement_profiles_cli.stack import jwt

# What `supabase start` prints for the default secret.
DEMO_ANON_KEY = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5"
    "ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0"
)
DEMO_SERVICE_ROLE_KEY = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9s"
    "ZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU"
)


def test_the_default_secret_gives_supabases_demo_keys_byte_for_byte() -> None:
    assert jwt.api_key("anon", jwt.DEFAULT_JWT_SECRET) == DEMO_ANON_KEY
    assert jwt.api_key("service_role", jwt.DEFAULT_JWT_SECRET) == DEMO_SERVICE_ROLE_KEY


def test_a_user_token_carries_supabase_auths_claims() -> None:
    secret = "a-secret-of-at-least-thirty-two-characters"
    token = jwt.user_token("user-1", secret, issued_at=1_900_000_000, expires_in=60)
    claims = pyjwt.decode(
        token,
        secret,
        algorithms=["HS256"],
        audience="authenticated",
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims == {
        "sub": "user-1",
        "role": "authenticated",
        "aud": "authenticated",
        "iat": 1_900_000_000,
        "exp": 1_900_000_060,
    }
    assert pyjwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
