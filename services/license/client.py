"""The typed client other services (orders) use to call the license service, and its wire
contract.

The models here are the one definition of what crosses the wire: the bodies callers send
(`MintRequest`, `AcceptRequest`, `RevokeRequest`, `RenewalRequest`, `PlanChangeRequest`) and
the answers they read (`LicenseView`, `EntitlementView`). The license API validates and answers
with these very classes, so a caller can never send what license would refuse, nor miss a field
it answers. Answers ignore unknown fields, so license may add fields without breaking older
callers. Callers import only this module from the license service.

The problem codes a caller branches on (`UpstreamProblem.upstream_code`) are the constants
below; license's own errors (`services/license/errors.py`) take their codes from them.

The field types of what callers send (`Reason`, `Subject`, `ObjectId`, `Dimension`) are
defined once, here or where this module takes them from, so orders can refuse at its own edge
whatever license would refuse (a refund's reason becomes the revocation's reason).
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from services.catalog.client import MAX_ENTITLEMENT as MAX_ENTITLEMENT_PER_PACK
from services.catalog.client import Dimension
from services.license.api import examples
from services.license.domain.model import Change, Level, Mode, Status
from shared.http import ServiceClient, UpstreamProblem
from shared.pagination import Page
from shared.text import TEXT, ObjectId, Subject

__all__ = [
    "ACCEPTANCE_DEADLINE_PASSED",
    "ACCEPTANCE_PENDING",
    "BASE_LICENSE_EXISTS",
    "BASE_LICENSE_MISSING",
    "BASE_LICENSE_REVOKED",
    "INSTANCE_MISMATCH",
    "INSTANCE_NOT_FOUND",
    "LICENSE_NOT_FOUND",
    "LICENSE_NOT_RENEWABLE",
    "LICENSE_REVOKED",
    "MAX_ENTITLEMENT",
    "MAX_QUANTITY",
    "NOT_A_BASE_LICENSE",
    "NOT_RENEWABLE",
    "ORDER_LICENSE_CONFLICT",
    "TERM_MISMATCH",
    "AcceptRequest",
    "Dimension",
    "Entitlement",
    "EntitlementView",
    "Level",
    "License",
    "LicenseClient",
    "LicenseVersionView",
    "LicenseView",
    "MintRequest",
    "ObjectId",
    "PlanChangeRequest",
    "Reason",
    "RenewalRequest",
    "RevokeRequest",
    "StrictBody",
    "Subject",
    "UpstreamProblem",
    "check_moment",
]

# -- problem codes callers branch on ---------------------------------------------------------

LICENSE_NOT_FOUND = "license_not_found"
INSTANCE_NOT_FOUND = "instance_not_found"
BASE_LICENSE_MISSING = "base_license_missing"
BASE_LICENSE_REVOKED = "base_license_revoked"
BASE_LICENSE_EXISTS = "base_license_exists"
INSTANCE_MISMATCH = "instance_mismatch"
ORDER_LICENSE_CONFLICT = "order_license_conflict"
LICENSE_REVOKED = "license_revoked"
ACCEPTANCE_DEADLINE_PASSED = "acceptance_deadline_passed"
# Renewals and plan changes (DESIGN.md §5).
NOT_RENEWABLE = "not_renewable"
LICENSE_NOT_RENEWABLE = "license_not_renewable"
ACCEPTANCE_PENDING = "acceptance_pending"
TERM_MISMATCH = "term_mismatch"
NOT_A_BASE_LICENSE = "not_a_base_license"

# -- field types -----------------------------------------------------------------------------

# Packs of an add-on in one license; its entitlements are the add-on's increments times this.
MAX_QUANTITY = 1000
MAX_ENTITLEMENT = MAX_ENTITLEMENT_PER_PACK * MAX_QUANTITY

Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), TEXT
]
"""Why a license was revoked or its deadline extended: text, line breaks allowed."""

# Times a license may name: far enough from the ends of the calendar to add 90 days and more.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)

# Enough pages to list every license of an instance (a base plus its add-on packs).
MAX_PAGES = 100


def check_moment(moment: datetime | None) -> None:
    """Refuse a time a license can't name (see `EARLIEST`, `LATEST`); for model validators."""
    if moment is not None and not EARLIEST <= moment < LATEST:
        raise ValueError("times must be between 1970 and 9000")


# -- what callers send -----------------------------------------------------------------------


class StrictBody(BaseModel):
    """A request body: unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


class MintRequest(StrictBody):
    """The license of one paid order, as orders computed it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "order_id": "ord_2m4kq7x9c3v5b8n1z6l0p4w2",
                    "instance_id": "ins_7h2k9d4f1s6g3j8l5q0w2e4r",
                    "customer_id": "globex",
                    "partner_id": "acme",
                    "product_id": "prd_x3nq4c5o2b7lzj6v8d1ke9fa",
                    "level": "addon",
                    "addon_id": "add_5t7y9u1i3o5p7a9s1d3f5g7h",
                    "quantity": 2,
                    "entitlements": {"devices": 200},
                    "valid_from": "2026-11-26T08:00:00Z",
                    "valid_until": "2026-12-26T08:00:00Z",
                    "requires_acceptance": True,
                    "acceptance_days": 14,
                }
            ]
        },
    )

    order_id: ObjectId
    instance_id: ObjectId
    customer_id: Subject
    partner_id: Subject
    product_id: ObjectId
    level: Level
    plan_id: ObjectId | None = Field(default=None, description="A base license's plan.")
    addon_id: ObjectId | None = Field(default=None, description="An add-on license's add-on.")
    quantity: int = Field(
        default=1, ge=1, le=MAX_QUANTITY, description="Packs; always 1 for a base."
    )
    entitlements: dict[Dimension, Annotated[int, Field(ge=0, le=MAX_ENTITLEMENT)]] = Field(
        max_length=20,
        description="The plan's quota, or the add-on's increments already times `quantity`.",
    )
    valid_from: AwareDatetime
    valid_until: AwareDatetime | None = Field(
        description="End of the paid term; null for a one-time purchase (permanent)."
    )
    requires_acceptance: bool = False
    acceptance_days: int = Field(default=7, ge=1, le=90)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.level is Level.base:
            if self.plan_id is None or self.addon_id is not None:
                raise ValueError("a base license names a `plan_id` and no `addon_id`")
            if self.quantity != 1:
                raise ValueError("a base license has quantity 1")
        elif self.addon_id is None or self.plan_id is not None:
            raise ValueError("an add-on license names an `addon_id` and no `plan_id`")
        if self.valid_until is not None and self.valid_until <= self.valid_from:
            raise ValueError("`valid_until` must be after `valid_from`")
        for moment in (self.valid_from, self.valid_until):
            check_moment(moment)
        return self

    @property
    def offer_id(self) -> str | None:
        """The plan of a base license, the add-on of an add-on license."""
        return self.plan_id if self.level is Level.base else self.addon_id


class AcceptRequest(StrictBody):
    """The customer accepted the order's license (now, or at `accepted_at`)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"accepted_at": "2026-12-01T09:30:00Z"}]}
    )

    accepted_at: AwareDatetime | None = Field(
        default=None,
        description="When the customer accepted (default: now). An acceptance made before "
        "the deadline counts even if it is delivered after it.",
    )

    @model_validator(mode="after")
    def _in_range(self) -> Self:
        check_moment(self.accepted_at)
        return self


class RevokeRequest(StrictBody):
    """Revoke an order's license, and why."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "Refunded: bought by mistake"}]}
    )

    reason: Reason


class RenewalRequest(StrictBody):
    """A paid renewal order: the license's term that ended (or ends) at `term_end` now ends
    at `valid_until` (orders computes it: one cycle on from `term_end`)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "order_id": "ord_8r3t5y7u9i1o3p5a7s9d1f3g",
                    "term_end": "2026-12-26T08:00:00Z",
                    "valid_until": "2027-01-26T08:00:00Z",
                }
            ]
        },
    )

    order_id: ObjectId = Field(description="The renewal order: one renewal per order.")
    term_end: AwareDatetime = Field(
        description="The end of the term this order renews: the license's `valid_until` when "
        "the order was placed. If the license's term ends elsewhere by now (another renewal "
        "came first), the renewal is refused with 409 `term_mismatch`."
    )
    valid_until: AwareDatetime = Field(description="The new end of the term.")

    @model_validator(mode="after")
    def _later(self) -> Self:
        for moment in (self.term_end, self.valid_until):
            check_moment(moment)
        if self.valid_until <= self.term_end:
            raise ValueError("`valid_until` must be after `term_end`")
        return self


class PlanChangeRequest(StrictBody):
    """A paid plan change order: the base license moves to `plan_id` with its quota."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "order_id": "ord_4g6h8j0k2l4z6x8c0v2b4n6m",
                    "plan_id": "pln_9k1m3n5b7v9c1x3z5l7k9j1h",
                    "entitlements": {"devices": 500},
                }
            ]
        },
    )

    order_id: ObjectId = Field(description="The change order: one plan change per order.")
    plan_id: ObjectId = Field(description="The plan the instance moves to.")
    entitlements: dict[Dimension, Annotated[int, Field(ge=0, le=MAX_ENTITLEMENT)]] = Field(
        max_length=20, description="The target plan's quota."
    )


# -- what license answers --------------------------------------------------------------------


class Wire(BaseModel):
    """An answer: unknown fields are ignored, so license may add some."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class LicenseVersionView(Wire):
    """One version of a license: why it was issued, and by which key."""

    version: int
    change: Change
    kid: str = Field(description="The key that signed this version's token.")
    issued_at: datetime
    expires_at: datetime | None
    reason: str | None
    details: dict[str, Any]
    order_id: str | None = Field(
        default=None, description="The order that made this version (renewals, plan changes)."
    )


class LicenseView(Wire):
    """A license as of its current version, with that version's token."""

    model_config = ConfigDict(
        extra="ignore", frozen=True, json_schema_extra={"examples": [examples.LICENSE]}
    )

    id: str
    order_id: str
    instance_id: str
    product_id: str
    customer_id: str
    partner_id: str
    level: Level
    parent_id: str | None = Field(description="An add-on license's base license.")
    plan_id: str | None
    addon_id: str | None
    quantity: int
    entitlements: dict[str, int]
    mode: Mode
    status: Status = Field(description="Derived at read time.")
    valid_from: datetime
    valid_until: datetime | None
    acceptance_deadline: datetime | None
    original_acceptance_deadline: datetime | None
    accepted_at: datetime | None
    revoked_at: datetime | None
    revocation_reason: str | None
    version: int
    expires_at: datetime | None = Field(description="The token's `exp`; null if permanent.")
    token: str = Field(description="The signed token of the current version (license+jwt).")
    created_at: datetime
    updated_at: datetime
    history: list[LicenseVersionView] | None = Field(
        default=None, description="Every version, oldest first (on single reads)."
    )


class EntitlementView(Wire):
    """What an installed application fetches: its entitlements and one signed bundle."""

    model_config = ConfigDict(
        extra="ignore", frozen=True, json_schema_extra={"examples": [examples.ENTITLEMENT]}
    )

    instance_id: str
    product_id: str
    plan_id: str
    entitlements: dict[str, int] = Field(
        description="The base plan's quota plus the increments of the valid add-on licenses."
    )
    licenses: list[str] = Field(description="The licenses counted, the base first.")
    token: str = Field(description="The bundle (license-bundle+jwt) holding those licenses.")
    issued_at: datetime
    expires_at: datetime | None = Field(description="The bundle's `exp`: its first license's.")


# The names callers used before the models took the API's names; the same classes.
License = LicenseView
Entitlement = EntitlementView


class LicenseClient(ServiceClient):
    """Calls to the license service. Refusals raise `UpstreamProblem` (branch on
    `upstream_code` against the constants above: `BASE_LICENSE_MISSING`,
    `BASE_LICENSE_REVOKED`, `LICENSE_NOT_FOUND`, `ACCEPTANCE_DEADLINE_PASSED`, …); an
    unreachable service raises `UpstreamUnavailableError`."""

    service = "license"

    async def mint(self, request: MintRequest) -> LicenseView:
        """The order's license, minted on the first call (idempotent per `order_id`)."""
        return await self._post("/v1/internal/licenses", LicenseView, body=request)

    async def accept(self, order_id: str, accepted_at: datetime | None = None) -> LicenseView:
        """Move the order's license to its paid mode (idempotent).

        Pass when the customer accepted, so a delayed delivery still counts.
        """
        return await self._post(
            f"/v1/internal/orders/{order_id}/license/accept",
            LicenseView,
            body=AcceptRequest(accepted_at=accepted_at).model_dump(mode="json", exclude_none=True),
        )

    async def revoke(self, order_id: str, reason: str) -> LicenseView:
        """Revoke the order's license at once (idempotent; it does not cascade to add-ons)."""
        return await self._post(
            f"/v1/internal/orders/{order_id}/license/revoke",
            LicenseView,
            body={"reason": reason},
        )

    async def renew(self, license_id: str, request: RenewalRequest) -> LicenseView:
        """Renew the license for the paid renewal order (idempotent per `order_id`).

        Refusals: `NOT_RENEWABLE` (permanent), `LICENSE_NOT_RENEWABLE` (revoked),
        `ACCEPTANCE_PENDING`, `TERM_MISMATCH` (the term was renewed by another order),
        `ORDER_LICENSE_CONFLICT` (this order already did something else), `LICENSE_NOT_FOUND`.
        """
        return await self._post(
            f"/v1/internal/licenses/{license_id}/renewals", LicenseView, body=request
        )

    async def change_plan(self, license_id: str, request: PlanChangeRequest) -> LicenseView:
        """Move the base license to another plan for the paid change order (idempotent per
        `order_id`). Refusals: `NOT_A_BASE_LICENSE`, `LICENSE_REVOKED`, `ACCEPTANCE_PENDING`,
        `ORDER_LICENSE_CONFLICT`, `LICENSE_NOT_FOUND`."""
        return await self._post(
            f"/v1/internal/licenses/{license_id}/plan-changes", LicenseView, body=request
        )

    async def get_instance_entitlement(self, instance_id: str) -> EntitlementView:
        """The instance's summed entitlements and its signed bundle."""
        return await self._get(f"/v1/internal/instances/{instance_id}/entitlement", EntitlementView)

    async def list_instance_licenses(self, instance_id: str) -> list[LicenseView]:
        """Every license of the instance, the base first (all pages)."""
        licenses: list[LicenseView] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {"limit": 100}
            if cursor:
                params["cursor"] = cursor
            page = await self._get(
                f"/v1/internal/instances/{instance_id}/licenses",
                Page[LicenseView],
                params=params,
            )
            licenses.extend(page.items)
            cursor = page.next_cursor
            if not cursor:
                break
        return licenses
