"""Fixtures for orders tests: the real orders, license and catalog apps, in-process.

    orders --orders_catalog_link--> catalog <--license_catalog_link-- license
       \\-----------license_link------------------------------------------^

Each arrow is a `ServiceLink`, an ASGI transport that can be cut to play a service that is
down. The relays don't run on their own (`outbox_poll_seconds` is an hour): tests drive the
orders outbox with `drain_outbox(app)`. Fixture names are prefixed (`orders_license_app`)
so they never shadow the license service's own test fixtures.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import func, select, update

from services.license.db.models import Base as LicenseBase
from services.license.keyring import create_signing_key
from services.license.main import create_app as create_license_app
from services.license.settings import LicenseSettings
from services.orders.db.models import Base as OrdersBase
from services.orders.main import create_app as create_orders_app
from services.orders.payments import PaymentProvider
from services.orders.settings import OrdersSettings
from shared.app import service_state
from shared.clock import utcnow
from shared.outbox import Outbox
from tests.conftest import TestKeys, empty_tables

CATALOG_URL = "http://catalog.test"
LICENSE_URL = "http://license.test"
ORDERS_URL = "http://orders.test"


class ServiceLink(httpx.AsyncBaseTransport):
    """An ASGI transport to an in-process app that can be switched off (connection refused)."""

    def __init__(self, app: FastAPI, name: str) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.name = name
        self.up = True
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if not self.up:
            raise httpx.ConnectError(f"{self.name} is down", request=request)
        return await self.inner.handle_async_request(request)


class HostRouter(httpx.AsyncBaseTransport):
    """Sends each request to the transport of its host (`catalog.test`, `license.test`)."""

    def __init__(self, routes: dict[str, httpx.AsyncBaseTransport]) -> None:
        self.routes = routes

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.routes[request.url.host].handle_async_request(request)


async def drain_outbox(app: FastAPI) -> int:
    """Deliver every entry of the app's outbox that can be delivered now, as if time passed.

    Passes go on while they deliver something; returns how many entries are still pending
    (their service is still down).
    """
    relay = service_state(app).outbox
    assert relay is not None
    c = relay.table.c
    while True:
        async with relay.sessionmaker() as session, session.begin():
            await session.execute(
                update(relay.table)
                .where(c.delivered_at.is_(None), c.failed_at.is_(None))
                .values(available_at=utcnow())
            )
        before = await _delivered(relay)
        if await relay.run_once() == 0 or await _delivered(relay) == before:
            return await relay.pending_count()


async def _delivered(relay: Outbox) -> int:
    c = relay.table.c
    async with relay.sessionmaker() as session, session.begin():
        query = select(func.count()).select_from(relay.table).where(c.delivered_at.is_not(None))
        return int((await session.execute(query)).scalar_one())


# -- license ---------------------------------------------------------------------------------


@pytest.fixture
def license_catalog_link(catalog_app: FastAPI) -> ServiceLink:
    return ServiceLink(catalog_app, "catalog")


@pytest.fixture
def orders_license_settings(
    database_url: Callable[[str], str], keys: TestKeys, tmp_path: Path
) -> LicenseSettings:
    folder = tmp_path / "license-keys"
    create_signing_key(folder)
    return LicenseSettings(
        database_url=database_url("license"),
        **keys.settings("license"),
        signing_keys_dir=folder,
        catalog_url=CATALOG_URL,
    )


@pytest.fixture
async def orders_license_app(
    orders_license_settings: LicenseSettings, license_catalog_link: ServiceLink
) -> AsyncIterator[FastAPI]:
    async with httpx.AsyncClient(transport=license_catalog_link) as http:
        app = create_license_app(orders_license_settings, http_client=http)
        async with LifespanManager(app):
            await empty_tables(service_state(app).db, LicenseBase.metadata)
            yield app


@pytest.fixture
async def orders_license(orders_license_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the license app that orders talks to (as a customer or partner would)."""
    transport = httpx.ASGITransport(app=orders_license_app)
    async with httpx.AsyncClient(transport=transport, base_url=LICENSE_URL) as client:
        yield client


# -- orders ----------------------------------------------------------------------------------


@pytest.fixture
def orders_catalog_link(catalog_app: FastAPI) -> ServiceLink:
    return ServiceLink(catalog_app, "catalog")


@pytest.fixture
def license_link(orders_license_app: FastAPI) -> ServiceLink:
    return ServiceLink(orders_license_app, "license")


@pytest.fixture
def orders_settings(database_url: Callable[[str], str], keys: TestKeys) -> OrdersSettings:
    return OrdersSettings(
        database_url=database_url("orders"),
        **keys.settings("orders"),
        catalog_url=CATALOG_URL,
        license_url=LICENSE_URL,
        outbox_poll_seconds=3600,  # tests drive the relay themselves (drain_outbox)
    )


@asynccontextmanager
async def running_orders_app(
    settings: OrdersSettings,
    catalog: httpx.AsyncBaseTransport,
    license: httpx.AsyncBaseTransport,
    *,
    payment_provider: PaymentProvider | None = None,
    empty: bool = True,
) -> AsyncIterator[FastAPI]:
    """An orders app (lifespan started) reaching catalog and license through the transports.

    `empty=False` keeps the rows, to play a restart of the service.
    """
    router = HostRouter({"catalog.test": catalog, "license.test": license})
    async with httpx.AsyncClient(transport=router) as http:
        app = create_orders_app(settings, http_client=http, payment_provider=payment_provider)
        async with LifespanManager(app):
            if empty:
                await empty_tables(service_state(app).db, OrdersBase.metadata)
            yield app


@pytest.fixture
async def orders_app(
    orders_settings: OrdersSettings, orders_catalog_link: ServiceLink, license_link: ServiceLink
) -> AsyncIterator[FastAPI]:
    async with running_orders_app(orders_settings, orders_catalog_link, license_link) as app:
        yield app


@pytest.fixture
async def orders(orders_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=orders_app)
    async with httpx.AsyncClient(transport=transport, base_url=ORDERS_URL) as client:
        yield client
