"""The typed client other services use to call the catalog.

Its models are the wire contract as callers need it (unknown fields are ignored, so the catalog
may add fields without breaking them). Callers import only this module from the catalog.

The bodies of the internal calls (`FreezeRequest`, `UnlockRequest`) and the field types other
services pass on (`Dimension`, `MAX_ENTITLEMENT`) are defined once, here: the catalog's API
validates with them and callers build with them, so a caller can never send what the catalog
would refuse.

The problem codes a caller branches on (`UpstreamProblem.upstream_code`) are the constants
below, so a caller compares with a name, never a string literal.
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from services.catalog.domain.model import MAX_ENTITLEMENT, Dimension
from shared.http import ServiceClient, UpstreamProblem
from shared.text import ObjectId, Subject

__all__ = [
    "DRAFT_INVALID",
    "DRAFT_LOCKED",
    "MAX_ENTITLEMENT",
    "PRODUCT_NOT_FOUND",
    "REVISION_NOT_FOUND",
    "REVISION_NOT_PUBLISHABLE",
    "AddonInfo",
    "CatalogClient",
    "Change",
    "Dimension",
    "FreezeRequest",
    "FrozenRevision",
    "LiveProduct",
    "Money",
    "PlanInfo",
    "UnlockRequest",
    "UpstreamProblem",
]

# Problem codes callers branch on: the catalog's errors (services/catalog/errors.py) answer them.
PRODUCT_NOT_FOUND = "product_not_found"
REVISION_NOT_FOUND = "revision_not_found"
REVISION_NOT_PUBLISHABLE = "revision_not_publishable"
DRAFT_LOCKED = "draft_locked"
DRAFT_INVALID = "draft_invalid"


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Money(Wire):
    amount_minor: int
    currency: str


class Cycle(Wire):
    unit: Literal["month", "year"]
    count: int
    price: Money


class Agreement(Wire):
    kind: str
    document_id: str | None = None


class PlanInfo(Wire):
    id: str
    name: str
    subscription_method: Literal["subscription", "one_time"]
    cycles: list[Cycle] | None = None
    price: Money | None = None
    entitlements: dict[str, int]
    retired: bool = False
    # The plans an instance on this plan may change to (the partner's policy). An add-on never
    # has one: `AddonInfo` extends this model only so callers can price both alike.
    changes_to: list[str] = []

    def price_for(self, unit: str | None, count: int | None) -> Money | None:
        """The price of one cycle (`unit`, `count`), or the one-time price when both are None."""
        if self.subscription_method == "one_time":
            return self.price if unit is None and count is None else None
        return next(
            (c.price for c in self.cycles or [] if c.unit == unit and c.count == count), None
        )


class AddonInfo(PlanInfo):
    compatible_plans: list[str] = []
    max_per_instance: int = 10
    agreement: Agreement | None = None

    def compatible_with(self, plan_id: str) -> bool:
        """Whether an instance on `plan_id` may buy this add-on."""
        return not self.compatible_plans or plan_id in self.compatible_plans


class LiveProduct(Wire):
    id: str
    partner_id: str
    product_type: str
    name: str
    category: str
    description: str = ""
    billing_mode: str
    requires_acceptance: bool
    acceptance_days: int
    revision: int
    published_at: datetime
    plans: list[PlanInfo]
    addons: list[AddonInfo]

    def plan(self, plan_id: str) -> PlanInfo | None:
        return next((p for p in self.plans if p.id == plan_id), None)

    def may_change(self, from_plan: str, to_plan: str) -> bool:
        """Whether this revision lets an instance on `from_plan` change to `to_plan`."""
        plan = self.plan(from_plan)
        return plan is not None and to_plan in plan.changes_to

    def addon(self, addon_id: str) -> AddonInfo | None:
        return next((a for a in self.addons if a.id == addon_id), None)


class Change(Wire):
    op: str
    path: str
    field: str | None = None
    before: Any = None
    after: Any = None
    summary: str


class FrozenRevision(Wire):
    product_id: str
    revision: int
    snapshot: dict[str, Any]
    changes: list[Change]
    created_at: datetime


class PublishedRevision(Wire):
    product_id: str
    revision: int
    published_at: datetime


class FreezeRequest(BaseModel):
    """Review asks the catalog to freeze a partner's draft for a submission."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"partner_id": "acme", "submission_id": "sub_5w7e9r1t3y5u7i9o1p3a5s7d"}]
        },
    )

    partner_id: Subject
    submission_id: ObjectId


class UnlockRequest(BaseModel):
    """Review asks the catalog to unlock the draft a submission holds."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"submission_id": "sub_5w7e9r1t3y5u7i9o1p3a5s7d"}]},
    )

    submission_id: ObjectId


class CatalogClient(ServiceClient):
    """Calls to the catalog. Refusals raise `UpstreamProblem` (branch on `upstream_code`
    against the constants above: `PRODUCT_NOT_FOUND`, `DRAFT_LOCKED`, `DRAFT_INVALID`, …); an
    unreachable catalog raises `UpstreamUnavailableError`."""

    service = "catalog"

    async def get_live_product(self, product_id: str) -> LiveProduct:
        """The live revision of a product (`product_not_found` while none is live)."""
        return await self._get(f"/v1/products/{product_id}", LiveProduct, authenticated=False)

    async def freeze(
        self, product_id: str, *, partner_id: str, submission_id: str
    ) -> FrozenRevision:
        """Freeze the draft into a revision for a submission (idempotent per submission)."""
        return await self._post(
            f"/v1/internal/products/{product_id}/freeze",
            FrozenRevision,
            body=FreezeRequest(partner_id=partner_id, submission_id=submission_id),
        )

    async def publish(self, product_id: str, revision: int) -> PublishedRevision:
        """Make a revision live (idempotent)."""
        return await self._post(
            f"/v1/internal/products/{product_id}/revisions/{revision}/publish", PublishedRevision
        )

    async def unlock(self, product_id: str, submission_id: str) -> None:
        """Unlock the draft a submission holds (idempotent)."""
        await self._post_no_content(
            f"/v1/internal/products/{product_id}/unlock",
            body=UnlockRequest(submission_id=submission_id),
        )
