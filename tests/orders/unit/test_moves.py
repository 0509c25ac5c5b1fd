"""The order's moves: each sets its status with its timestamps, and only where the state
machine has the move (on plain records: the domain needs no database)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from services.orders.domain import order as lifecycle
from services.orders.domain.model import InstanceStatus, OrderStatus, PaymentStatus
from services.orders.domain.order import MOVES, IllegalMoveError
from services.orders.errors import (
    AcceptanceNotRequiredError,
    OrderNotAcceptableError,
    OrderNotCancellableError,
    PaymentInProgressError,
)

CREATED = datetime(2026, 11, 1, tzinfo=UTC)
NOW = CREATED + timedelta(hours=1)


@dataclass
class Order:
    status: OrderStatus = OrderStatus.pending_payment
    requires_acceptance: bool = True
    id: str = "ord_1"
    license_id: str | None = None
    payment_id: str | None = None
    updated_at: datetime = CREATED
    paid_at: datetime | None = None
    fulfilled_at: datetime | None = None
    accepted_at: datetime | None = None
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    refunded_at: datetime | None = None
    refund_amount_minor: int | None = None
    refund_reason: str | None = None


@dataclass
class Payment:
    status: PaymentStatus = PaymentStatus.initiated
    updated_at: datetime = CREATED
    settled_at: datetime | None = None
    failed_at: datetime | None = None


@dataclass
class Instance:
    status: InstanceStatus = InstanceStatus.active
    ended_at: datetime | None = None


def test_settle_pays_the_order_with_that_payment() -> None:
    order = Order()
    lifecycle.settle(order, "pay_1", NOW)
    assert (order.status, order.paid_at, order.payment_id, order.updated_at) == (
        OrderStatus.paid,
        NOW,
        "pay_1",
        NOW,
    )


def test_fulfil_awaits_acceptance_or_completes_at_once() -> None:
    waits = Order(status=OrderStatus.paid, requires_acceptance=True)
    lifecycle.fulfil(waits, "lic_1", NOW)
    assert (waits.status, waits.license_id, waits.fulfilled_at, waits.completed_at) == (
        OrderStatus.fulfilled,
        "lic_1",
        NOW,
        None,
    )
    done = Order(status=OrderStatus.paid, requires_acceptance=False)
    lifecycle.fulfil(done, "lic_2", NOW)
    assert (done.status, done.fulfilled_at, done.completed_at) == (
        OrderStatus.completed,
        NOW,
        NOW,
    )


def test_accept_completes_a_fulfilled_order_that_needs_it() -> None:
    order = Order(status=OrderStatus.fulfilled)
    lifecycle.accept(order, NOW)
    assert (order.status, order.accepted_at, order.completed_at) == (
        OrderStatus.completed,
        NOW,
        NOW,
    )
    with pytest.raises(OrderNotAcceptableError):
        lifecycle.accept(Order(status=OrderStatus.paid), NOW)
    with pytest.raises(AcceptanceNotRequiredError):
        lifecycle.accept(Order(status=OrderStatus.fulfilled, requires_acceptance=False), NOW)


@pytest.mark.parametrize("status", [OrderStatus.paid, OrderStatus.fulfilled])
def test_refund_records_how_much_and_why(status: OrderStatus) -> None:
    order = Order(status=status)
    lifecycle.refund(order, 1000, "goodwill", NOW)
    assert (order.status, order.refunded_at, order.refund_amount_minor, order.refund_reason) == (
        OrderStatus.refunded,
        NOW,
        1000,
        "goodwill",
    )


def test_cancel_only_an_unpaid_order_with_no_payment_under_way() -> None:
    order = Order()
    lifecycle.cancel(order, False, NOW)
    assert (order.status, order.cancelled_at) == (OrderStatus.cancelled, NOW)
    with pytest.raises(PaymentInProgressError):
        lifecycle.cancel(Order(), True, NOW)
    with pytest.raises(OrderNotCancellableError):
        lifecycle.cancel(Order(status=OrderStatus.paid), False, NOW)


MOVE_TO: dict[OrderStatus, Callable[[Order], None]] = {
    OrderStatus.paid: lambda order: lifecycle.settle(order, "pay_1", NOW),
    OrderStatus.fulfilled: lambda order: lifecycle.fulfil(order, "lic_1", NOW),
    OrderStatus.refunded: lambda order: lifecycle.refund(order, 1, "x", NOW),
}


@pytest.mark.parametrize(
    ("status", "to"),
    [(status, to) for status in OrderStatus for to in MOVE_TO if to not in MOVES[status]],
)
def test_a_move_the_state_machine_lacks_changes_nothing(
    status: OrderStatus, to: OrderStatus
) -> None:
    order = Order(status=status)
    with pytest.raises(IllegalMoveError):
        MOVE_TO[to](order)
    assert order == Order(status=status)


def test_a_payment_settles_once_and_fails_only_while_initiated() -> None:
    payment = Payment()
    lifecycle.settle_payment(payment, NOW)
    assert (payment.status, payment.settled_at, payment.updated_at) == (
        PaymentStatus.settled,
        NOW,
        NOW,
    )
    with pytest.raises(IllegalMoveError):
        lifecycle.settle_payment(payment, NOW)
    with pytest.raises(IllegalMoveError):
        lifecycle.fail_payment(payment, NOW)
    failed = Payment()
    lifecycle.fail_payment(failed, NOW)
    assert (failed.status, failed.failed_at) == (PaymentStatus.failed, NOW)
    lifecycle.settle_payment(failed, NOW)  # a provider may settle what it reported failed
    assert failed.status is PaymentStatus.settled


def test_an_instance_ends_once() -> None:
    instance = Instance()
    lifecycle.end_instance(instance, NOW)
    assert (instance.status, instance.ended_at) == (InstanceStatus.ended, NOW)
    with pytest.raises(IllegalMoveError):
        lifecycle.end_instance(instance, NOW)
