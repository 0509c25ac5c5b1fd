"""Typed factories for catalog tests: request bodies and short API journeys."""

from typing import Any

import httpx

from tests.conftest import TestKeys

PARTNER = "acme"


def product_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "product_type": "marketplace",
        "name": "FleetOTA",
        "category": "automotive",
        "description": "Over-the-air updates for connected vehicles.",
        "billing_mode": "online",
        "requires_acceptance": True,
        "acceptance_days": 14,
    }
    return {**body, **overrides}


def price(amount: int = 4900, currency: str = "EUR") -> dict[str, Any]:
    return {"amount_minor": amount, "currency": currency}


def plan_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Standard",
        "subscription_method": "subscription",
        "cycles": [
            {"unit": "month", "count": 1, "price": price(4900)},
            {"unit": "year", "count": 1, "price": price(49000)},
        ],
        "entitlements": {"devices": 100},
    }
    return {**body, **overrides}


def addon_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "+100 devices",
        "subscription_method": "subscription",
        "cycles": [{"unit": "month", "count": 1, "price": price(1900)}],
        "entitlements": {"devices": 100},
    }
    return {**body, **overrides}


class CatalogDriver:
    """Walks the catalog API as a partner (and as review, for the internal calls)."""

    def __init__(self, client: httpx.AsyncClient, keys: TestKeys, partner: str = PARTNER) -> None:
        self.client = client
        self.keys = keys
        self.partner = partner

    @property
    def auth(self) -> dict[str, str]:
        return self.keys.headers("partner", self.partner)

    @property
    def service(self) -> dict[str, str]:
        return self.keys.headers("service", "review")

    async def product(self, **overrides: Any) -> dict[str, Any]:
        response = await self.client.post(
            "/v1/products", json=product_body(**overrides), headers=self.auth
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def plan(self, product_id: str, **overrides: Any) -> dict[str, Any]:
        response = await self.client.post(
            f"/v1/products/{product_id}/draft/plans", json=plan_body(**overrides), headers=self.auth
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def addon(self, product_id: str, **overrides: Any) -> dict[str, Any]:
        response = await self.client.post(
            f"/v1/products/{product_id}/draft/addons",
            json=addon_body(**overrides),
            headers=self.auth,
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def listing(
        self, **overrides: Any
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """A product with one plan and one add-on, ready to submit."""
        product = await self.product(**overrides)
        plan = await self.plan(product["id"])
        addon = await self.addon(product["id"])
        return product, plan, addon

    async def freeze(self, product_id: str, submission_id: str = "sub_1") -> httpx.Response:
        return await self.client.post(
            f"/v1/internal/products/{product_id}/freeze",
            json={"partner_id": self.partner, "submission_id": submission_id},
            headers=self.service,
        )

    async def publish(self, product_id: str, revision: int) -> httpx.Response:
        return await self.client.post(
            f"/v1/internal/products/{product_id}/revisions/{revision}/publish", headers=self.service
        )

    async def unlock(self, product_id: str, submission_id: str = "sub_1") -> httpx.Response:
        return await self.client.post(
            f"/v1/internal/products/{product_id}/unlock",
            json={"submission_id": submission_id},
            headers=self.service,
        )

    async def go_live(self, product_id: str, submission_id: str = "sub_1") -> int:
        frozen = await self.freeze(product_id, submission_id)
        assert frozen.status_code == 200, frozen.text
        revision = int(frozen.json()["revision"])
        published = await self.publish(product_id, revision)
        assert published.status_code == 200, published.text
        return revision
