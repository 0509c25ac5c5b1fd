"""Request and response bodies of the catalog API (distinct from the tables and the domain)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.catalog.api import examples
from services.catalog.db.models import DocumentRow, LiveProductRow, RevisionRow
from services.catalog.domain.changes import RevisionChange
from services.catalog.domain.model import (
    MAX_PLANS,
    AcceptanceDays,
    Addon,
    Agreement,
    BillingMode,
    Category,
    Cycle,
    Description,
    Dimension,
    Money,
    Name,
    ObjectId,
    Plan,
    ProductDetails,
    ProductType,
    Snapshot,
    SubscriptionMethod,
)
from services.catalog.service import ProductState


class StrictBody(BaseModel):
    """The base of request bodies: an unknown field is a 422, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class ProductCreate(StrictBody):
    """A new product: its type (fixed forever) and the first draft's details."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "product_type": "marketplace",
                    "name": "FleetOTA",
                    "category": "automotive",
                    "description": "Over-the-air updates for connected vehicles.",
                    "billing_mode": "online",
                    "requires_acceptance": True,
                    "acceptance_days": 14,
                }
            ]
        },
    )

    product_type: ProductType
    name: Name
    category: Category
    description: Description = ""
    billing_mode: BillingMode
    requires_acceptance: bool = False
    acceptance_days: AcceptanceDays = 7

    def details(self) -> ProductDetails:
        return ProductDetails(**self.model_dump(exclude={"product_type"}))


class DraftPatch(StrictBody):
    """Product-level fields to change; absent fields stay as they are."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "FleetOTA Pro"}]}
    )

    name: Name | None = None
    category: Category | None = None
    description: Description | None = None
    billing_mode: BillingMode | None = None
    requires_acceptance: bool | None = None
    acceptance_days: AcceptanceDays | None = None
    product_type: ProductType | None = Field(
        default=None, description="Immutable: only the current value is accepted."
    )


class SharedConfigurationPatch(StrictBody):
    """Fields plans and add-ons share; absent fields stay, `null` clears `cycles` or `price`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"retired": True}]})

    name: Name | None = None
    subscription_method: SubscriptionMethod | None = None
    cycles: list[Cycle] | None = None
    price: Money | None = None
    entitlements: dict[Dimension, int] | None = None
    retired: bool | None = None


class ConfigurationPatch(SharedConfigurationPatch):
    """Fields of a plan to change; absent fields stay, `null` clears `cycles` or `price`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"retired": True}, {"changes_to": ["pln_7k9m1p3r5t7v9x1z3b5d7f9h"]}]
        },
    )

    changes_to: list[ObjectId] | None = Field(
        default=None,
        max_length=MAX_PLANS,
        description="The plans an instance on this plan may change to (replaces the list).",
    )


class AddonPatch(SharedConfigurationPatch):
    """Fields of an add-on to change; `agreement: null` returns to the platform default."""

    compatible_plans: list[ObjectId] | None = None
    max_per_instance: int | None = Field(default=None, ge=1, le=1000)
    agreement: Agreement | None = None


class DraftView(ProductDetails):
    plans: list[Plan]
    addons: list[Addon]


class ProductView(BaseModel):
    """A product as its owner sees it: the editable draft and where it stands."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.PRODUCT]})

    id: str
    partner_id: str
    product_type: ProductType
    locked: bool = Field(description="True while a submission is open: edits get 409.")
    open_submission_id: str | None
    live_revision: int | None
    last_revision: int
    created_at: datetime
    updated_at: datetime
    draft: DraftView

    @classmethod
    def of(cls, state: ProductState) -> "ProductView":
        row, draft = state.row, state.draft
        return cls(
            id=row.id,
            partner_id=row.partner_id,
            product_type=ProductType(row.product_type),
            locked=row.locked_submission_id is not None,
            open_submission_id=row.locked_submission_id,
            live_revision=row.live_revision,
            last_revision=row.last_revision,
            created_at=row.created_at,
            updated_at=row.updated_at,
            draft=DraftView(**draft.details.model_dump(), plans=draft.plans, addons=draft.addons),
        )


class LiveProductView(ProductDetails):
    """A product as customers see it: its live revision."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.LIVE_PRODUCT]})

    id: str
    partner_id: str
    product_type: ProductType
    revision: int
    published_at: datetime
    plans: list[Plan]
    addons: list[Addon]

    @classmethod
    def of(cls, row: LiveProductRow) -> "LiveProductView":
        snapshot = Snapshot.model_validate(row.snapshot)
        return cls(
            **snapshot.details.model_dump(),
            id=row.product_id,
            partner_id=row.partner_id,
            product_type=snapshot.product_type,
            revision=row.revision,
            published_at=row.published_at,
            plans=snapshot.plans,
            addons=snapshot.addons,
        )


class ProductSummaryView(BaseModel):
    """A live product in the public list."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.PRODUCT_SUMMARY]})

    id: str
    partner_id: str
    product_type: ProductType
    name: str
    category: str
    description: str
    billing_mode: BillingMode
    revision: int
    published_at: datetime

    @classmethod
    def of(cls, row: LiveProductRow) -> "ProductSummaryView":
        details: dict[str, Any] = row.snapshot["details"]
        return cls(
            id=row.product_id,
            partner_id=row.partner_id,
            product_type=ProductType(row.snapshot["product_type"]),
            name=details["name"],
            category=details["category"],
            description=details["description"],
            billing_mode=BillingMode(details["billing_mode"]),
            revision=row.revision,
            published_at=row.published_at,
        )


class RevisionSummaryView(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.REVISION_SUMMARY]})

    number: int
    state: str = Field(description="`submitted`, `published` or `discarded`.")
    live: bool
    submission_id: str
    created_at: datetime
    published_at: datetime | None

    @classmethod
    def of(cls, row: RevisionRow, live_revision: int | None) -> "RevisionSummaryView":
        return cls(
            number=row.number,
            state=row.state,
            live=row.number == live_revision,
            submission_id=row.submission_id,
            created_at=row.created_at,
            published_at=row.published_at,
        )


class RevisionView(RevisionSummaryView):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.REVISION]})

    snapshot: Snapshot
    changes: list[RevisionChange]

    @classmethod
    def full(cls, row: RevisionRow, live_revision: int | None) -> "RevisionView":
        return cls(
            **RevisionSummaryView.of(row, live_revision).model_dump(),
            snapshot=Snapshot.model_validate(row.snapshot),
            changes=[RevisionChange.model_validate(c) for c in row.changes],
        )


class DocumentView(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.DOCUMENT]})

    id: str
    filename: str
    media_type: str
    size_bytes: int
    sha256: str
    public: bool
    created_at: datetime
    content_url: str

    @classmethod
    def of(cls, row: DocumentRow) -> "DocumentView":
        return cls(
            id=row.id,
            filename=row.filename,
            media_type=row.media_type,
            size_bytes=row.size_bytes,
            sha256=row.sha256,
            public=row.public,
            created_at=row.created_at,
            content_url=f"/v1/documents/{row.id}/content",
        )


class FrozenRevisionView(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.FROZEN_REVISION]})

    product_id: str
    revision: int
    snapshot: Snapshot
    changes: list[RevisionChange]
    created_at: datetime


class PublishedRevisionView(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.PUBLISHED_REVISION]})

    product_id: str
    revision: int
    published_at: datetime


class UnlockedDraftView(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.UNLOCKED_DRAFT]})

    product_id: str
    locked: bool
