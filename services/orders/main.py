"""The orders app: `create_app(settings)`; uvicorn runs it with `--factory`.

`http_client` is the injection point for the outgoing HTTP client (tests pass one that reaches
in-process catalog and license apps); `payment_provider` replaces the one the settings name.
The outbox relay starts with the app, so entries committed before a crash or restart (a paid
order still to fulfil, a revocation still to deliver) are delivered once it is back.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

from services.catalog.client import CatalogClient
from services.license.client import LicenseClient
from services.orders.api import instances, orders, payments
from services.orders.api.deps import OrdersRuntime
from services.orders.db.models import idempotency_records, outbox
from services.orders.db.uow import OrdersUnitOfWork
from services.orders.payments import PaymentProvider, provider_named
from services.orders.service import ACCEPT, FULFIL, REFUND, RESUME, REVOKE, OrderService
from services.orders.settings import OrdersSettings
from shared.app import create_service_app, service_state
from shared.auth import AccessTokenVerifier, ServiceTokenSource
from shared.db import Database
from shared.http import create_http_client
from shared.idempotency import IdempotencyStore
from shared.observability import configure_logging
from shared.outbox import Outbox
from shared.uow import UnitsOfWork

MIGRATIONS = Path(__file__).parent / "migrations"
PAY_WAIT_MARGIN_SECONDS = 2.0

TAGS = [
    {
        "name": "orders",
        "description": "Buy a plan (a new instance) or add-on packs for an instance; pay, "
        "cancel, accept, refund.",
    },
    {"name": "payments", "description": "The payment providers' signed webhook."},
    {
        "name": "instances",
        "description": "Application instances with their licenses and current entitlement.",
    },
]


def create_app(
    settings: OrdersSettings | None = None,
    *,
    http_client: httpx.AsyncClient | None = None,
    payment_provider: PaymentProvider | None = None,
) -> FastAPI:
    """Build the orders app; nothing touches the database before the lifespan starts."""
    settings = settings or OrdersSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("orders", settings.log_level)
        db = Database(settings.database_url, pool_size=settings.database_pool_size)
        http = http_client or create_http_client(settings.http_timeout_seconds)
        tokens = ServiceTokenSource.from_file(
            settings.service_token_key_file, service_name="orders"
        )
        relay = Outbox(
            outbox,
            db.sessionmaker,
            poll_seconds=settings.outbox_poll_seconds,
            max_delay_seconds=settings.outbox_max_delay_seconds,
            metrics=service_state(app).metrics,
        )
        service = OrderService(
            UnitsOfWork(db, OrdersUnitOfWork, relay),
            CatalogClient(http, settings.catalog_url, tokens),
            LicenseClient(http, settings.license_url, tokens),
            relay,
            payment_provider or provider_named(settings.payment_provider, db.sessionmaker),
            payment_resume_seconds=settings.payment_resume_seconds,
        )
        relay.register(FULFIL, service.fulfil)
        relay.register(ACCEPT, service.deliver_accept)
        relay.register(REVOKE, service.deliver_revoke)
        relay.register(REFUND, service.deliver_refund)
        relay.register(RESUME, service.resume_payment)
        service_state(app).started(
            db=db,
            verifier=AccessTokenVerifier.from_settings(settings, "orders", http),
            outbox=relay,
        )
        app.state.runtime = OrdersRuntime(
            settings=settings,
            orders=service,
            idempotency=IdempotencyStore(idempotency_records, db.sessionmaker),
            # Pay can be finished by a retry that takes over its key: a short lease, and a
            # wait that outlasts it, so a retry after a crash gets its answer, not a 409.
            pay_idempotency=IdempotencyStore(
                idempotency_records,
                db.sessionmaker,
                lease_seconds=settings.pay_lease_seconds,
                wait_seconds=settings.pay_lease_seconds + PAY_WAIT_MARGIN_SECONDS,
            ),
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
        name="orders",
        title="Marketplace orders",
        description="Orders for plans (new application instances) and add-on packs, priced "
        "from the live catalog; payments, fulfilment through the license service, acceptance, "
        "refunds during the guarantee period, and the instances customers run.",
        settings=settings,
        lifespan=lifespan,
        routers=[orders.router, payments.router, instances.router],
        migrations=MIGRATIONS,
        openapi_tags=TAGS,
    )
