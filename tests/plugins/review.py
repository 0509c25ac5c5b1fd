"""Fixtures for review tests: the real review app, talking to the real catalog app in-process.

`catalog_link` sits between them and can be cut, to play a catalog that is down.
"""

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from services.review.api.deps import runtime_of
from services.review.db.models import Base
from services.review.main import create_app
from services.review.settings import ReviewSettings
from tests.conftest import TestKeys, empty_tables
from tests.review.factories import ReviewDriver


class CatalogLink(httpx.AsyncBaseTransport):
    """An ASGI transport to the catalog app that can be switched off (connection refused)."""

    def __init__(self, app: FastAPI) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.up = True
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if not self.up:
            raise httpx.ConnectError("catalog is down", request=request)
        return await self.inner.handle_async_request(request)


@pytest.fixture
def catalog_link(catalog_app: FastAPI) -> CatalogLink:
    return CatalogLink(catalog_app)


@pytest.fixture
def review_settings(database_url: Callable[[str], str], keys: TestKeys) -> ReviewSettings:
    return ReviewSettings(
        database_url=database_url("review"),
        **keys.settings("review"),
        catalog_url="http://catalog.test",
        outbox_poll_seconds=3600,  # tests drive the relay themselves (run_once)
    )


@pytest.fixture
async def review_app(
    review_settings: ReviewSettings, catalog_link: CatalogLink
) -> AsyncIterator[FastAPI]:
    async with httpx.AsyncClient(transport=catalog_link) as http:
        app = create_app(review_settings, http_client=http)
        async with LifespanManager(app):
            await empty_tables(runtime_of(app).db, Base.metadata)
            yield app


@pytest.fixture
async def review(review_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=review_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://review.test") as client:
        yield client


@pytest.fixture
def review_driver(review: httpx.AsyncClient, keys: TestKeys) -> ReviewDriver:
    return ReviewDriver(review, keys)
