"""The typed client other services (orders) use to call the license service.

Its models are the wire contract as callers need it (unknown fields are ignored, so the
license service may add fields without breaking them). Callers import only this module from
the license service.

The field types of what callers send (`Reason`, `Subject`, `ObjectId`, `Dimension`) are
defined once, here or where this module takes them from: the license API validates with the
same types, so orders can refuse at its own edge whatever license would refuse (a refund's
reason becomes the revocation's reason).
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from services.catalog.client import MAX_ENTITLEMENT as MAX_ENTITLEMENT_PER_PACK
from services.catalog.client import Dimension
from shared.http import ServiceClient, UpstreamProblem
from shared.text import TEXT, ObjectId, Subject

__all__ = [
    "MAX_ENTITLEMENT",
    "MAX_QUANTITY",
    "Dimension",
    "Entitlement",
    "License",
    "LicenseClient",
    "ObjectId",
    "Reason",
    "RevokeRequest",
    "Subject",
    "UpstreamProblem",
]

# Packs of an add-on in one license; its entitlements are the add-on's increments times this.
MAX_QUANTITY = 1000
MAX_ENTITLEMENT = MAX_ENTITLEMENT_PER_PACK * MAX_QUANTITY

Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), TEXT
]
"""Why a license was revoked or its deadline extended: text, line breaks allowed."""

# Enough pages to list every license of an instance (a base plus its add-on packs).
MAX_PAGES = 100


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class License(Wire):
    id: str
    order_id: str
    instance_id: str
    product_id: str
    customer_id: str
    partner_id: str
    level: Literal["base", "addon"]
    parent_id: str | None = None
    plan_id: str | None = None
    addon_id: str | None = None
    quantity: int = 1
    entitlements: dict[str, int]
    mode: Literal["acceptance", "subscription", "permanent"]
    status: Literal["active", "expired", "revoked"]
    valid_from: datetime
    valid_until: datetime | None = None
    acceptance_deadline: datetime | None = None
    accepted_at: datetime | None = None
    revoked_at: datetime | None = None
    version: int
    expires_at: datetime | None = None
    token: str


class Entitlement(Wire):
    instance_id: str
    product_id: str
    plan_id: str
    entitlements: dict[str, int]
    licenses: list[str]
    token: str
    issued_at: datetime
    expires_at: datetime | None = None


class RevokeRequest(BaseModel):
    """Revoke an order's license, and why."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "Refunded: bought by mistake"}]}
    )

    reason: Reason


class LicenseClient(ServiceClient):
    """Calls to the license service. Refusals raise `UpstreamProblem` (branch on
    `upstream_code`: `base_license_missing`, `base_license_revoked`, `license_not_found`,
    `acceptance_deadline_passed`, …); an unreachable service raises
    `UpstreamUnavailableError`."""

    service = "license"

    async def mint(
        self,
        *,
        order_id: str,
        instance_id: str,
        customer_id: str,
        partner_id: str,
        product_id: str,
        level: Literal["base", "addon"],
        entitlements: dict[str, int],
        valid_from: datetime,
        valid_until: datetime | None,
        plan_id: str | None = None,
        addon_id: str | None = None,
        quantity: int = 1,
        requires_acceptance: bool = False,
        acceptance_days: int = 7,
    ) -> License:
        """The order's license, minted on the first call (idempotent per `order_id`).

        `entitlements` are the plan's quota, or the add-on's increments times `quantity`.
        """
        body: dict[str, Any] = {
            "order_id": order_id,
            "instance_id": instance_id,
            "customer_id": customer_id,
            "partner_id": partner_id,
            "product_id": product_id,
            "level": level,
            "quantity": quantity,
            "entitlements": entitlements,
            "valid_from": valid_from.isoformat(),
            "valid_until": valid_until.isoformat() if valid_until else None,
            "requires_acceptance": requires_acceptance,
            "acceptance_days": acceptance_days,
        }
        if level == "base":
            body["plan_id"] = plan_id
        else:
            body["addon_id"] = addon_id
        return License.model_validate(await self.call("POST", "/v1/internal/licenses", json=body))

    async def accept(self, order_id: str, accepted_at: datetime | None = None) -> License:
        """Move the order's license to its paid mode (idempotent).

        Pass when the customer accepted, so a delayed delivery still counts.
        """
        body = {"accepted_at": accepted_at.isoformat()} if accepted_at else {}
        data = await self.call("POST", f"/v1/internal/orders/{order_id}/license/accept", json=body)
        return License.model_validate(data)

    async def revoke(self, order_id: str, reason: str) -> License:
        """Revoke the order's license at once (idempotent; it does not cascade to add-ons)."""
        data = await self.call(
            "POST", f"/v1/internal/orders/{order_id}/license/revoke", json={"reason": reason}
        )
        return License.model_validate(data)

    async def get_instance_entitlement(self, instance_id: str) -> Entitlement:
        """The instance's summed entitlements and its signed bundle."""
        data = await self.call("GET", f"/v1/internal/instances/{instance_id}/entitlement")
        return Entitlement.model_validate(data)

    async def list_instance_licenses(self, instance_id: str) -> list[License]:
        """Every license of the instance, the base first (all pages)."""
        licenses: list[License] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {"limit": 100}
            if cursor:
                params["cursor"] = cursor
            data = await self.call(
                "GET", f"/v1/internal/instances/{instance_id}/licenses", params=params
            )
            licenses.extend(License.model_validate(item) for item in data["items"])
            cursor = data.get("next_cursor")
            if not cursor:
                break
        return licenses
