"""The order state machine: which moves each status allows."""

import pytest

from services.orders.domain.model import Money, OrderStatus
from services.orders.domain.order import (
    ensure_acceptable,
    ensure_cancellable,
    ensure_payable,
    ensure_refundable,
)
from services.orders.errors import (
    AcceptanceNotRequiredError,
    OrderNotAcceptableError,
    OrderNotCancellableError,
    OrderNotPayableError,
    OrderNotRefundableError,
    PaymentInProgressError,
    RefundExceedsPaymentError,
)

PAID = Money(4900, "EUR")
OTHERS = [s for s in OrderStatus if s is not OrderStatus.pending_payment]


def test_only_an_order_awaiting_payment_is_payable() -> None:
    ensure_payable(OrderStatus.pending_payment)


@pytest.mark.parametrize("status", OTHERS)
def test_any_other_status_is_not_payable(status) -> None:
    with pytest.raises(OrderNotPayableError):
        ensure_payable(status)


def test_cancel_only_before_payment_and_not_during_one() -> None:
    ensure_cancellable(OrderStatus.pending_payment, payment_in_progress=False)
    with pytest.raises(PaymentInProgressError):
        ensure_cancellable(OrderStatus.pending_payment, payment_in_progress=True)
    for status in OTHERS:
        with pytest.raises(OrderNotCancellableError):
            ensure_cancellable(status, payment_in_progress=False)


def test_accept_needs_acceptance_and_a_fulfilled_order() -> None:
    ensure_acceptable(OrderStatus.fulfilled, requires_acceptance=True)
    with pytest.raises(AcceptanceNotRequiredError):
        ensure_acceptable(OrderStatus.fulfilled, requires_acceptance=False)
    for status in set(OrderStatus) - {OrderStatus.fulfilled}:
        with pytest.raises(OrderNotAcceptableError):
            ensure_acceptable(status, requires_acceptance=True)


def test_refund_only_in_the_guarantee_period() -> None:
    ensure_refundable(OrderStatus.fulfilled, PAID, 4900)
    ensure_refundable(OrderStatus.fulfilled, PAID, 1)
    for status in set(OrderStatus) - {OrderStatus.fulfilled}:
        with pytest.raises(OrderNotRefundableError):
            ensure_refundable(status, PAID, 100)


def test_refund_at_most_what_was_paid() -> None:
    with pytest.raises(RefundExceedsPaymentError):
        ensure_refundable(OrderStatus.fulfilled, PAID, 4901)
