"""CORS for storefront front ends: `<SVC>_CORS_ORIGINS` lists the origins a browser may call from.

Shown on the catalog (every service shares the middleware through shared/app.py); nothing here
touches a database, so the app is never started.
"""

from collections.abc import AsyncIterator

import httpx
import pytest

from services.catalog.main import create_app
from services.catalog.settings import CatalogSettings

STOREFRONT = "https://shop.example.com"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
}


async def _client(origins: list[str]) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        CatalogSettings(database_url="sqlite+aiosqlite:///:memory:", cors_origins=origins)
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://catalog.test") as client:
        yield client


@pytest.fixture
async def catalog() -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client([STOREFRONT]):
        yield client


async def test_a_preflight_from_an_allowed_origin_is_answered(catalog: httpx.AsyncClient) -> None:
    response = await catalog.options("/v1/products", headers={"Origin": STOREFRONT, **PREFLIGHT})

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == STOREFRONT
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "idempotency-key"} <= {
        h.strip() for h in allowed.split(",")
    }


async def test_a_preflight_from_another_origin_gets_no_cors_headers(
    catalog: httpx.AsyncClient,
) -> None:
    response = await catalog.options(
        "/v1/products", headers={"Origin": "https://evil.example.net", **PREFLIGHT}
    )

    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_a_simple_request_from_an_allowed_origin_may_read_the_request_id(
    catalog: httpx.AsyncClient,
) -> None:
    response = await catalog.get("/healthz", headers={"Origin": STOREFRONT})

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == STOREFRONT
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()


async def test_without_origins_configured_there_is_no_cors() -> None:
    async for catalog in _client([]):
        response = await catalog.options(
            "/v1/products", headers={"Origin": STOREFRONT, **PREFLIGHT}
        )

        assert "access-control-allow-origin" not in response.headers
        assert response.status_code == 405
