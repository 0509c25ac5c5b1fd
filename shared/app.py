"""The common shape of every service's FastAPI app.

`create_service_app` wires what all four services share: problem+json rendering, request ids,
JSON logs, metrics, a request-body limit, CORS, health and readiness probes, and API docs
served from local files (no CDN: the machines that run this may have no internet).

A request that fails because the service's database can't be reached (see
`shared.db.database_unavailable`), wherever in the handler that happens, is answered 503
`unavailable` with a `Retry-After` and logged, like `/readyz`: the client may retry it as it
is, and an operator sees the outage, not a run of internal errors. Any other error is a 500.
"""

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi_offline import FastAPIOffline
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.db import DATABASE_ERRORS, Database, database_unavailable, head_revision
from shared.observability import Metrics, RequestContextMiddleware, current_request_id
from shared.outbox import Outbox
from shared.problems import (
    PROBLEM_MEDIA_TYPE,
    BadRequestError,
    DatabaseUnavailableError,
    FieldError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    ProblemError,
    ServiceUnavailableError,
    ValidationProblem,
    problem_responses,
)
from shared.settings import ServiceSettings

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]

metrics_log = logging.getLogger("market.metrics")

# What a 503 `unavailable` asks the client to wait: about a readiness probe's period, time for
# a pool to reconnect or a database to fail over.
DATABASE_RETRY_AFTER_SECONDS = 5

db_log = logging.getLogger("market.db")


class Health(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: str


class Readiness(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"status": "ready", "database": "ok", "schema_revision": "0001"}]
        }
    )

    status: str
    database: str
    schema_revision: str | None


def problem_response(error: ProblemError) -> JSONResponse:
    """Render a ProblemError as application/problem+json."""
    return JSONResponse(
        error.to_problem(current_request_id()),
        status_code=error.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=error.headers or None,
    )


async def _on_problem(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_response(exc)


def database_unavailable_problem() -> DatabaseUnavailableError:
    """The 503 for a database that can't be reached, with its `Retry-After`."""
    return DatabaseUnavailableError(
        "The service's database can't be reached right now; retry in "
        f"{DATABASE_RETRY_AFTER_SECONDS} seconds.",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


def _log_unavailable(message: str, exc: BaseException, level: int = logging.ERROR) -> None:
    root = exc
    while root.__cause__ is not None:
        root = root.__cause__
    # The driver's message, not SQLAlchemy's: that one quotes the statement's parameters.
    db_log.log(
        level,
        message,
        extra={"error": type(exc).__name__, "cause": f"{type(root).__name__}: {root}"[:300]},
    )


async def _on_database_error(_request: Request, exc: Exception) -> Response:
    if not database_unavailable(exc):
        # A bug, not an outage: `RequestContextMiddleware` logs it and answers 500.
        raise exc
    _log_unavailable("request failed: the database can't be reached", exc)
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


class NulCharacterError(ValidationProblem):
    code = "nul_character"
    title = "The request contains a NUL character"


class RequestGuardMiddleware:
    """Refuses, before any handler runs, what no handler should have to think about.

    - Bodies over a size limit (413): `Content-Length` is checked up front, a streamed body
      is counted as it arrives. Paths in `overrides` get their own limit (uploads).
    - U+0000 in the path, the query or a JSON body (422 `nul_character`): PostgreSQL can't
      store it in text or jsonb, so letting it through would turn bad input into a 500.
    """

    def __init__(self, app: ASGIApp, limit: int, overrides: dict[str, int]) -> None:
        self.app = app
        self.limit = limit
        self.overrides = overrides

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope["query_string"]:
            await problem_response(_nul())(scope, receive, send)
            return
        limit = self.overrides.get(scope["path"], self.limit)
        is_json = False
        for key, value in scope["headers"]:
            if key == b"content-length" and not _length_within(value, limit):
                await problem_response(_too_large(limit))(scope, receive, send)
                return
            if key == b"content-type":
                is_json = b"json" in value.lower()
        received = 0
        tail = b""

        async def guarded_receive() -> Message:
            nonlocal received, tail
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > limit:
                    raise _too_large(limit)
                if is_json:
                    window = tail + chunk
                    if b"\\u0000" in window or b"\x00" in window:
                        raise _nul()
                    tail = window[-5:]
            return message

        await self.app(scope, guarded_receive, send)


def _length_within(value: bytes, limit: int) -> bool:
    """Whether a `Content-Length` value is a number no larger than `limit`.

    The digits are counted before `int` sees them: Python refuses to parse more than 4300
    digits (ValueError), and a header of 5000 zeros must be a 413 like any other, not a 500.
    """
    if not value.isdigit():
        return False
    digits = value.lstrip(b"0")
    return len(digits) <= len(str(limit)) and int(digits or b"0") <= limit


def _nul() -> NulCharacterError:
    return NulCharacterError("Remove U+0000 (NUL) from the path, query or body.")


def _too_large(limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(f"The request body is larger than {limit} bytes.")


def create_service_app(
    *,
    name: str,
    title: str,
    description: str,
    settings: ServiceSettings,
    lifespan: Lifespan,
    routers: Sequence[APIRouter],
    migrations: Path,
    openapi_tags: list[dict[str, Any]] | None = None,
    body_limit_overrides: dict[str, int] | None = None,
) -> FastAPI:
    """Build a service app; `lifespan` must set `app.state.db` and `app.state.verifier`.

    Raises `DevDefaultsError` (the service refuses to start) for a PostgreSQL database with
    development defaults not explicitly allowed (`ServiceSettings.check_production_ready`).
    """
    settings.check_production_ready()
    app: FastAPI = FastAPIOffline(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        openapi_tags=[
            *(openapi_tags or []),
            {"name": "operations", "description": "Health, readiness and metrics."},
        ],
        static_url="/docs-assets",
    )
    app.state.settings = settings
    app.state.service_name = name
    app.state.metrics = Metrics()
    app.state.schema_head = head_revision(migrations)

    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    for error in DATABASE_ERRORS:
        app.add_exception_handler(error, _on_database_error)

    for router in routers:
        app.include_router(router)
    app.include_router(_operations_router())

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Request-ID"],
        )
    app.add_middleware(
        RequestGuardMiddleware,
        limit=settings.max_body_bytes,
        overrides=body_limit_overrides or {},
    )
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _operations_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness: the process answers", operation_id="healthz")
    async def healthz() -> Health:
        return Health(status="ok")

    @router.get(
        "/readyz",
        summary="Readiness: the database answers and its schema is at the migrations' head",
        operation_id="readyz",
        responses=problem_responses(DatabaseUnavailableError, ServiceUnavailableError),
    )
    async def readyz(request: Request) -> Readiness:
        db: Database = request.app.state.db
        try:
            revision = await db.current_revision()
        except Exception as exc:
            _log_unavailable("not ready: the database can't be reached", exc, logging.WARNING)
            raise database_unavailable_problem() from exc
        head = request.app.state.schema_head
        if revision != head:
            raise ServiceUnavailableError(
                f"The database schema is at {revision}, not at {head}: run `market db upgrade`."
            )
        return Readiness(status="ready", database="ok", schema_revision=revision)

    @router.get(
        "/metrics",
        summary="Prometheus metrics",
        operation_id="metrics",
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {}}}},
    )
    async def metrics(request: Request) -> Response:
        outbox: Outbox | None = getattr(request.app.state, "outbox", None)
        if outbox is not None:
            try:
                await outbox.observe()
            except Exception as exc:
                # The HTTP metrics are still worth serving; the outbox gauges keep their values.
                metrics_log.warning("outbox metrics unavailable", extra={"error": repr(exc)})
        return Response(
            generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
        )

    return router


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated schema, with problem responses documented as application/problem+json."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses", {})
            for status, response in responses.items():
                content = response.get("content", {})
                if PROBLEM_MEDIA_TYPE in content and "application/json" in content:
                    content[PROBLEM_MEDIA_TYPE]["schema"] = content.pop("application/json")[
                        "schema"
                    ]
                if status == "422" and "application/json" in content:
                    # FastAPI's default 422 entry; ours is a problem, not HTTPValidationError.
                    response.update(_documented_problem(ValidationProblem))
            if "requestBody" in operation and "400" not in responses:
                # A body that can't be read at all (not UTF-8 JSON, broken multipart).
                responses["400"] = _documented_problem(BadRequestError)
            if operation.get("operationId") not in _NO_DATABASE_OPERATIONS:
                _document_also(responses, DatabaseUnavailableError)
            operation["responses"] = dict(sorted(responses.items()))
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    examples = _model_examples(app.routes)
    for component in components.values():
        if component.get("title") in examples:
            component["examples"] = examples[component["title"]]
    app.openapi_schema = schema
    return schema


# The operations that never touch the database (every other one may answer 503 `unavailable`).
_NO_DATABASE_OPERATIONS = frozenset({"healthz", "metrics"})


def _document_also(responses: dict[str, Any], error: type[ProblemError]) -> None:
    """Add `error` to an operation's responses, next to the codes its status already has."""
    entry = _documented_problem(error)
    existing = responses.get(str(error.status))
    if existing is None:
        responses[str(error.status)] = entry
        return
    examples = existing["content"][PROBLEM_MEDIA_TYPE].setdefault("examples", {})
    if error.code in examples:
        return
    examples.update(entry["content"][PROBLEM_MEDIA_TYPE]["examples"])
    codes = ", ".join(f"`{code}`" for code in examples)
    existing["description"] = f"Problem: {codes}"


def _documented_problem(error: type[ProblemError]) -> dict[str, Any]:
    """The OpenAPI response object of one problem, as `problem_responses` documents it."""
    entry = problem_responses(error)[error.status]
    return {
        "description": entry["description"],
        "content": {
            PROBLEM_MEDIA_TYPE: {
                "schema": {"$ref": "#/components/schemas/Problem"},
                "examples": entry["content"][PROBLEM_MEDIA_TYPE]["examples"],
            }
        },
    }


def _model_examples(routes: Sequence[BaseRoute]) -> dict[str, list[Any]]:
    """The examples of the routes' body and response models, by schema title.

    FastAPI drops every null from the document it generates, examples included, which leaves
    examples that don't match their own schemas; these are the originals, nulls and all.
    """
    models: list[Any] = []
    for context in iter_route_contexts(routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            models.append(route.response_model)
            models.extend(response.get("model") for response in route.responses.values())
            if route.body_field is not None:
                models.append(route.body_field.field_info.annotation)
    found: dict[str, list[Any]] = {}
    for model in models:
        if isinstance(model, type) and issubclass(model, BaseModel):
            schema = model.model_json_schema(mode="serialization")
            if schema.get("examples"):
                found[schema["title"]] = schema["examples"]
    return found
