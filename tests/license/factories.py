"""Typed factories for license tests: mint bodies and a driver that walks the license API."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from shared.ids import new_id
from tests.conftest import TestKeys

PARTNER = "acme"
CUSTOMER = "globex"
PRODUCT = "prd_fleetota0000000000000001"
PLAN = "pln_standard000000000000001"
ADDON = "add_devices00000000000000001"


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def base_body(**overrides: Any) -> dict[str, Any]:
    start = now()
    body: dict[str, Any] = {
        "order_id": new_id("ord"),
        "instance_id": new_id("ins"),
        "customer_id": CUSTOMER,
        "partner_id": PARTNER,
        "product_id": PRODUCT,
        "level": "base",
        "plan_id": PLAN,
        "quantity": 1,
        "entitlements": {"devices": 100},
        "valid_from": start.isoformat(),
        "valid_until": (start + timedelta(days=30)).isoformat(),
        "requires_acceptance": False,
        "acceptance_days": 7,
    }
    return {**body, **overrides}


def addon_body(instance_id: str, **overrides: Any) -> dict[str, Any]:
    body = base_body(instance_id=instance_id, level="addon", plan_id=None, addon_id=ADDON)
    del body["plan_id"]
    body["quantity"] = 2
    body["entitlements"] = {"devices": 200}
    return {**body, **overrides}


class LicenseDriver:
    """Calls the license API as orders (service token), a customer or a partner."""

    def __init__(self, client: httpx.AsyncClient, keys: TestKeys) -> None:
        self.client = client
        self.keys = keys

    @property
    def service(self) -> dict[str, str]:
        return self.keys.headers("service", "orders")

    @property
    def customer(self) -> dict[str, str]:
        return self.keys.headers("customer", CUSTOMER)

    @property
    def partner(self) -> dict[str, str]:
        return self.keys.headers("partner", PARTNER)

    def as_(self, role: str, sub: str) -> dict[str, str]:
        return self.keys.headers(role, sub)

    async def mint_response(self, body: dict[str, Any]) -> httpx.Response:
        return await self.client.post("/v1/internal/licenses", json=body, headers=self.service)

    async def mint(self, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.mint_response(body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def base(self, **overrides: Any) -> dict[str, Any]:
        return await self.mint(base_body(**overrides))

    async def addon(self, instance_id: str, **overrides: Any) -> dict[str, Any]:
        return await self.mint(addon_body(instance_id, **overrides))

    async def get(self, license_id: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.client.get(f"/v1/licenses/{license_id}", headers=headers or self.customer)

    async def entitlement(
        self, instance_id: str, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.client.get(
            f"/v1/instances/{instance_id}/entitlement", headers=headers or self.customer
        )

    async def accept(self, order_id: str, **body: Any) -> httpx.Response:
        return await self.client.post(
            f"/v1/internal/orders/{order_id}/license/accept", json=body, headers=self.service
        )

    async def revoke(self, order_id: str, reason: str = "refund") -> httpx.Response:
        return await self.client.post(
            f"/v1/internal/orders/{order_id}/license/revoke",
            json={"reason": reason},
            headers=self.service,
        )

    async def extend(
        self, license_id: str, until: datetime, reason: str = "more time", **headers: str
    ) -> httpx.Response:
        return await self.client.post(
            f"/v1/licenses/{license_id}/acceptance-extensions",
            json={"until": until.isoformat(), "reason": reason},
            headers=headers or self.partner,
        )

    async def verify(self, token: str) -> dict[str, Any]:
        response = await self.client.post("/v1/verify", json={"token": token})
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def jwks(self) -> dict[str, Any]:
        response = await self.client.get("/.well-known/jwks.json")
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def revocations(self) -> dict[str, Any]:
        response = await self.client.get("/v1/revocations")
        assert response.status_code == 200, response.text
        return dict(response.json())
