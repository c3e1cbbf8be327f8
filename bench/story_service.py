"""The movement-profile service as the story designed it, run by `make bench` as a peer of the
gateway: FastAPI routes, a SQLAlchemy 2 model of `public.movement_profiles` (it creates nothing),
pydantic validators and a check of the Supabase JWT.

    DATABASE_URL=... SUPABASE_JWT_SECRET=... uvicorn bench.story_service:app --workers $(nproc)

Written as it would be for production, not made slow: sync routes and a sync Session (FastAPI runs
them in its thread pool; SQLAlchemy's async layer costs more than the thread hop it saves), a pool
of 8 + 4 connections per worker. It connects as `postgres`, which bypasses row-level security, so
the ownership check is its own; the columns' domains and the table's trigger run for its writes as
for the gateway's.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

import jwt
from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg import errors as pg_errors
from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy import DateTime, create_engine, func, select
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from movement_profiles.options import Goal, TrainingPreference

# The story's service validated against a fixed list in its own code, as services then did: the
# shipped values. The database's catalogue still judges every write it makes.
ALLOWED_VALUES = {
    "training_preferences": frozenset(TrainingPreference),
    "goals": frozenset(Goal),
}


class Base(DeclarativeBase):
    pass


class MovementProfile(Base):
    __tablename__ = "movement_profiles"
    __table_args__ = {"schema": "public"}  # noqa: RUF012 (SQLAlchemy's declarative convention)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True)
    training_preferences: Mapped[list[Any]] = mapped_column(JSONB)
    goals: Mapped[list[Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


def _entries(column: str, values: list[str] | None) -> list[str] | None:
    """Every entry from the allowed list (the shipped values), at least one."""
    if values is None:
        return None
    if not values:
        raise ValueError(f"{column} must contain at least one value")
    if invalid := [value for value in values if value not in ALLOWED_VALUES[column]]:
        raise ValueError(f"{column} contains invalid values: {invalid}")
    return values


class ProfileUpdate(BaseModel):
    """PUT's body: the fields given are replaced, the others kept."""

    training_preferences: list[str] | None = None
    goals: list[str] | None = None

    @field_validator("training_preferences", "goals")
    @classmethod
    def allowed(cls, values: list[str] | None, info: Any) -> list[str] | None:
        return _entries(info.field_name, values)


class ProfileCreate(ProfileUpdate):
    training_preferences: list[str]
    goals: list[str]


class ProfileRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID
    training_preferences: list[str]
    goals: list[str]
    created_at: datetime
    updated_at: datetime


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    url = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url, pool_size=8, max_overflow=4)
    app.state.jwt_secret = os.environ["SUPABASE_JWT_SECRET"]
    app.state.sessions = sessionmaker(engine)
    yield
    engine.dispose()


app = FastAPI(title="movement profiles (the story's design)", lifespan=lifespan)


@app.exception_handler(RequestValidationError)
async def invalid_input(_request: Request, error: RequestValidationError) -> JSONResponse:
    """The story's 400 for invalid input, where FastAPI answers 422."""
    return JSONResponse({"detail": jsonable_encoder(error.errors())}, status_code=400)


def session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as opened:
        yield opened


# async: the check is CPU work only, so it runs on the event loop without a thread hop.
async def caller(
    request: Request,
    credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(HTTPBearer(auto_error=False))
    ],
) -> uuid.UUID:
    """The user id of a Supabase access token: HS256 with the project's secret, audience
    `authenticated`, `exp` and `sub` required."""
    if credentials is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing bearer token")
    try:
        claims = jwt.decode(
            credentials.credentials,
            request.app.state.jwt_secret,
            algorithms=["HS256"],
            audience="authenticated",
            options={"require": ["exp", "sub"]},
        )
        return uuid.UUID(claims["sub"])
    except (jwt.InvalidTokenError, ValueError) as error:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"invalid token: {error}") from None


Db = Annotated[Session, Depends(session)]
Caller = Annotated[uuid.UUID, Depends(caller)]


def own_profile(db: Session, user_id: uuid.UUID, me: uuid.UUID) -> MovementProfile:
    if user_id != me:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "not your profile")
    profile = db.scalar(select(MovementProfile).where(MovementProfile.user_id == user_id))
    if profile is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no movement profile for this user")
    return profile


def saved(db: Session, profile: MovementProfile) -> MovementProfile:
    """Commit and read back what the database wrote (the trigger sets updated_at); a second
    profile of a user is 409, a value the domains refuse 400."""
    try:
        db.commit()
    except IntegrityError as error:
        db.rollback()
        conflict = isinstance(error.orig, pg_errors.UniqueViolation)
        raise HTTPException(409 if conflict else 400, str(error.orig)) from None
    db.refresh(profile)
    return profile


@app.post("/movement-profiles", response_model=ProfileRead, status_code=201)
def create_profile(body: ProfileCreate, me: Caller, db: Db) -> MovementProfile:
    profile = MovementProfile(user_id=me, **body.model_dump())
    db.add(profile)
    return saved(db, profile)


@app.get("/movement-profiles/{user_id}", response_model=ProfileRead)
def read_profile(user_id: uuid.UUID, me: Caller, db: Db) -> MovementProfile:
    return own_profile(db, user_id, me)


@app.put("/movement-profiles/{user_id}", response_model=ProfileRead)
def update_profile(user_id: uuid.UUID, body: ProfileUpdate, me: Caller, db: Db) -> MovementProfile:
    profile = own_profile(db, user_id, me)
    for name, value in body.model_dump(exclude_unset=True).items():
        setattr(profile, name, value)
    return saved(db, profile)
