"""The Supabase JWT check: an HS256 access token signed with the project's JWT secret, for the
`authenticated` audience; its `sub` is the caller's user id."""

from __future__ import annotations

import uuid
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

_bearer = HTTPBearer(auto_error=False)


# async: the check is CPU work only, so it runs on the event loop without a thread hop.
async def current_user_id(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> uuid.UUID:
    if credentials is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing bearer token")
    try:
        claims = jwt.decode(
            credentials.credentials,
            request.app.state.settings.jwt_secret,
            algorithms=["HS256"],
            audience="authenticated",
            options={"require": ["exp", "sub"]},
        )
        return uuid.UUID(claims["sub"])
    except (jwt.InvalidTokenError, ValueError) as error:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"invalid token: {error}") from None


CurrentUser = Annotated[uuid.UUID, Depends(current_user_id)]


def require_owner(user_id: uuid.UUID, caller: uuid.UUID) -> None:
    """A user reads and writes only their own profile."""
    if user_id != caller:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "not your profile")
