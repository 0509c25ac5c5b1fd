"""Request and response bodies of the orders API (distinct from the tables and the domain).

Names follow one rule: a body that creates is `<Noun>Create`, any other action's body is
`<Action>Request`, a response is `<Noun>View`; `StrictBody` is their strict base. The
provider's `WebhookEvent` keeps the name of what it is: the provider's event, not an action
of ours.
"""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.license.client import MAX_QUANTITY, License, Reason
from services.orders.api import examples
from services.orders.db.models import InstanceRow, OrderRow, PaymentRow
from services.orders.domain.model import (
    Cycle,
    CycleUnit,
    InstanceStatus,
    LicenseLevel,
    LicenseMode,
    Money,
    OrderStatus,
    OrderType,
    PaymentStatus,
)
from services.orders.service import InstanceState, OrderRequest, OrderState, Quote
from shared.text import LABEL, ObjectId


class StrictBody(BaseModel):
    """A request body: unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


class CycleBody(StrictBody):
    unit: CycleUnit
    count: int = Field(ge=1, le=36)


class NewOrderCreate(StrictBody):
    """A new application instance on a plan of a live product."""

    type: Literal["new"]
    product_id: ObjectId
    plan_id: ObjectId
    cycle: CycleBody | None = Field(
        default=None, description="One of the plan's cycles; omit for a one-time purchase."
    )
    quantity: int = Field(
        default=1, ge=1, le=MAX_QUANTITY, description="Always 1 for a new instance."
    )

    def request(self) -> OrderRequest:
        return OrderRequest(
            type=OrderType.new,
            cycle=_cycle(self.cycle),
            quantity=self.quantity,
            product_id=self.product_id,
            plan_id=self.plan_id,
        )


class AddonOrderCreate(StrictBody):
    """Packs of an add-on for one of the customer's instances."""

    type: Literal["addon"]
    instance_id: ObjectId
    addon_id: ObjectId
    cycle: CycleBody | None = Field(
        default=None, description="One of the add-on's cycles; omit for a one-time purchase."
    )
    quantity: int = Field(
        default=1,
        ge=1,
        le=MAX_QUANTITY,
        description="Packs: the price and increments are multiplied.",
    )

    def request(self) -> OrderRequest:
        return OrderRequest(
            type=OrderType.addon,
            cycle=_cycle(self.cycle),
            quantity=self.quantity,
            instance_id=self.instance_id,
            addon_id=self.addon_id,
        )


OrderCreate = Annotated[NewOrderCreate | AddonOrderCreate, Field(discriminator="type")]


class RefundRequest(StrictBody):
    amount_minor: int = Field(ge=1, le=10**12, description="At most what was paid.")
    # It becomes the reason of the license's revocation: the license client's own `Reason`,
    # so a refund orders accepts is one license accepts to revoke.
    reason: Reason


def _cycle(body: CycleBody | None) -> Cycle | None:
    return Cycle(body.unit, body.count) if body else None


class MoneyView(BaseModel):
    amount_minor: int = Field(examples=[4900])
    currency: str = Field(examples=["EUR"])

    @classmethod
    def of(cls, money: Money) -> "MoneyView":
        return cls(amount_minor=money.amount_minor, currency=money.currency)


class CycleView(BaseModel):
    unit: CycleUnit
    count: int

    @classmethod
    def of(cls, cycle: Cycle | None) -> "CycleView | None":
        return cls(unit=cycle.unit, count=cycle.count) if cycle else None


class PaymentView(BaseModel):
    id: str
    provider: str
    status: PaymentStatus
    amount: MoneyView
    created_at: datetime
    settled_at: datetime | None
    failed_at: datetime | None

    @classmethod
    def of(cls, row: PaymentRow) -> "PaymentView":
        return cls(
            id=row.id,
            provider=row.provider,
            status=row.status,
            amount=MoneyView(amount_minor=row.amount_minor, currency=row.currency),
            created_at=row.created_at,
            settled_at=row.settled_at,
            failed_at=row.failed_at,
        )


class RefundView(BaseModel):
    amount: MoneyView
    reason: str
    refunded_at: datetime


class OrderView(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.ORDER]})

    id: str
    type: OrderType
    status: OrderStatus
    customer_id: str
    partner_id: str
    product_id: str
    revision: int = Field(description="The live revision the order was priced from.")
    plan_id: str | None
    addon_id: str | None
    instance_id: str = Field(
        description="The instance an add-on is for; for a `new` order, the id of the instance "
        "it creates (readable under /v1/instances once the order is fulfilled)."
    )
    cycle: CycleView | None
    quantity: int
    amount: MoneyView = Field(description="Computed by the server from the live revision.")
    entitlements: dict[str, int] = Field(
        description="What the license grants: the plan's quota, or the add-on's increments "
        "times `quantity`."
    )
    requires_acceptance: bool
    acceptance_days: int
    license_id: str | None
    payment: PaymentView | None = Field(description="The most recent payment.")
    refund: RefundView | None
    created_at: datetime
    paid_at: datetime | None
    fulfilled_at: datetime | None
    accepted_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    refunded_at: datetime | None

    @classmethod
    def of(cls, state: OrderState) -> "OrderView":
        row: OrderRow = state.order
        refund = None
        if row.refunded_at is not None and row.refund_amount_minor is not None:
            refund = RefundView(
                amount=MoneyView(amount_minor=row.refund_amount_minor, currency=row.currency),
                reason=row.refund_reason or "",
                refunded_at=row.refunded_at,
            )
        return cls(
            id=row.id,
            type=row.type,
            status=row.status,
            customer_id=row.customer_id,
            partner_id=row.partner_id,
            product_id=row.product_id,
            revision=row.revision,
            plan_id=row.plan_id,
            addon_id=row.addon_id,
            instance_id=row.instance_id,
            cycle=CycleView.of(row.cycle),
            quantity=row.quantity,
            amount=MoneyView.of(row.amount),
            entitlements=row.entitlements,
            requires_acceptance=row.requires_acceptance,
            acceptance_days=row.acceptance_days,
            license_id=row.license_id,
            payment=PaymentView.of(state.payment) if state.payment else None,
            refund=refund,
            created_at=row.created_at,
            paid_at=row.paid_at,
            fulfilled_at=row.fulfilled_at,
            accepted_at=row.accepted_at,
            completed_at=row.completed_at,
            cancelled_at=row.cancelled_at,
            refunded_at=row.refunded_at,
        )


class LicensePreviewView(BaseModel):
    level: LicenseLevel
    plan_id: str | None
    addon_id: str | None
    entitlements: dict[str, int]
    mode: LicenseMode = Field(description="The mode the license starts in.")
    valid_from: datetime = Field(description="If paid now.")
    valid_until: datetime | None = Field(description="End of the term; null if permanent.")
    acceptance_deadline: datetime | None


class OrderQuoteView(BaseModel):
    """A dry run: what the order would cost and grant. Nothing is stored."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.ORDER_QUOTE]})

    type: OrderType
    product_id: str
    revision: int
    plan_id: str | None
    addon_id: str | None
    instance_id: str | None
    cycle: CycleView | None
    quantity: int
    amount: MoneyView
    license: LicensePreviewView = Field(description="The license that paying would mint.")
    entitlement_before: dict[str, int] | None = Field(
        description="The instance's entitlement now (`{}` for a new instance); null if the "
        "license service could not be asked."
    )
    entitlement_after: dict[str, int] | None = Field(
        description="The entitlement once the license is minted; null if unknown."
    )

    @classmethod
    def of(cls, quote: Quote) -> "OrderQuoteView":
        purchase, preview = quote.purchase, quote.license
        return cls(
            type=purchase.type,
            product_id=purchase.product_id,
            revision=purchase.revision,
            plan_id=purchase.plan_id,
            addon_id=purchase.addon_id,
            instance_id=purchase.instance_id,
            cycle=CycleView.of(purchase.cycle),
            quantity=purchase.quantity,
            amount=MoneyView.of(purchase.amount),
            license=LicensePreviewView(
                level=preview.level,
                plan_id=preview.plan_id,
                addon_id=preview.addon_id,
                entitlements=preview.entitlements,
                mode=preview.mode,
                valid_from=preview.valid_from,
                valid_until=preview.valid_until,
                acceptance_deadline=preview.acceptance_deadline,
            ),
            entitlement_before=quote.entitlement_before,
            entitlement_after=quote.entitlement_after,
        )


class InstanceLicenseView(BaseModel):
    """One license of an instance: the part of license's own `License` an instance shows."""

    id: str
    order_id: str
    level: str
    plan_id: str | None
    addon_id: str | None
    quantity: int
    entitlements: dict[str, int]
    mode: str
    status: str
    valid_from: datetime
    valid_until: datetime | None
    acceptance_deadline: datetime | None
    accepted_at: datetime | None
    version: int

    @classmethod
    def of(cls, license: License) -> "InstanceLicenseView":
        return cls.model_validate(license, from_attributes=True)


class InstanceView(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.INSTANCE]})

    id: str
    customer_id: str
    partner_id: str
    product_id: str
    plan_id: str
    base_order_id: str
    status: InstanceStatus
    created_at: datetime
    ended_at: datetime | None
    licenses: list[InstanceLicenseView] = Field(
        description="Every license of the instance, the base first (empty if unavailable)."
    )
    entitlement: dict[str, int] | None = Field(
        description="The base plan's quota plus the valid add-ons' increments; null if the "
        "license service could not be asked."
    )
    licenses_available: bool = Field(
        description="False when the license service could not be asked just now."
    )

    @classmethod
    def of(cls, state: InstanceState) -> "InstanceView":
        row: InstanceRow = state.instance
        return cls(
            id=row.id,
            customer_id=row.customer_id,
            partner_id=row.partner_id,
            product_id=row.product_id,
            plan_id=row.plan_id,
            base_order_id=row.base_order_id,
            status=row.status,
            created_at=row.created_at,
            ended_at=row.ended_at,
            licenses=[InstanceLicenseView.of(lic) for lic in state.licenses],
            entitlement=state.entitlement,
            licenses_available=state.licenses_available,
        )


class WebhookEvent(BaseModel):
    """A payment provider's event (unknown fields are ignored)."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "event_id": "evt_1QxYz2345",
                    "type": "payment.settled",
                    "payment_id": "pay_3k5m7n9p1r3t5v7x9z1b3d5f",
                }
            ]
        },
    )

    event_id: Annotated[str, StringConstraints(min_length=1, max_length=200), LABEL]
    type: Literal["payment.settled", "payment.failed"]
    payment_id: ObjectId


class WebhookReceiptView(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.WEBHOOK_RECEIPT]})

    event_id: str
    status: Literal["processed", "duplicate"] = Field(
        description="`duplicate` for an event id handled before: nothing happened again."
    )
