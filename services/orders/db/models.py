"""The orders service's tables: orders, payments, instances, webhook events, the outbox,
idempotency keys, and the sandbox payment provider's ledger."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.orders.domain.model import (
    Cycle,
    CycleUnit,
    InstanceFacts,
    InstanceStatus,
    Money,
    OrderStatus,
    OrderType,
    PaymentStatus,
)
from shared.db import JSONDocument, UTCDateTime, new_metadata
from shared.idempotency import idempotency_table
from shared.outbox import outbox_table


class Base(DeclarativeBase):
    metadata = new_metadata()


def _stored_as_text(enum: type[StrEnum], length: int) -> Enum:
    """A `StrEnum` column kept as its values in a plain VARCHAR of `length`: no database enum
    type and no CHECK constraint, so the schema is the one the migrations built for strings,
    while the code reads and writes the enum."""
    return Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
    )


class OrderRow(Base):
    """An order: what was bought (priced from the live revision), by whom, and its state.

    `instance_id` is the instance an add-on is for or, for a `new` order, the id reserved for
    the instance it creates, so the license can be minted before the instance row exists.
    """

    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_customer", "customer_id", "created_at", "id"),
        Index("ix_orders_partner", "partner_id", "created_at", "id"),
        Index("ix_orders_instance_packs", "instance_id", "addon_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    type: Mapped[OrderType] = mapped_column(_stored_as_text(OrderType, 10))
    customer_id: Mapped[str] = mapped_column(String(200))
    partner_id: Mapped[str] = mapped_column(String(200))
    product_id: Mapped[str] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(Integer)
    plan_id: Mapped[str | None] = mapped_column(String(64))
    addon_id: Mapped[str | None] = mapped_column(String(64))
    instance_id: Mapped[str] = mapped_column(String(40))
    cycle_unit: Mapped[CycleUnit | None] = mapped_column(_stored_as_text(CycleUnit, 10))
    cycle_count: Mapped[int | None] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    entitlements: Mapped[dict[str, int]] = mapped_column(JSONDocument)
    requires_acceptance: Mapped[bool] = mapped_column(Boolean)
    acceptance_days: Mapped[int] = mapped_column(Integer)
    max_per_instance: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[OrderStatus] = mapped_column(_stored_as_text(OrderStatus, 20), index=True)
    license_id: Mapped[str | None] = mapped_column(String(64))
    # The payment that paid the order (others that settle later are refunded): the one a
    # refund gives back.
    payment_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fulfilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refund_amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    refund_reason: Mapped[str | None] = mapped_column(Text)

    @property
    def cycle(self) -> Cycle | None:
        if self.cycle_unit is None or self.cycle_count is None:
            return None
        return Cycle(self.cycle_unit, self.cycle_count)

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)


class PaymentRow(Base):
    """One attempt to pay an order; its id is the provider's idempotency key."""

    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_order", "order_id", "status"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    provider: Mapped[str] = mapped_column(String(40))
    provider_ref: Mapped[str | None] = mapped_column(String(200))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[PaymentStatus] = mapped_column(_stored_as_text(PaymentStatus, 20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InstanceRow(Base):
    """An application instance, created when its `new` order is fulfilled."""

    __tablename__ = "instances"
    __table_args__ = (
        Index("ix_instances_customer", "customer_id", "created_at", "id"),
        Index("ix_instances_partner", "partner_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(200))
    partner_id: Mapped[str] = mapped_column(String(200))
    product_id: Mapped[str] = mapped_column(String(64))
    plan_id: Mapped[str] = mapped_column(String(64))
    base_order_id: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[InstanceStatus] = mapped_column(_stored_as_text(InstanceStatus, 10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def facts(self) -> InstanceFacts:
        return InstanceFacts(
            id=self.id,
            customer_id=self.customer_id,
            product_id=self.product_id,
            plan_id=self.plan_id,
            status=self.status,
        )


class SandboxPaymentRow(Base):
    """The sandbox provider's own ledger: what a real provider keeps on its side.

    One row per payment id, written when the sandbox is first asked to charge it: that is its
    one settlement; later charges of the same id only count in `charge_attempts`.
    """

    __tablename__ = "sandbox_payments"

    payment_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(40), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    charge_attempts: Mapped[int] = mapped_column(Integer)
    settled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    refunded_minor: Mapped[int | None] = mapped_column(BigInteger)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookEventRow(Base):
    """A provider event already handled: its id is the replay protection."""

    __tablename__ = "webhook_events"

    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    payment_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


outbox = outbox_table(Base.metadata)
idempotency_records = idempotency_table(Base.metadata)
