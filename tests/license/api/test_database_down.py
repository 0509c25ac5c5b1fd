"""With its database out of reach, every license route answers 503 `unavailable`, never 500.

The outages are real: a PostgreSQL URL nobody listens on, a SQLite file whose folder is gone
(the hot reads open their own aiosqlite connection), and on PostgreSQL a database dropped under
a running app whose engine and head pool are both warm.
"""

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from harness.databases import run_on_server
from harness.processes import free_port
from services.license.main import MIGRATIONS, create_app
from services.license.settings import LicenseSettings
from shared.db import upgrade
from tests.conftest import POSTGRES_URL, TestKeys
from tests.databases import fresh_database
from tests.license.factories import LicenseDriver
from tests.shared.outage import assert_unavailable, failing_sqlite_connects, watching_logs


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://down.test") as client:
            yield client


def the_routes(base: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """The hot reads (their own head readers) and routes that go through the engine."""
    return [
        ("GET", f"/v1/instances/{base['instance_id']}/entitlement", {}),
        ("POST", "/v1/verify", {"json": {"token": base["token"]}}),
        ("GET", f"/v1/licenses/{base['id']}", {}),
        ("GET", "/v1/revocations", {}),
        ("GET", "/readyz", {}),
    ]


async def assert_every_route_unavailable(
    down: LicenseDriver, base: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    for method, path, options in the_routes(base):
        caplog.clear()
        with watching_logs(caplog):
            response = await down.client.request(method, path, headers=down.customer, **options)
        if path == "/readyz":
            assert response.status_code == 503
            assert response.json()["code"] == "unavailable"
            assert int(response.headers["retry-after"]) > 0
        else:
            assert_unavailable(response, caplog)


async def test_a_database_nobody_listens_on(
    lic: LicenseDriver,
    license_settings: LicenseSettings,
    catalog_http: httpx.AsyncClient,
    keys: TestKeys,
    caplog: pytest.LogCaptureFixture,
) -> None:
    base = await lic.base()
    nobody_listens = f"postgresql+asyncpg://market@127.0.0.1:{free_port()}/market"
    settings = license_settings.model_copy(update={"database_url": nobody_listens})

    async with running(create_app(settings, http_client=catalog_http)) as client:
        await assert_every_route_unavailable(LicenseDriver(client, keys), base, caplog)


async def test_a_sqlite_database_whose_folder_is_gone(
    lic: LicenseDriver,
    license_settings: LicenseSettings,
    catalog_http: httpx.AsyncClient,
    keys: TestKeys,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    base = await lic.base()
    folder = tmp_path / "data"
    url = f"sqlite+aiosqlite:///{folder / 'license.db'}"
    await upgrade(MIGRATIONS, url)
    settings = license_settings.model_copy(update={"database_url": url})

    async with running(create_app(settings, http_client=catalog_http)) as client:
        shutil.rmtree(folder)
        async with failing_sqlite_connects():
            await assert_every_route_unavailable(LicenseDriver(client, keys), base, caplog)


@pytest.mark.skipif(not POSTGRES_URL, reason="drops a PostgreSQL database")
async def test_a_database_dropped_under_warm_pools(
    license_settings: LicenseSettings,
    catalog_http: httpx.AsyncClient,
    keys: TestKeys,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with fresh_database("license_dropped", tmp_path) as url:
        await upgrade(MIGRATIONS, url)
        settings = license_settings.model_copy(update={"database_url": url})
        async with running(create_app(settings, http_client=catalog_http)) as client:
            driver = LicenseDriver(client, keys)
            base = await driver.base()
            # Both pools hold open sessions: the engine's (the mint) and the head pool's.
            assert (await driver.verify(base["token"]))["code"] == "VALID"
            assert (await driver.entitlement(base["instance_id"])).status_code == 200

            await drop(url)

            await assert_every_route_unavailable(driver, base, caplog)


async def drop(url: str) -> None:
    database = url.rsplit("/", 1)[1]
    await run_on_server(url, f'DROP DATABASE "{database}" WITH (FORCE)')


def test_the_503_is_documented_on_the_hot_reads(license_app: FastAPI) -> None:
    paths = license_app.openapi()["paths"]
    for path, method in [
        ("/v1/instances/{instance_id}/entitlement", "get"),
        ("/v1/verify", "post"),
    ]:
        examples = paths[path][method]["responses"]["503"]["content"]["application/problem+json"][
            "examples"
        ]
        assert "unavailable" in examples
