"""Errors as the story specifies them: 400 for invalid input (FastAPI's default is 422), 409 for
a second profile of one user."""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg import errors as pg_errors
from sqlalchemy.exc import IntegrityError


async def _invalid_input(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return JSONResponse(
        {"detail": jsonable_encoder(error.errors())}, status_code=status.HTTP_400_BAD_REQUEST
    )


def integrity_error_status(error: IntegrityError) -> int:
    """What a write the database refused means to the client."""
    if isinstance(error.orig, pg_errors.UniqueViolation):
        return status.HTTP_409_CONFLICT
    # The table's CHECKs (e.g. a value listed twice) and a user_id without an auth user.
    return status.HTTP_400_BAD_REQUEST


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid_input)
