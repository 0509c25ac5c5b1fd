"""Steps taken inside one unit of work, under the order's lock, by several families of use
cases: a payment settled, a license's fulfilment recorded, an order refunded.

Each applies the domain's moves (`services.orders.domain.order`) to the rows and adds the
effects on other services to the outbox in the same transaction; each returns the ids of the
outbox entries its caller delivers once the transaction has committed.
"""

import logging
from datetime import datetime

from services.license.client import License
from services.orders.db.models import InstanceRow, OrderRow, PaymentRow
from services.orders.db.uow import OrdersUnitOfWork
from services.orders.domain import order as lifecycle
from services.orders.domain.model import InstanceStatus, OrderStatus, OrderType, PaymentStatus
from services.orders.service.topics import REFUND, REVOKE

INSTANCE_ENDED_REASON = "instance ended"
INSTANCE_REFUNDED_REASON = "instance refunded"

log = logging.getLogger("market.orders")


async def record_settled(
    uow: OrdersUnitOfWork, order: OrderRow, payment: PaymentRow, now: datetime
) -> str | None:
    """`payment` settled (once): it pays an order awaiting payment and is recorded as the
    order's payment; money for an order that can't take it (paid by another payment,
    cancelled, refunded) goes back. The refund entry, if any."""
    if payment.status is PaymentStatus.settled:
        return None
    lifecycle.settle_payment(payment, now)
    if order.status is OrderStatus.pending_payment:
        lifecycle.settle(order, payment.id, now)
        return None
    log.warning(
        "payment settled for an order that is not awaiting payment; refunding it",
        extra={"payment": payment.id, "order": order.id, "status": order.status},
    )
    return await uow.outbox.add(
        REFUND, {"payment_id": payment.id, "amount_minor": payment.amount_minor}
    )


async def record_fulfilment(
    uow: OrdersUnitOfWork, order: OrderRow, minted: License, now: datetime
) -> list[str]:
    """A paid order's minted license: the order fulfilled (or completed), a `new` order's
    instance created; refunded instead if the instance ended meanwhile."""
    instance = await uow.instances.get(order.instance_id, for_update=True)
    if order.type is OrderType.new and instance is None:
        await uow.instances.add(
            InstanceRow(
                id=order.instance_id,
                customer_id=order.customer_id,
                partner_id=order.partner_id,
                product_id=order.product_id,
                plan_id=order.plan_id,
                base_order_id=order.id,
                status=InstanceStatus.active,
                created_at=now,
            )
        )
    elif instance is None or instance.status is not InstanceStatus.active:
        # The instance ended while the license was being minted.
        return await mark_refunded(uow, order, order.amount_minor, INSTANCE_ENDED_REASON, now)
    lifecycle.fulfil(order, minted.id, now)
    return []


async def mark_refunded(
    uow: OrdersUnitOfWork, order: OrderRow, amount_minor: int, reason: str, now: datetime
) -> list[str]:
    """The order refunded; its license revoked (if any) and the money given back."""
    lifecycle.refund(order, amount_minor, reason, now)
    entries = [await uow.outbox.add(REVOKE, {"order_id": order.id, "reason": reason})]
    # The payment that paid the order; another that settled later was refunded already.
    payment = await uow.payments.get(order.payment_id) if order.payment_id else None
    if payment is not None:
        entries.append(
            await uow.outbox.add(REFUND, {"payment_id": payment.id, "amount_minor": amount_minor})
        )
    return entries
