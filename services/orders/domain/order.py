"""The order state machine.

    pending_payment --pay--> paid --fulfil--> fulfilled --accept--> completed
          |                                       |  (at once without acceptance)
          \\--cancel--> cancelled                  \\--refund--> refunded

`completed` ends the transaction guarantee period: a refund is possible only while the order
is `fulfilled`. An add-on order that was paid for an instance that ended before its license
was minted goes from `paid` to `refunded` by itself. The service applies each move under a row
lock, so two racing moves (a cancel and a pay, an accept and a refund) can't both win.

The moves themselves are here too (`settle`, `fulfil`, `accept`, `refund`, `cancel`, and the
payment's and instance's): each checks that the record may make it and sets the status with
its timestamps, on anything shaped like the stored record (`OrderRecord`...; the ORM rows
are), so the service never writes a status by hand. A move the state machine forbids where
the caller should have checked first raises `IllegalMoveError`, a programming error; the
`ensure_*` checks are the refusals a customer or partner gets.
"""

from datetime import datetime
from typing import Protocol

from services.orders.domain.model import InstanceStatus, Money, OrderStatus, PaymentStatus
from services.orders.errors import (
    AcceptanceNotRequiredError,
    OrderNotAcceptableError,
    OrderNotCancellableError,
    OrderNotPayableError,
    OrderNotRefundableError,
    PaymentInProgressError,
    RefundExceedsPaymentError,
)

# Orders whose packs count toward an instance's `max_per_instance` (plus those being paid).
HOLDING = frozenset({OrderStatus.paid, OrderStatus.fulfilled, OrderStatus.completed})
# Add-on orders whose license exists and must be revoked when their instance is refunded.
LICENSED = frozenset({OrderStatus.fulfilled, OrderStatus.completed})


def ensure_payable(status: OrderStatus) -> None:
    """Only an order awaiting payment can be paid."""
    if status is not OrderStatus.pending_payment:
        raise OrderNotPayableError(f"The order is {status}.")


def ensure_cancellable(status: OrderStatus, payment_in_progress: bool) -> None:
    """Only an unpaid order with no payment under way can be cancelled."""
    if status is not OrderStatus.pending_payment:
        raise OrderNotCancellableError(f"The order is {status}.")
    if payment_in_progress:
        raise PaymentInProgressError(
            "Pay again to finish the payment, or wait for the provider to confirm or fail it."
        )


def ensure_acceptable(status: OrderStatus, requires_acceptance: bool) -> None:
    """Only a fulfilled order of a product that needs acceptance can be accepted."""
    if not requires_acceptance:
        raise AcceptanceNotRequiredError("The order completed when its license was minted.")
    if status is not OrderStatus.fulfilled:
        raise OrderNotAcceptableError(f"The order is {status}.")


def ensure_refundable(status: OrderStatus, paid: Money, amount_minor: int) -> None:
    """A refund of at most what was paid, during the guarantee period (`fulfilled`)."""
    if status is not OrderStatus.fulfilled:
        raise OrderNotRefundableError(
            f"The order is {status}; refunds are possible between fulfilment and completion."
        )
    if amount_minor > paid.amount_minor:
        raise RefundExceedsPaymentError(
            f"At most {paid.amount_minor} {paid.currency} (minor units) was paid."
        )


# Where each status may go (see the module docstring's diagram).
MOVES: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.pending_payment: frozenset({OrderStatus.paid, OrderStatus.cancelled}),
    OrderStatus.paid: frozenset({OrderStatus.fulfilled, OrderStatus.refunded}),
    OrderStatus.fulfilled: frozenset({OrderStatus.completed, OrderStatus.refunded}),
    OrderStatus.completed: frozenset(),
    OrderStatus.cancelled: frozenset(),
    OrderStatus.refunded: frozenset(),
}


class IllegalMoveError(Exception):
    """A move the state machine does not have: a bug in the caller, never the client's."""


class OrderRecord(Protocol):
    """The stored order as its moves change it."""

    id: str
    status: OrderStatus
    requires_acceptance: bool
    license_id: str | None
    payment_id: str | None
    updated_at: datetime
    paid_at: datetime | None
    fulfilled_at: datetime | None
    accepted_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    refunded_at: datetime | None
    refund_amount_minor: int | None
    refund_reason: str | None


class PaymentRecord(Protocol):
    """The stored payment as its moves change it."""

    status: PaymentStatus
    updated_at: datetime
    settled_at: datetime | None
    failed_at: datetime | None


class InstanceRecord(Protocol):
    """The stored instance as its move changes it."""

    status: InstanceStatus
    ended_at: datetime | None


def _move(order: OrderRecord, to: OrderStatus, now: datetime) -> None:
    if to not in MOVES[order.status]:
        raise IllegalMoveError(f"order {order.id} can't go from {order.status} to {to}")
    order.status = to
    order.updated_at = now


def settle(order: OrderRecord, payment_id: str, now: datetime) -> None:
    """A payment of the order settled: it is `paid`, and that payment is the one it keeps."""
    _move(order, OrderStatus.paid, now)
    order.paid_at = now
    order.payment_id = payment_id


def fulfil(order: OrderRecord, license_id: str, now: datetime) -> None:
    """The paid order's license was minted: `fulfilled`, or at once `completed` when the
    product needs no acceptance."""
    _move(order, OrderStatus.fulfilled, now)
    order.license_id = license_id
    order.fulfilled_at = now
    if not order.requires_acceptance:
        _move(order, OrderStatus.completed, now)
        order.completed_at = now


def accept(order: OrderRecord, now: datetime) -> None:
    """The customer accepted the delivery: `completed` (refused unless it can be accepted)."""
    ensure_acceptable(order.status, order.requires_acceptance)
    _move(order, OrderStatus.completed, now)
    order.accepted_at = order.completed_at = now


def refund(order: OrderRecord, amount_minor: int, reason: str, now: datetime) -> None:
    """The order's money goes back (a partner's refund, or a paid order that can't be
    fulfilled): `refunded`, with how much and why."""
    _move(order, OrderStatus.refunded, now)
    order.refunded_at = now
    order.refund_amount_minor = amount_minor
    order.refund_reason = reason


def cancel(order: OrderRecord, payment_in_progress: bool, now: datetime) -> None:
    """The customer drops the unpaid order (refused while a payment of it is under way)."""
    ensure_cancellable(order.status, payment_in_progress)
    _move(order, OrderStatus.cancelled, now)
    order.cancelled_at = now


def settle_payment(payment: PaymentRecord, now: datetime) -> None:
    """The provider settled the payment: once (a payment it reported failed may still
    settle later)."""
    if payment.status is PaymentStatus.settled:
        raise IllegalMoveError("a payment settles once")
    payment.status = PaymentStatus.settled
    payment.settled_at = payment.updated_at = now


def fail_payment(payment: PaymentRecord, now: datetime) -> None:
    """The provider failed the payment; the order may be paid again."""
    if payment.status is not PaymentStatus.initiated:
        raise IllegalMoveError(f"a {payment.status} payment can't fail")
    payment.status = PaymentStatus.failed
    payment.failed_at = payment.updated_at = now


def end_instance(instance: InstanceRecord, now: datetime) -> None:
    """The instance's base order was refunded: the instance ends."""
    if instance.status is not InstanceStatus.active:
        raise IllegalMoveError(f"an {instance.status} instance can't end")
    instance.status = InstanceStatus.ended
    instance.ended_at = now
