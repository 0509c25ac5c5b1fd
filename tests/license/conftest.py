"""Fixtures for license tests: the real app, in-process, on a migrated database.

The license app reaches the catalog through `catalog_http`: by default a client for which the
catalog is down; tests of suggestions override it with one that reaches the catalog app
in-process (see `tests/license/api/test_usage.py`).
"""

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from services.catalog.db.models import Base as CatalogBase
from services.catalog.main import create_app as create_catalog_app
from services.catalog.settings import CatalogSettings
from services.license.api.deps import runtime_of
from services.license.client import LicenseClient
from services.license.db.models import Base
from services.license.keyring import KeyRing, create_signing_key
from services.license.main import create_app
from services.license.settings import LicenseSettings
from shared.app import service_state
from shared.auth import ServiceTokenSource
from tests.conftest import TestKeys, empty_tables
from tests.license.factories import LicenseDriver

CATALOG_URL = "http://catalog.test"


@pytest.fixture
async def catalog_app(database_url: Callable[[str], str], keys: TestKeys) -> AsyncIterator[FastAPI]:
    settings = CatalogSettings(
        database_url=database_url("catalog"),
        **keys.settings("catalog"),
    )
    app = create_catalog_app(settings)
    async with LifespanManager(app):
        await empty_tables(service_state(app).db, CatalogBase.metadata)
        yield app


@pytest.fixture
async def catalog(catalog_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=catalog_app)
    async with httpx.AsyncClient(transport=transport, base_url=CATALOG_URL) as client:
        yield client


@pytest.fixture
def signing_keys_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "license-keys"
    create_signing_key(folder)
    return folder


@pytest.fixture
def license_settings(
    database_url: Callable[[str], str], keys: TestKeys, signing_keys_dir: Path
) -> LicenseSettings:
    return LicenseSettings(
        database_url=database_url("license"),
        **keys.settings("license"),
        signing_keys_dir=signing_keys_dir,
        catalog_url=CATALOG_URL,
    )


def _refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


@pytest.fixture
async def catalog_http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(_refuse)) as client:
        yield client


@pytest.fixture
async def license_app(
    license_settings: LicenseSettings, catalog_http: httpx.AsyncClient
) -> AsyncIterator[FastAPI]:
    app = create_app(license_settings, http_client=catalog_http)
    async with LifespanManager(app):
        await empty_tables(service_state(app).db, Base.metadata)
        yield app


@pytest.fixture
async def license_client(license_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=license_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://license.test") as client:
        yield client


@pytest.fixture
def ring(license_app: FastAPI) -> KeyRing:
    return runtime_of(license_app).ring


@pytest.fixture
def lic(license_client: httpx.AsyncClient, keys: TestKeys) -> LicenseDriver:
    return LicenseDriver(license_client, keys)


@pytest.fixture
async def orders(license_app: FastAPI, keys: TestKeys) -> AsyncIterator[LicenseClient]:
    """The typed client as orders uses it (its own service token), against the app."""
    tokens = ServiceTokenSource(keys.services["orders"].private, service_name="orders")
    transport = httpx.ASGITransport(app=license_app)
    async with httpx.AsyncClient(transport=transport) as http:
        yield LicenseClient(http, "http://license.test", tokens)
