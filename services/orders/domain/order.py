"""The order state machine.

    pending_payment --pay--> paid --fulfil--> fulfilled --accept--> completed
          |                                       |  (at once without acceptance)
          \\--cancel--> cancelled                  \\--refund--> refunded

`completed` ends the transaction guarantee period: a refund is possible only while the order
is `fulfilled`. An add-on order that was paid for an instance that ended before its license
was minted goes from `paid` to `refunded` by itself. The service applies each move under a row
lock, so two racing moves (a cancel and a pay, an accept and a refund) can't both win.
"""

from services.orders.domain.model import Money, OrderStatus
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
        raise OrderNotPayableError(f"The order is {status.value}.")


def ensure_cancellable(status: OrderStatus, payment_in_progress: bool) -> None:
    """Only an unpaid order with no payment under way can be cancelled."""
    if status is not OrderStatus.pending_payment:
        raise OrderNotCancellableError(f"The order is {status.value}.")
    if payment_in_progress:
        raise PaymentInProgressError(
            "Pay again to finish the payment, or wait for the provider to confirm or fail it."
        )


def ensure_acceptable(status: OrderStatus, requires_acceptance: bool) -> None:
    """Only a fulfilled order of a product that needs acceptance can be accepted."""
    if not requires_acceptance:
        raise AcceptanceNotRequiredError("The order completed when its license was minted.")
    if status is not OrderStatus.fulfilled:
        raise OrderNotAcceptableError(f"The order is {status.value}.")


def ensure_refundable(status: OrderStatus, paid: Money, amount_minor: int) -> None:
    """A refund of at most what was paid, during the guarantee period (`fulfilled`)."""
    if status is not OrderStatus.fulfilled:
        raise OrderNotRefundableError(
            f"The order is {status.value}; refunds are possible between fulfilment and completion."
        )
    if amount_minor > paid.amount_minor:
        raise RefundExceedsPaymentError(
            f"At most {paid.amount_minor} {paid.currency} (minor units) was paid."
        )
