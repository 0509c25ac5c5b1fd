"""`create_service_app`: the common shape of every service's FastAPI app."""

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

from shared.app.handlers import add_problem_handlers
from shared.app.middleware import RequestGuardMiddleware
from shared.app.openapi import problem_openapi
from shared.app.operations import operations_router
from shared.app.state import ServiceState, service_state
from shared.db import head_revision
from shared.observability import Metrics, RequestContextMiddleware
from shared.settings import ServiceSettings

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


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
    """Build a service app; `lifespan` provides the database and the token verifier (see
    `ServiceState.started`).

    Raises `DevDefaultsError` (the service refuses to start) for a PostgreSQL database with
    development defaults not explicitly allowed (`ServiceSettings.check_production_ready`).
    """
    settings.check_production_ready()
    app: FastAPI = FastAPIOffline(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=_providing_state(lifespan),
        openapi_tags=[
            *(openapi_tags or []),
            {"name": "operations", "description": "Health, readiness and metrics."},
        ],
        static_url="/docs-assets",
    )
    state = ServiceState(
        name=name,
        settings=settings,
        metrics=Metrics(),
        schema_head=head_revision(migrations),
    )
    app.state.service_state = state

    add_problem_handlers(app)
    for router in routers:
        app.include_router(router)
    app.include_router(operations_router())

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
    app.add_middleware(RequestContextMiddleware, metrics=state.metrics)
    app.openapi = lambda: problem_openapi(app)  # type: ignore[method-assign]
    return app


def _providing_state(lifespan: Lifespan) -> Lifespan:
    """The service's lifespan, checked to have provided what shared code needs."""

    @asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
        async with lifespan(app):
            state = service_state(app)
            if not state.is_started:
                raise RuntimeError(
                    f"{state.name}: the lifespan must call service_state(app).started(...) "
                    "with its database and token verifier before it yields"
                )
            yield

    return run
