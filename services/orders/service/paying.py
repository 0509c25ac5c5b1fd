"""Paying an order: charge, resume, settle, and the provider's webhook.

Paying claims the order (and an add-on's instance, re-checking its pack limit) and records the
payment `initiated`; then, with no transaction open, the provider charges and the license
service mints (idempotent per order); one more transaction records the payment settled and the
order fulfilled (or `completed`), with the instance of a `new` order. If license can't mint
then, that transaction records the order `paid` with an `order.fulfil` entry in the outbox
instead, and the relay mints later. A pay that died after `initiated` is resumed by the next
pay of the order, by a retry with its `Idempotency-Key`, or by the relay (`payment.resume`),
always with the same payment id (the provider settles a payment id once). A retry with the key
of a pay whose payment went through reports that payment's order instead of refusing to pay a
fulfilled order.
"""

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.license.client import License, UpstreamProblem
from services.orders.db.models import OrderRow, PaymentRow, WebhookEventRow
from services.orders.db.uow import OrdersUnitOfWork
from services.orders.domain import order as lifecycle
from services.orders.domain.model import InstanceStatus, OrderStatus, OrderType, PaymentStatus
from services.orders.domain.order import ensure_payable
from services.orders.domain.purchase import check_pack_limit
from services.orders.errors import (
    InstanceEndedError,
    InstanceNotFoundError,
    OrderNotFoundError,
    PaymentNotFoundError,
    PaymentProviderUnavailableError,
)
from services.orders.payments import ChargeResult
from services.orders.service.base import UseCases
from services.orders.service.records import record_fulfilment, record_settled
from services.orders.service.results import OrderState
from services.orders.service.topics import FULFIL, RESUME
from shared.auth import Principal
from shared.clock import utcnow
from shared.http import UpstreamUnavailableError
from shared.idempotency import Attempt

log = logging.getLogger("market.orders")


class Paying(UseCases):
    """Pay, resume and settle payments; apply the provider's webhook events."""

    async def pay(
        self, customer: Principal, order_id: str, attempt: Attempt[OrderState]
    ) -> OrderState:
        """Charge the order; fulfil it at once if the provider settles and license answers.

        The result is `fulfilled`/`completed` when everything happened now, `paid` when the
        outbox will mint later, `pending_payment` while the provider has not confirmed.

        The usual path is two transactions: the first claims the key and records the payment
        `initiated` (with a `payment.resume` entry that finishes it should this request
        die); then the provider charges and license mints (idempotent per order), with no
        transaction open; the second records the payment settled, the order fulfilled, the
        key's response, and drops the resume entry. If license can't mint now, the order is
        recorded `paid` with an `order.fulfil` entry instead, as a webhook would.

        A retry with the key of a pay that began a payment finishes or reports that payment
        (`_resume`), whatever the order's state now: it answers what the first request would
        have, never "the order is fulfilled" about its own payment.
        """
        now = utcnow()
        async with self.uow() as uow:
            await attempt.claim(uow.session, wait=False)
            order = await uow.orders.get(order_id, for_update=True)
            if order is None or order.customer_id != customer.sub:
                raise OrderNotFoundError(f"You have no order {order_id}.")
            earlier = await uow.payments.get(attempt.resource_id) if attempt.resuming else None
            if earlier is not None and earlier.order_id == order.id:
                if attempt.held and earlier.status is PaymentStatus.initiated:
                    attempt.wait()  # its request may be charging it right now
            elif attempt.held:
                attempt.wait()
            else:
                earlier = None
                payment, resume = await self._begin_payment(uow, order, attempt, now)
        if earlier is not None:
            return await self._resume(order, earlier, attempt)
        return await self._charge_and_fulfil(order, payment, resume, attempt)

    async def _begin_payment(
        self, uow: OrdersUnitOfWork, order: OrderRow, attempt: Attempt[OrderState], now: datetime
    ) -> tuple[PaymentRow, str | None]:
        """Under the order's lock: the payment to charge (the one under way, or a new one
        `initiated` with its resume entry) and that entry's id."""
        ensure_payable(order.status)
        if order.type is OrderType.addon:
            await _recheck_addon(uow, order)
        payment = await uow.payments.in_progress(order.id)
        if payment is not None:
            # Another pay began it: this key now stands for that payment, so a retry of
            # this request that takes the key over finds it.
            await attempt.rebind(uow.session, payment.id)
            return payment, None
        payment = PaymentRow(
            id=attempt.resource_id,
            order_id=order.id,
            provider=self.provider.name,
            amount_minor=order.amount_minor,
            currency=order.currency,
            status=PaymentStatus.initiated,
            created_at=now,
            updated_at=now,
        )
        await uow.payments.add(payment)
        # If this request dies before the provider's answer is recorded, the relay charges
        # the same payment again later; the provider settles it once.
        resume = await uow.outbox.add(
            RESUME, {"payment_id": payment.id}, delay_seconds=self.payment_resume_seconds
        )
        return payment, resume

    async def _resume(
        self, order: OrderRow, payment: PaymentRow, attempt: Attempt[OrderState]
    ) -> OrderState:
        """A retry of a pay that began `payment` (its request died, or still holds the key):
        charge it again while it is `initiated` and the order awaits it (the provider
        settles a payment id once), fulfil an order it paid that still awaits its license,
        and otherwise report the order as it stands."""
        log.info(
            "pay retried with its key: resuming its payment",
            extra={"order": order.id, "payment": payment.id, "status": payment.status},
        )
        if payment.status is PaymentStatus.initiated:
            if order.status is OrderStatus.pending_payment:
                return await self._charge_and_fulfil(order, payment, None, attempt)
        elif (
            payment.status is PaymentStatus.settled
            and order.status is OrderStatus.paid
            and order.payment_id == payment.id
        ):
            assert payment.settled_at is not None
            return await self._fulfil_paid(order, payment, payment.settled_at, None, attempt)
        return await self._state(order.id, payment.id)

    async def _charge_and_fulfil(
        self,
        order: OrderRow,
        payment: PaymentRow,
        resume: str | None,
        attempt: Attempt[OrderState],
    ) -> OrderState:
        """With no transaction open: the provider charges, license mints, and one more
        transaction records both (see `pay`)."""
        try:
            result = await self.provider.charge(
                payment.id, payment.amount_minor, payment.currency, order.id
            )
        except Exception as exc:
            log.warning(
                "payment provider failed; the payment stays initiated",
                extra={"payment": payment.id, "error": f"{type(exc).__name__}: {exc}"},
            )
            raise PaymentProviderUnavailableError(
                "The payment provider can't be reached; pay again to retry the same payment."
            ) from exc
        if result is not ChargeResult.settled:
            return OrderState(order, payment)
        return await self._fulfil_paid(order, payment, utcnow(), resume, attempt)

    async def _fulfil_paid(
        self,
        order: OrderRow,
        payment: PaymentRow,
        settled_at: datetime,
        resume: str | None,
        attempt: Attempt[OrderState],
    ) -> OrderState:
        """The provider settled `payment`: mint, then record it settled and the order
        fulfilled in one transaction; if license can't mint now, record it settled and
        leave the order `paid` for the relay."""
        try:
            minted = await self._mint(order, paid_at=settled_at)
        except UpstreamUnavailableError as exc:
            # Asking again now would only wait on license twice: the relay mints later.
            log.info(
                "license could not mint during pay; the outbox fulfils the order",
                extra={"order": order.id, "error": str(exc)},
            )
            await self.settle(payment.id, settled_at)
            return await self._state(order.id, payment.id)
        except UpstreamProblem:
            # License refused (say, the base license was revoked meanwhile): the fulfilment
            # handler decides what follows (a refund), as for any paid order.
            entry = await self.settle(payment.id, settled_at)
            if entry is not None:
                await self.outbox.deliver_now(entry)
            return await self._state(order.id, payment.id)
        return await self._record_paid_and_fulfilled(
            order.id, payment.id, minted, settled_at, resume, attempt
        )

    async def _record_paid_and_fulfilled(
        self,
        order_id: str,
        payment_id: str,
        minted: License,
        settled_at: datetime,
        resume: str | None,
        attempt: Attempt[OrderState],
    ) -> OrderState:
        """After a settled charge and a minted license: both recorded in one transaction."""
        now = utcnow()
        entries: list[str] = []
        async with self.uow() as uow:
            await attempt.lock(uow.session)  # the key before the order, as in `pay`
            order = await uow.orders.get(order_id, for_update=True)
            payment = await uow.payments.get(payment_id, for_update=True)
            assert order is not None
            assert payment is not None
            refund = await record_settled(uow, order, payment, settled_at)
            if refund is not None:
                entries.append(refund)
            if order.status is OrderStatus.paid:
                # The license is the order's, whichever payment paid it.
                entries += await record_fulfilment(uow, order, minted, now)
            if resume is not None:
                await uow.outbox.discard(resume)
            state = OrderState(order, payment)
            await attempt.complete(uow.session, state)
        await self._deliver(entries)
        return state

    async def resume_payment(self, payload: dict[str, Any]) -> None:
        """Outbox handler: finish a payment whose pay request died after `initiated`.

        Charging again with the same payment id is what providers make idempotent; a payment
        already settled or failed, or an order no longer awaiting payment, needs nothing.
        """
        async with self.uow(read=True) as uow:
            payment = await uow.payments.get(str(payload["payment_id"]))
            if payment is None or payment.status is not PaymentStatus.initiated:
                return
            order = await uow.orders.get(payment.order_id)
            if order is None or order.status is not OrderStatus.pending_payment:
                return
        log.info(
            "resuming a payment whose pay request did not finish",
            extra={"order": payment.order_id, "payment": payment.id},
        )
        result = await self.provider.charge(
            payment.id, payment.amount_minor, payment.currency, payment.order_id
        )
        if result is ChargeResult.settled:
            entry = await self.settle(payment.id)
            if entry is not None:
                await self.outbox.deliver_now(entry)

    async def settle(self, payment_id: str, settled_at: datetime | None = None) -> str | None:
        """Record that the provider settled the payment; the outbox entry to deliver, if any."""
        async with self.uow() as uow:
            return await _settle_in(uow, payment_id, settled_at or utcnow())

    async def handle_webhook(self, event_id: str, event_type: str, payment_id: str) -> bool:
        """Apply a provider event once; False if this event id was handled before."""
        now = utcnow()
        entry: str | None = None
        try:
            async with self.uow() as uow:
                if await uow.webhook_events.seen(event_id):
                    return False
                if event_type == "payment.settled":
                    entry = await _settle_in(uow, payment_id, now)
                else:
                    await _fail_in(uow, payment_id, now)
                await uow.webhook_events.add(
                    WebhookEventRow(
                        event_id=event_id, type=event_type, payment_id=payment_id, received_at=now
                    )
                )
        except IntegrityError:
            return False  # the same event, delivered twice at once: the other one applied it
        if entry is not None:
            await self.outbox.deliver_now(entry)
        return True


async def _settle_in(uow: OrdersUnitOfWork, payment_id: str, now: datetime) -> str | None:
    """Under the order's lock, the payment settled: the order's fulfilment (an
    `order.fulfil` entry) if it paid the order, else its refund (`payment.refund`)."""
    found = await uow.payments.get(payment_id)
    if found is None:
        raise PaymentNotFoundError(f"No payment {payment_id}.")
    order = await uow.orders.get(found.order_id, for_update=True)
    payment = await uow.payments.get(payment_id, for_update=True)
    assert order is not None
    assert payment is not None
    if payment.status is PaymentStatus.settled:
        return None
    refund = await record_settled(uow, order, payment, now)
    if refund is not None:
        return refund
    return await uow.outbox.add(FULFIL, {"order_id": order.id})


async def _fail_in(uow: OrdersUnitOfWork, payment_id: str, now: datetime) -> None:
    payment = await uow.payments.get(payment_id, for_update=True)
    if payment is None:
        raise PaymentNotFoundError(f"No payment {payment_id}.")
    if payment.status is PaymentStatus.initiated:
        lifecycle.fail_payment(payment, now)


async def _recheck_addon(uow: OrdersUnitOfWork, order: OrderRow) -> None:
    """Under the instance's lock: still active, and the packs still fit."""
    assert order.addon_id is not None
    instance = await uow.instances.get(order.instance_id, for_update=True)
    if instance is None:
        raise InstanceNotFoundError(f"Instance {order.instance_id} is gone.")
    if instance.status is not InstanceStatus.active:
        raise InstanceEndedError(f"Instance {order.instance_id} has ended.")
    held = await uow.orders.packs_held(order.instance_id, order.addon_id, excluding=order.id)
    check_pack_limit(order.addon_id, order.max_per_instance or 0, held, order.quantity)
