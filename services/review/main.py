"""The review app: `create_app(settings)`; uvicorn runs it with `--factory`."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

from services.catalog.client import CatalogClient
from services.review.api import submissions
from services.review.api.deps import ReviewRuntime
from services.review.db.models import idempotency_records, outbox
from services.review.db.uow import ReviewUnitOfWork
from services.review.service import EXPIRE, PUBLISH, UNLOCK, ReviewService
from services.review.settings import ReviewSettings
from shared.app import create_service_app, service_state
from shared.auth import AccessTokenVerifier, ServiceTokenSource
from shared.db import Database
from shared.http import create_http_client
from shared.idempotency import IdempotencyStore
from shared.observability import configure_logging
from shared.outbox import Outbox
from shared.uow import UnitsOfWork

MIGRATIONS = Path(__file__).parent / "migrations"

TAGS = [
    {
        "name": "submissions",
        "description": "Partners submit drafts; reviewers claim, approve or reject them.",
    }
]


def create_app(
    settings: ReviewSettings | None = None, *, http_client: httpx.AsyncClient | None = None
) -> FastAPI:
    """Build the review app. Tests may pass `http_client` to reach an in-process catalog."""
    settings = settings or ReviewSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("review", settings.log_level)
        db = Database(settings.database_url, pool_size=settings.database_pool_size)
        http = http_client or create_http_client(settings.http_timeout_seconds)
        tokens = ServiceTokenSource.from_file(
            settings.service_token_key_file, service_name="review"
        )
        catalog = CatalogClient(http, settings.catalog_url, tokens)
        relay = Outbox(
            outbox,
            db.sessionmaker,
            poll_seconds=settings.outbox_poll_seconds,
            max_delay_seconds=settings.outbox_max_delay_seconds,
            metrics=service_state(app).metrics,
        )
        review = ReviewService(UnitsOfWork(db, ReviewUnitOfWork, relay), catalog, relay)
        relay.register(PUBLISH, review.deliver_publish)
        relay.register(UNLOCK, review.deliver_unlock)
        relay.register(EXPIRE, review.expire_unfinished)
        app.state.runtime = ReviewRuntime(
            db=db,
            review=review,
            outbox=relay,
            idempotency=IdempotencyStore(idempotency_records, db.sessionmaker),
        )
        service_state(app).started(
            db=db,
            verifier=AccessTokenVerifier.from_settings(settings, "review", http),
            outbox=relay,
        )
        relay.start()
        try:
            yield
        finally:
            await relay.stop()
            if http_client is None:
                await http.aclose()
            await db.dispose()

    return create_service_app(
        name="review",
        title="Marketplace review",
        description="Submissions of product drafts, the reviewers' queue, decisions and their "
        "timeline. Approval makes the revision live at once.",
        settings=settings,
        lifespan=lifespan,
        routers=[submissions.router],
        migrations=MIGRATIONS,
        openapi_tags=TAGS,
    )
