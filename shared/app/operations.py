"""The operations routes every service serves: liveness, readiness and metrics."""

import logging

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict

from shared.app.handlers import database_unavailable_problem, log_unavailable
from shared.app.state import service_state
from shared.problems import DatabaseUnavailableError, ServiceUnavailableError, problem_responses

metrics_log = logging.getLogger("market.metrics")


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


def operations_router() -> APIRouter:
    """`/healthz`, `/readyz` and `/metrics`, tagged `operations`."""
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
        state = service_state(request.app)
        try:
            revision = await state.db.current_revision()
        except Exception as exc:
            log_unavailable("not ready: the database can't be reached", exc, logging.WARNING)
            raise database_unavailable_problem() from exc
        head = state.schema_head
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
        state = service_state(request.app)
        if state.outbox is not None:
            try:
                await state.outbox.observe()
            except Exception as exc:
                # The HTTP metrics are still worth serving; the outbox gauges keep their values.
                metrics_log.warning("outbox metrics unavailable", extra={"error": repr(exc)})
        return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return router
