"""The same routes with `async def` handlers and an AsyncSession (psycopg's async driver), each
request on the worker's event loop instead of a thread. bench/peers/README.md says which of the
two the bench runs and why.

    uvicorn story_service.app_async:app --workers $(nproc)
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from story_service import errors, settings
from story_service.auth import CurrentUser, require_owner
from story_service.models import MovementProfile
from story_service.schemas import MovementProfileCreate, MovementProfileRead, MovementProfileUpdate


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    config = settings.from_environment()
    engine = create_async_engine(
        config.database_url, pool_size=config.pool_size, max_overflow=config.max_overflow
    )
    app.state.settings = config
    # expire_on_commit=False: attributes are not reloaded lazily, which AsyncSession cannot do;
    # the explicit refresh() after a write reads the row the trigger wrote.
    app.state.sessions = async_sessionmaker(engine, expire_on_commit=False)
    yield
    await engine.dispose()


app = FastAPI(title="movement profiles (story design, async)", lifespan=lifespan)
errors.install(app)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(get_session)]


async def _own_profile(session: AsyncSession, user_id: uuid.UUID) -> MovementProfile:
    profile = await session.scalar(
        select(MovementProfile).where(MovementProfile.user_id == user_id)
    )
    if profile is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no movement profile for this user")
    return profile


async def _saved(session: DbSession, profile: MovementProfile) -> MovementProfile:
    """Commit, then read back what the database wrote (the trigger sets updated_at); a unique or
    foreign-key violation becomes the HTTP error the story's contract gives it."""
    try:
        await session.commit()
    except IntegrityError as error:
        await session.rollback()
        raise HTTPException(errors.integrity_error_status(error), str(error.orig)) from None
    await session.refresh(profile)
    return profile


@app.post(
    "/movement-profiles", response_model=MovementProfileRead, status_code=status.HTTP_201_CREATED
)
async def create_profile(
    body: MovementProfileCreate, caller: CurrentUser, session: DbSession
) -> MovementProfile:
    profile = MovementProfile(user_id=caller, **body.model_dump())
    session.add(profile)
    return await _saved(session, profile)


@app.get("/movement-profiles/{user_id}", response_model=MovementProfileRead)
async def read_profile(
    user_id: uuid.UUID, caller: CurrentUser, session: DbSession
) -> MovementProfile:
    require_owner(user_id, caller)
    return await _own_profile(session, user_id)


@app.put("/movement-profiles/{user_id}", response_model=MovementProfileRead)
async def update_profile(
    user_id: uuid.UUID, body: MovementProfileUpdate, caller: CurrentUser, session: DbSession
) -> MovementProfile:
    require_owner(user_id, caller)
    profile = await _own_profile(session, user_id)
    for field, value in body.model_dump(exclude_unset=True).items():
        setattr(profile, field, value)
    return await _saved(session, profile)
