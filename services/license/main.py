"""The license app: `create_app(settings)`; uvicorn runs it with `--factory`.

`http_client` is the injection point for the outgoing HTTP client (tests pass one that reaches
an in-process catalog); without it the lifespan builds the process's one shared client.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI

from services.catalog.client import CatalogClient
from services.license.api import instances, internal, licenses, verification
from services.license.api.deps import LicenseRuntime
from services.license.db.heads import head_reader
from services.license.db.uow import LicenseUnitOfWork
from services.license.keyring import KeyRing
from services.license.reads import BundleCache, LicenseReads
from services.license.service import LicenseService
from services.license.settings import LicenseSettings
from services.license.suggestions import LiveAddons
from shared.app import create_service_app, service_state
from shared.auth import AccessTokenVerifier
from shared.db import Database
from shared.http import create_http_client
from shared.observability import configure_logging
from shared.uow import UnitsOfWork

MIGRATIONS = Path(__file__).parent / "migrations"

log = logging.getLogger("market.license")

TAGS = [
    {"name": "licenses", "description": "One license: its current token and its versions."},
    {"name": "instances", "description": "An instance's licenses, entitlement and usage."},
    {"name": "verification", "description": "Keys, online verification, revocation list."},
    {"name": "internal", "description": "Called by the orders service with service tokens."},
]


def create_app(
    settings: LicenseSettings | None = None, *, http_client: httpx.AsyncClient | None = None
) -> FastAPI:
    """Build the license app; nothing touches the database or the keys before the lifespan."""
    settings = settings or LicenseSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("license", settings.log_level)
        ring = KeyRing(settings.signing_keys_dir, issuer=settings.issuer)
        # Without a key, fail now rather than at the first mint.
        log.info(
            "license signing keys loaded", extra={"kids": ring.kids, "current": ring.current.kid}
        )
        db = Database(settings.database_url, pool_size=settings.database_pool_size)
        heads = head_reader(db)
        http = http_client or create_http_client(settings.http_timeout_seconds)
        # `shared` reads these two for every service (readiness, access tokens).
        service_state(app).started(
            db=db,
            verifier=AccessTokenVerifier.from_settings(settings, "license", http),
        )
        # License reads only the public catalog (live add-ons): it holds no service-token key.
        catalog = CatalogClient(http, settings.catalog_url, None)
        app.state.runtime = LicenseRuntime(
            service=LicenseService(
                UnitsOfWork(db, LicenseUnitOfWork),
                ring=ring,
                issuer=settings.issuer,
                addons=LiveAddons(catalog, ttl_seconds=settings.suggestions_ttl_seconds),
                revocations_ttl=timedelta(seconds=settings.revocations_ttl_seconds),
            ),
            reads=LicenseReads(
                heads,
                ring=ring,
                issuer=settings.issuer,
                bundles=BundleCache(settings.bundle_cache_size),
            ),
            ring=ring,
            heads=heads,
        )
        try:
            yield
        finally:
            if http_client is None:
                await http.aclose()
            await heads.close()
            await db.dispose()

    return create_service_app(
        name="license",
        title="Marketplace licenses",
        description="Signed licenses for application instances: a base license per instance, "
        "a new license per add-on, acceptance, verification online and offline, usage.",
        settings=settings,
        lifespan=lifespan,
        routers=[licenses.router, instances.router, verification.router, internal.router],
        migrations=MIGRATIONS,
        openapi_tags=TAGS,
    )
