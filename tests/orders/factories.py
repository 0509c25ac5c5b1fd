"""Typed helpers for orders tests: request bodies, a live listing, and drivers that walk the
orders and license APIs as a customer and a partner."""

from dataclasses import dataclass
from typing import Any

import httpx

from tests.catalog.factories import CatalogDriver
from tests.conftest import TestKeys

CUSTOMER = "globex"
OTHER_CUSTOMER = "initech"
PARTNER = "acme"
MONTHLY = {"unit": "month", "count": 1}
YEARLY = {"unit": "year", "count": 1}


def new_order(product_id: str, plan_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "new",
        "product_id": product_id,
        "plan_id": plan_id,
        "cycle": MONTHLY,
    }
    return {**body, **overrides}


def addon_order(instance_id: str, addon_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "addon",
        "instance_id": instance_id,
        "addon_id": addon_id,
        "cycle": MONTHLY,
    }
    return {**body, **overrides}


@dataclass(frozen=True)
class Listing:
    """A live product: its id, its plan (4900/month, 49000/year, 100 devices) and its add-on
    (+100 devices at 1900/month, at most 10 packs)."""

    product_id: str
    plan_id: str
    addon_id: str


async def publish(catalog: CatalogDriver, **product: Any) -> Listing:
    """A product with one plan and one add-on, made live (`product` overrides its fields)."""
    created, plan, addon = await catalog.listing(**product)
    await catalog.go_live(created["id"])
    return Listing(created["id"], plan["id"], addon["id"])


async def republish(catalog: CatalogDriver, product_id: str, submission_id: str) -> None:
    """Make the draft's current state the live revision (after edits)."""
    await catalog.go_live(product_id, submission_id)


class OrdersDriver:
    """Calls the orders API as a customer (`globex` by default) or a partner (`acme`)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        keys: TestKeys,
        customer: str = CUSTOMER,
        partner: str = PARTNER,
    ) -> None:
        self.client = client
        self.keys = keys
        self.customer = customer
        self.partner = partner

    def as_customer(self, customer: str | None = None, key: str | None = None) -> dict[str, str]:
        headers = self.keys.headers("customer", customer or self.customer)
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    def as_partner(self, partner: str | None = None, key: str | None = None) -> dict[str, str]:
        headers = self.keys.headers("partner", partner or self.partner)
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    async def create(
        self,
        body: dict[str, Any],
        *,
        key: str | None = None,
        customer: str | None = None,
        dry_run: bool = False,
    ) -> httpx.Response:
        return await self.client.post(
            "/v1/orders",
            json=body,
            params={"dry_run": "true"} if dry_run else None,
            headers=self.as_customer(customer, key),
        )

    async def placed(self, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        response = await self.create(body, **kwargs)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def pay(
        self, order_id: str, *, key: str | None = None, customer: str | None = None
    ) -> httpx.Response:
        return await self.client.post(
            f"/v1/orders/{order_id}/pay", headers=self.as_customer(customer, key)
        )

    async def paid(self, order_id: str) -> dict[str, Any]:
        """Pay and expect the order fulfilled at once (200)."""
        response = await self.pay(order_id)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def cancel(self, order_id: str, customer: str | None = None) -> httpx.Response:
        return await self.client.post(
            f"/v1/orders/{order_id}/cancel", headers=self.as_customer(customer)
        )

    async def accept(self, order_id: str, customer: str | None = None) -> httpx.Response:
        return await self.client.post(
            f"/v1/orders/{order_id}/accept", headers=self.as_customer(customer)
        )

    async def refund(
        self,
        order_id: str,
        amount_minor: int,
        reason: str = "Not what the customer needed.",
        *,
        key: str | None = None,
        partner: str | None = None,
    ) -> httpx.Response:
        return await self.client.post(
            f"/v1/orders/{order_id}/refund",
            json={"amount_minor": amount_minor, "reason": reason},
            headers=self.as_partner(partner, key),
        )

    async def get(self, order_id: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        response = await self.client.get(
            f"/v1/orders/{order_id}", headers=headers or self.as_customer()
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def instance(
        self, instance_id: str, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        response = await self.client.get(
            f"/v1/instances/{instance_id}", headers=headers or self.as_customer()
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def buy_instance(self, listing: Listing, **overrides: Any) -> dict[str, Any]:
        """Order and pay a new instance on the listing's plan; the order after payment."""
        order = await self.placed(new_order(listing.product_id, listing.plan_id, **overrides))
        return await self.paid(order["id"])

    async def buy_addon(
        self, instance_id: str, listing: Listing, **overrides: Any
    ) -> dict[str, Any]:
        """Order and pay packs of the listing's add-on; the order after payment."""
        order = await self.placed(addon_order(instance_id, listing.addon_id, **overrides))
        return await self.paid(order["id"])


class LicenseReader:
    """Reads the license service as the customer would (and verifies tokens publicly)."""

    def __init__(self, client: httpx.AsyncClient, keys: TestKeys, customer: str = CUSTOMER):
        self.client = client
        self.keys = keys
        self.customer = customer

    @property
    def auth(self) -> dict[str, str]:
        return self.keys.headers("customer", self.customer)

    async def license(self, license_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/v1/licenses/{license_id}", headers=self.auth)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def entitlement(self, instance_id: str) -> dict[str, int]:
        response = await self.client.get(
            f"/v1/instances/{instance_id}/entitlement", headers=self.auth
        )
        assert response.status_code == 200, response.text
        return dict(response.json()["entitlements"])

    async def licenses(self, instance_id: str) -> list[dict[str, Any]]:
        response = await self.client.get(
            f"/v1/instances/{instance_id}/licenses", params={"limit": 100}, headers=self.auth
        )
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    async def verify(self, token: str) -> str:
        response = await self.client.post("/v1/verify", json={"token": token})
        assert response.status_code == 200, response.text
        return str(response.json()["code"])
