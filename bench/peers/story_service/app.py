"""The story's routes with sync `def` handlers and a sync SQLAlchemy Session (FastAPI runs them
in its thread pool).

    uvicorn story_service.app:app --workers $(nproc)

with DATABASE_URL, SUPABASE_JWT_SECRET and optionally DB_POOL_SIZE / DB_MAX_OVERFLOW set.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request, status
from sqlalchemy import create_engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from story_service import errors, settings
from story_service.auth import CurrentUser, require_owner
from story_service.models import MovementProfile
from story_service.schemas import MovementProfileCreate, MovementProfileRead, MovementProfileUpdate


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    config = settings.from_environment()
    engine = create_engine(
        config.database_url, pool_size=config.pool_size, max_overflow=config.max_overflow
    )
    app.state.settings = config
    app.state.sessions = sessionmaker(engine)
    yield
    engine.dispose()


app = FastAPI(title="movement profiles (story design)", lifespan=lifespan)
errors.install(app)


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


DbSession = Annotated[Session, Depends(get_session)]


def _own_profile(session: Session, user_id: uuid.UUID) -> MovementProfile:
    profile = session.scalar(select(MovementProfile).where(MovementProfile.user_id == user_id))
    if profile is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no movement profile for this user")
    return profile


def _saved(session: DbSession, profile: MovementProfile) -> MovementProfile:
    """Commit, then read back what the database wrote (the trigger sets updated_at); a unique or
    foreign-key violation becomes the HTTP error the story's contract gives it."""
    try:
        session.commit()
    except IntegrityError as error:
        session.rollback()
        raise HTTPException(errors.integrity_error_status(error), str(error.orig)) from None
    session.refresh(profile)
    return profile


@app.post(
    "/movement-profiles", response_model=MovementProfileRead, status_code=status.HTTP_201_CREATED
)
def create_profile(
    body: MovementProfileCreate, caller: CurrentUser, session: DbSession
) -> MovementProfile:
    profile = MovementProfile(user_id=caller, **body.model_dump())
    session.add(profile)
    return _saved(session, profile)


@app.get("/movement-profiles/{user_id}", response_model=MovementProfileRead)
def read_profile(user_id: uuid.UUID, caller: CurrentUser, session: DbSession) -> MovementProfile:
    require_owner(user_id, caller)
    return _own_profile(session, user_id)


@app.put("/movement-profiles/{user_id}", response_model=MovementProfileRead)
def update_profile(
    user_id: uuid.UUID, body: MovementProfileUpdate, caller: CurrentUser, session: DbSession
) -> MovementProfile:
    require_owner(user_id, caller)
    profile = _own_profile(session, user_id)
    for field, value in body.model_dump(exclude_unset=True).items():
        setattr(profile, field, value)
    return _saved(session, profile)
