"""The four services in-process, on one event loop in a thread, for synchronous callers.

Schemathesis and generated clients call from plain (synchronous) test code, while the apps,
their engines and the links between them live on one event loop: `InProcessSystem` owns that
loop (an anyio blocking portal) and sends each request through it. The apps are wired as in
tests/plugins: review, license and orders reach the catalog, orders reaches license, each
through a `ServiceLink` (an ASGI transport).
"""

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from services.catalog.api.deps import runtime_of as catalog_runtime
from services.catalog.db.models import Base as CatalogBase
from services.catalog.main import create_app as create_catalog_app
from services.catalog.settings import CatalogSettings
from services.license.db.models import Base as LicenseBase
from services.license.main import create_app as create_license_app
from services.license.settings import LicenseSettings
from services.orders.settings import OrdersSettings
from services.review.api.deps import runtime_of as review_runtime
from services.review.db.models import Base as ReviewBase
from services.review.main import create_app as create_review_app
from services.review.settings import ReviewSettings
from shared.app import service_state
from tests.conftest import empty_tables
from tests.plugins.orders import ServiceLink, running_orders_app

T = TypeVar("T")

BASE_URLS = {
    "catalog": "http://catalog.test",
    "review": "http://review.test",
    "orders": "http://orders.test",
    "license": "http://license.test",
}


@dataclass(frozen=True)
class SystemSettings:
    catalog: CatalogSettings
    review: ReviewSettings
    license: LicenseSettings
    orders: OrdersSettings


@dataclass
class InProcessSystem:
    """The running apps by service name, and the loop they run on."""

    portal: BlockingPortal
    apps: dict[str, FastAPI]
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)

    def run(self, func: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run `func(*args)` on the apps' loop and wait for its result."""
        return self.portal.call(func, *args)

    def send(self, service: str, request: httpx.Request) -> httpx.Response:
        """Send `request` to `service` in-process; the response is read in full."""
        return self.portal.call(self.clients[service].send, request)


@asynccontextmanager
async def _running(settings: SystemSettings) -> AsyncIterator[dict[str, FastAPI]]:
    async with AsyncExitStack() as stack:
        catalog = create_catalog_app(settings.catalog)
        await stack.enter_async_context(LifespanManager(catalog))
        await empty_tables(catalog_runtime(catalog).db, CatalogBase.metadata)

        to_catalog = await stack.enter_async_context(
            httpx.AsyncClient(transport=ServiceLink(catalog, "catalog"))
        )
        review = create_review_app(settings.review, http_client=to_catalog)
        await stack.enter_async_context(LifespanManager(review))
        await empty_tables(review_runtime(review).db, ReviewBase.metadata)

        license = create_license_app(settings.license, http_client=to_catalog)
        await stack.enter_async_context(LifespanManager(license))
        await empty_tables(service_state(license).db, LicenseBase.metadata)

        orders = await stack.enter_async_context(
            running_orders_app(
                settings.orders, ServiceLink(catalog, "catalog"), ServiceLink(license, "license")
            )
        )
        yield {"catalog": catalog, "review": review, "orders": orders, "license": license}


@asynccontextmanager
async def _clients(apps: dict[str, FastAPI]) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    async with AsyncExitStack() as stack:
        clients = {
            name: await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URLS[name])
            )
            for name, app in apps.items()
        }
        yield clients


@contextmanager
def in_process_system(settings: SystemSettings) -> Iterator[InProcessSystem]:
    """Start the four apps on a loop of their own; stop them (and it) on exit."""
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(_running(settings)) as apps,
        portal.wrap_async_context_manager(_clients(apps)) as clients,
    ):
        yield InProcessSystem(portal, apps, clients)
