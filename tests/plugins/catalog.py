"""Fixtures for catalog tests (a pytest plugin, so other services' tests can use them too)."""

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from services.catalog.api.deps import runtime_of
from services.catalog.db.models import Base
from services.catalog.main import create_app
from services.catalog.settings import CatalogSettings
from tests.catalog.factories import CatalogDriver
from tests.conftest import TestKeys, empty_tables


@pytest.fixture
def catalog_settings(database_url: Callable[[str], str], keys: TestKeys) -> CatalogSettings:
    return CatalogSettings(
        database_url=database_url("catalog"),
        **keys.settings("catalog"),
    )


@pytest.fixture
async def catalog_app(catalog_settings: CatalogSettings) -> AsyncIterator[FastAPI]:
    app = create_app(catalog_settings)
    async with LifespanManager(app):
        await empty_tables(runtime_of(app).db, Base.metadata)
        yield app


@pytest.fixture
async def catalog(catalog_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=catalog_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://catalog.test") as client:
        yield client


@pytest.fixture
def catalog_driver(catalog: httpx.AsyncClient, keys: TestKeys) -> CatalogDriver:
    return CatalogDriver(catalog, keys)
