"""The typed catalog client (what review, orders and license use) against the real app."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from services.catalog.client import CatalogClient
from shared.auth import ServiceTokenSource
from shared.http import UpstreamProblem, UpstreamUnavailableError
from tests.catalog.factories import CatalogDriver
from tests.conftest import TestKeys


@pytest.fixture
async def client(catalog_app: FastAPI, keys: TestKeys) -> AsyncIterator[CatalogClient]:
    tokens = ServiceTokenSource(keys.services["review"].private, service_name="review")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=catalog_app)) as http:
        yield CatalogClient(http, "http://catalog.test", tokens)


async def test_freeze_publish_and_read_live(
    client: CatalogClient, catalog_driver: CatalogDriver
) -> None:
    product, plan, addon = await catalog_driver.listing()

    frozen = await client.freeze(product["id"], partner_id="acme", submission_id="sub_a")
    again = await client.freeze(product["id"], partner_id="acme", submission_id="sub_a")
    published = await client.publish(product["id"], frozen.revision)
    live = await client.get_live_product(product["id"])

    assert frozen.revision == again.revision == published.revision == 1
    assert live.plan(plan["id"]) is not None
    assert live.addon(addon["id"]) is not None
    assert live.addon(addon["id"]).compatible_with(plan["id"])  # type: ignore[union-attr]
    monthly = live.plan(plan["id"]).price_for("month", 1)  # type: ignore[union-attr]
    assert monthly is not None
    assert monthly.amount_minor == 4900


async def test_refusals_carry_the_upstream_code(
    client: CatalogClient, catalog_driver: CatalogDriver
) -> None:
    product = await catalog_driver.product()

    with pytest.raises(UpstreamProblem) as invalid:
        await client.freeze(product["id"], partner_id="acme", submission_id="sub_b")
    with pytest.raises(UpstreamProblem) as missing:
        await client.get_live_product(product["id"])

    assert invalid.value.upstream_code == "draft_invalid"
    assert any(e.type == "no_plan" for e in invalid.value.upstream_errors)
    assert (missing.value.upstream_status, missing.value.upstream_code) == (
        404,
        "product_not_found",
    )


async def test_unreachable_catalog_is_upstream_unavailable() -> None:
    async with httpx.AsyncClient(timeout=1) as http:
        client = CatalogClient(http, "http://127.0.0.1:9", None)
        with pytest.raises(UpstreamUnavailableError):
            await client.get_live_product("prd_x")
