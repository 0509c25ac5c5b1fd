"""The exception handlers: every error a request can end in, answered as problem+json.

A request that fails because the service's database can't be reached (see
`shared.db.database_unavailable`), wherever in the handler that happens, is answered 503
`unavailable` with a `Retry-After` and logged, like `/readyz`: the client may retry it as it
is, and an operator sees the outage, not a run of internal errors. Any other error is a 500
(`RequestContextMiddleware` logs it).
"""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.db import DATABASE_ERRORS, database_unavailable
from shared.observability import current_request_id
from shared.problems import (
    PROBLEM_MEDIA_TYPE,
    BadRequestError,
    DatabaseUnavailableError,
    FieldError,
    MethodNotAllowedError,
    NotFoundError,
    ProblemError,
    ValidationProblem,
)

# What a 503 `unavailable` asks the client to wait: about a readiness probe's period, time for
# a pool to reconnect or a database to fail over.
DATABASE_RETRY_AFTER_SECONDS = 5

db_log = logging.getLogger("market.db")


def add_problem_handlers(app: FastAPI) -> None:
    """Answer problems, invalid requests, HTTP errors and database outages as problem+json."""
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    for error in DATABASE_ERRORS:
        app.add_exception_handler(error, _on_database_error)


def problem_response(error: ProblemError) -> JSONResponse:
    """Render a ProblemError as application/problem+json."""
    return JSONResponse(
        error.to_problem(current_request_id()),
        status_code=error.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=error.headers or None,
    )


def database_unavailable_problem() -> DatabaseUnavailableError:
    """The 503 for a database that can't be reached, with its `Retry-After`."""
    return DatabaseUnavailableError(
        "The service's database can't be reached right now; retry in "
        f"{DATABASE_RETRY_AFTER_SECONDS} seconds.",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


def log_unavailable(message: str, exc: BaseException, level: int = logging.ERROR) -> None:
    """Log a database outage with the driver's own words."""
    root = exc
    while root.__cause__ is not None:
        root = root.__cause__
    # The driver's message, not SQLAlchemy's: that one quotes the statement's parameters.
    db_log.log(
        level,
        message,
        extra={"error": type(exc).__name__, "cause": f"{type(root).__name__}: {root}"[:300]},
    )


async def _on_problem(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_response(exc)


async def _on_database_error(_request: Request, exc: Exception) -> Response:
    if not database_unavailable(exc):
        # A bug, not an outage: `RequestContextMiddleware` logs it and answers 500.
        raise exc
    log_unavailable("request failed: the database can't be reached", exc)
    return problem_response(database_unavailable_problem())


async def _on_validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        FieldError(
            loc=[part for part in e.get("loc", ()) if isinstance(part, (str, int))],
            msg=str(e.get("msg", "")),
            type=str(e.get("type", "invalid")),
        )
        for e in exc.errors()
    ]
    return problem_response(
        ValidationProblem("The request does not match the schema; see `errors`.", errors=errors)
    )


async def _on_http_exception(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc.__cause__, ProblemError):
        # FastAPI turns any error raised while it reads a body into a 400; one of ours (what
        # `RequestGuardMiddleware` finds in a streamed body: 413, `nul_character`) keeps its own.
        return problem_response(exc.__cause__)
    error: ProblemError
    if exc.status_code == 400:
        error = BadRequestError(str(exc.detail))
    elif exc.status_code == 404:
        error = NotFoundError("There is nothing at this path.")
    elif exc.status_code == 405:
        error = MethodNotAllowedError(headers=exc.headers)
    else:
        error = ProblemError(str(exc.detail))
        error.status = exc.status_code  # type: ignore[misc]
    return problem_response(error)
