"""The catalog app: `create_app(settings)`; uvicorn runs it with `--factory`."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from services.catalog.api import documents, internal, products
from services.catalog.api.deps import CatalogRuntime
from services.catalog.api.schemas import LiveProductView
from services.catalog.db.models import LiveProductRow
from services.catalog.db.uow import CatalogUnitOfWork
from services.catalog.service import CatalogService, LiveProductReads
from services.catalog.settings import CatalogSettings
from shared.app import create_service_app, service_state
from shared.auth import AccessTokenVerifier
from shared.db import Database
from shared.http import create_http_client
from shared.observability import configure_logging
from shared.uow import UnitsOfWork

MIGRATIONS = Path(__file__).parent / "migrations"

TAGS = [
    {"name": "products", "description": "Live products: the public catalog, and creating one."},
    {"name": "drafts", "description": "A product's editable draft (owner only)."},
    {"name": "plans", "description": "Base specifications in the draft."},
    {"name": "addons", "description": "Scaling add-ons (expansion packs) in the draft."},
    {"name": "revisions", "description": "Frozen drafts, one per submission (owner only)."},
    {"name": "documents", "description": "Agreement documents (PDF, DOCX, text; ≤ 10 MiB)."},
    {"name": "internal", "description": "Called by the review service with service tokens."},
]


def create_app(settings: CatalogSettings | None = None) -> FastAPI:
    """Build the catalog app; nothing touches the database until the lifespan starts."""
    settings = settings or CatalogSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("catalog", settings.log_level)
        db = Database(settings.database_url, pool_size=settings.database_pool_size)
        live_reads = LiveProductReads(db, render=_render_live)
        catalog = CatalogService(UnitsOfWork(db, CatalogUnitOfWork), live_reads=live_reads)
        # The catalog calls no service; its HTTP client fetches JWKS (when keys are URLs).
        http = create_http_client(settings.http_timeout_seconds)
        app.state.runtime = CatalogRuntime(db=db, catalog=catalog, live_reads=live_reads)
        # What `shared.app` and `shared.security` read: the readiness probe and token checks.
        service_state(app).started(
            db=db,
            verifier=AccessTokenVerifier.from_settings(settings, "catalog", http),
        )
        # On PostgreSQL: one LISTEN connection that keeps the product memory fresh.
        await live_reads.start()
        try:
            yield
        finally:
            await live_reads.close()
            await http.aclose()
            await db.dispose()

    return create_service_app(
        name="catalog",
        title="Marketplace catalog",
        description="Products, their drafts and revisions, plans (base specifications), "
        "add-ons (expansion packs), agreements and documents.",
        settings=settings,
        lifespan=lifespan,
        routers=[products.router, documents.router, internal.router],
        migrations=MIGRATIONS,
        openapi_tags=TAGS,
        body_limit_overrides={"/v1/documents": documents.UPLOAD_BODY_LIMIT},
    )


def _render_live(row: LiveProductRow) -> bytes:
    """The public JSON of a live product, as `GET /v1/products/{id}` answers it."""
    return LiveProductView.of(row).model_dump_json().encode()
