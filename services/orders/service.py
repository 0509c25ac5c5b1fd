"""The orders service's use cases.

Placing an order prices it from the product's live revision (a catalog call made between two
short transactions) and stores it `pending_payment`. Paying claims the order (and an add-on's
instance, re-checking its pack limit) and records the payment `initiated`; then, with no
transaction open, the provider charges and the license service mints (idempotent per order);
one more transaction records the payment settled and the order fulfilled (or `completed`),
with the instance of a `new` order. If license can't mint then, that last transaction records
the order `paid` with an `order.fulfil` entry in the outbox instead, and the relay mints
later. Acceptance and refunds change the order and add their effect on the license service
(and the provider) to the outbox together. No transaction is ever open during an HTTP call; a
pay that died after `initiated` is resumed by the next pay of the order, by a retry with its
`Idempotency-Key`, or by the relay (`payment.resume`), always with the same payment id (the
provider settles a payment id once). A retry with the key of a pay whose payment went through
reports that payment's order instead of refusing to pay a fulfilled order.
"""

import asyncio
import logging
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.catalog.client import CatalogClient, LiveProduct, PlanInfo
from services.license.client import License, LicenseClient, UpstreamProblem
from services.orders.db.models import InstanceRow, OrderRow, PaymentRow, WebhookEventRow
from services.orders.db.repositories import (
    InstanceRepository,
    OrderRepository,
    PaymentRepository,
    WebhookEventRepository,
)
from services.orders.domain.model import (
    Cycle,
    CycleUnit,
    InstanceStatus,
    LicensePreview,
    Money,
    Offer,
    OrderStatus,
    OrderType,
    PaymentStatus,
    PricedCycle,
    ProductOffer,
    Purchase,
)
from services.orders.domain.order import (
    ensure_acceptable,
    ensure_cancellable,
    ensure_payable,
    ensure_refundable,
)
from services.orders.domain.pricing import term_end
from services.orders.domain.purchase import (
    add_entitlements,
    check_instance,
    check_pack_limit,
    license_preview,
    quote_addon,
    quote_new,
)
from services.orders.errors import (
    AcceptanceDeadlinePassedError,
    InstanceEndedError,
    InstanceNotFoundError,
    OrderNotFoundError,
    PaymentNotFoundError,
    PaymentProviderUnavailableError,
    UnknownProductError,
)
from services.orders.payments import ChargeResult, PaymentProvider
from shared.auth import Principal, Role
from shared.clock import utcnow
from shared.http import UpstreamUnavailableError
from shared.idempotency import Attempt
from shared.ids import new_id
from shared.outbox import Outbox
from shared.pagination import PageRequest, build_page

FULFIL = "order.fulfil"
ACCEPT = "license.accept"
REVOKE = "license.revoke"
REFUND = "payment.refund"
RESUME = "payment.resume"

INSTANCE_ENDED_REASON = "instance ended"
INSTANCE_REFUNDED_REASON = "instance refunded"

log = logging.getLogger("market.orders")


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What a customer asks to buy (ids as sent; nothing about the price)."""

    type: OrderType
    cycle: Cycle | None
    quantity: int
    product_id: str | None = None
    plan_id: str | None = None
    instance_id: str | None = None
    addon_id: str | None = None


@dataclass(frozen=True, slots=True)
class OrderState:
    """An order and its most recent payment."""

    order: OrderRow
    payment: PaymentRow | None


@dataclass(frozen=True, slots=True)
class Quote:
    """A dry run: the price, the license to be minted, the entitlement before and after.

    The entitlements are None when the license service could not be asked.
    """

    purchase: Purchase
    license: LicensePreview
    entitlement_before: dict[str, int] | None
    entitlement_after: dict[str, int] | None


@dataclass(frozen=True, slots=True)
class LicenseSummary:
    """One license of an instance, as the license service reports it."""

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
    def of(cls, lic: License) -> "LicenseSummary":
        kept = {field.name: getattr(lic, field.name) for field in fields(cls)}
        return cls(**{**kept, "entitlements": dict(lic.entitlements)})


@dataclass(frozen=True, slots=True)
class InstanceState:
    """An instance with its licenses and current entitlement (if license answered)."""

    instance: InstanceRow
    licenses: list[LicenseSummary]
    entitlement: dict[str, int] | None
    licenses_available: bool


class OrderService:
    """Use cases of the orders service; each transaction is short and holds no HTTP call."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        read_sessionmaker: async_sessionmaker[AsyncSession],
        catalog: CatalogClient,
        license: LicenseClient,
        outbox: Outbox,
        provider: PaymentProvider,
        *,
        payment_resume_seconds: float = 30.0,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.read_sessionmaker = read_sessionmaker
        self.catalog = catalog
        self.license = license
        self.outbox = outbox
        self.provider = provider
        self.payment_resume_seconds = payment_resume_seconds

    # -- placing -------------------------------------------------------------------------

    async def quote(self, customer: Principal, request: OrderRequest) -> Quote:
        """What the order would cost and grant, with nothing stored (a dry run)."""
        product = await self._live_product_for(customer, request)
        async with self.read_sessionmaker() as session, session.begin():
            purchase = await self._check(session, customer, request, product, lock=False)
        preview = license_preview(
            type=purchase.type,
            plan_id=purchase.plan_id,
            addon_id=purchase.addon_id,
            entitlements=purchase.entitlements,
            cycle=purchase.cycle,
            requires_acceptance=purchase.requires_acceptance,
            acceptance_days=purchase.acceptance_days,
            valid_from=utcnow().replace(microsecond=0),
        )
        before: dict[str, int] | None = {}
        if purchase.type is OrderType.addon:
            assert purchase.instance_id is not None
            try:
                entitlement = await self.license.get_instance_entitlement(purchase.instance_id)
                before = dict(entitlement.entitlements)
            except (UpstreamUnavailableError, UpstreamProblem) as exc:
                log.warning("entitlement unavailable for a dry run", extra={"error": str(exc)})
                before = None
        after = add_entitlements(before, preview.entitlements) if before is not None else None
        return Quote(purchase, preview, before, after)

    async def place(
        self, customer: Principal, request: OrderRequest, attempt: Attempt[OrderState]
    ) -> OrderState:
        """Store the order as `attempt.resource_id`, priced from the live revision.

        Two transactions around the catalog call: the first looks the key up (a retry gets
        the first answer) and finds an add-on's instance; the second stores the order and
        the key's response together, so concurrent duplicates make one order.
        """
        if request.type is OrderType.new:
            assert request.product_id is not None
            product_id = request.product_id
            if attempt.keyed:
                async with self.read_sessionmaker() as session, session.begin():
                    await attempt.check(session)
        else:
            assert request.instance_id is not None
            async with self.read_sessionmaker() as session, session.begin():
                await attempt.check(session)
                instance = await InstanceRepository(session).get(request.instance_id)
            check_instance(
                instance.facts() if instance else None, customer.sub, request.instance_id
            )
            assert instance is not None
            product_id = instance.product_id
        product = await self._live_product(product_id)
        now = utcnow()
        async with self.sessionmaker() as session, session.begin():
            purchase = await self._check(session, customer, request, product, lock=True)
            row = OrderRow(
                id=attempt.resource_id,
                type=purchase.type.value,
                customer_id=customer.sub,
                partner_id=purchase.partner_id,
                product_id=purchase.product_id,
                revision=purchase.revision,
                plan_id=purchase.plan_id,
                addon_id=purchase.addon_id,
                instance_id=purchase.instance_id or new_id("ins"),
                cycle_unit=purchase.cycle.unit.value if purchase.cycle else None,
                cycle_count=purchase.cycle.count if purchase.cycle else None,
                quantity=purchase.quantity,
                amount_minor=purchase.amount.amount_minor,
                currency=purchase.amount.currency,
                entitlements=purchase.entitlements,
                requires_acceptance=purchase.requires_acceptance,
                acceptance_days=purchase.acceptance_days,
                max_per_instance=purchase.max_per_instance,
                status=OrderStatus.pending_payment.value,
                created_at=now,
                updated_at=now,
            )
            await OrderRepository(session).add(row)
            state = OrderState(row, None)
            await attempt.complete(session, state)
        return state

    async def _live_product_for(self, customer: Principal, request: OrderRequest) -> ProductOffer:
        """The live revision of the product bought: the one named, or the instance's."""
        if request.type is OrderType.new:
            assert request.product_id is not None
            return await self._live_product(request.product_id)
        assert request.instance_id is not None
        async with self.read_sessionmaker() as session, session.begin():
            instance = await InstanceRepository(session).get(request.instance_id)
        check_instance(instance.facts() if instance else None, customer.sub, request.instance_id)
        assert instance is not None
        return await self._live_product(instance.product_id)

    async def _live_product(self, product_id: str) -> ProductOffer:
        try:
            live = await self.catalog.get_live_product(product_id)
        except UpstreamProblem as problem:
            if problem.upstream_status == 404:
                raise UnknownProductError(f"No product {product_id} is on sale.") from None
            raise
        return _product_offer(live)

    async def _check(
        self,
        session: AsyncSession,
        customer: Principal,
        request: OrderRequest,
        product: ProductOffer,
        *,
        lock: bool,
    ) -> Purchase:
        if request.type is OrderType.new:
            assert request.plan_id is not None
            return quote_new(product, request.plan_id, request.cycle, request.quantity)
        assert request.instance_id is not None
        assert request.addon_id is not None
        instance = await InstanceRepository(session).get(request.instance_id, for_update=lock)
        held = await OrderRepository(session).packs_held(
            request.instance_id, request.addon_id, excluding=None
        )
        return quote_addon(
            product,
            instance.facts() if instance else None,
            customer_id=customer.sub,
            instance_id=request.instance_id,
            addon_id=request.addon_id,
            cycle=request.cycle,
            quantity=request.quantity,
            packs_held=held,
        )

    # -- paying --------------------------------------------------------------------------

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
        async with self.sessionmaker() as session, session.begin():
            await attempt.claim(session, wait=False)
            order = await OrderRepository(session).get(order_id, for_update=True)
            if order is None or order.customer_id != customer.sub:
                raise OrderNotFoundError(f"You have no order {order_id}.")
            payments = PaymentRepository(session)
            earlier = await payments.get(attempt.resource_id) if attempt.resuming else None
            if earlier is not None and earlier.order_id == order.id:
                if attempt.held and earlier.status == PaymentStatus.initiated.value:
                    attempt.wait()  # its request may be charging it right now
            elif attempt.held:
                attempt.wait()
            else:
                earlier = None
                payment, resume = await self._begin_payment(session, order, attempt, now)
        if earlier is not None:
            return await self._resume(order, earlier, attempt)
        return await self._charge_and_fulfil(order, payment, resume, attempt)

    async def _begin_payment(
        self, session: AsyncSession, order: OrderRow, attempt: Attempt[OrderState], now: datetime
    ) -> tuple[PaymentRow, str | None]:
        """Under the order's lock: the payment to charge (the one under way, or a new one
        `initiated` with its resume entry) and that entry's id."""
        ensure_payable(OrderStatus(order.status))
        if order.type == OrderType.addon.value:
            await self._recheck_addon(session, order)
        payments = PaymentRepository(session)
        payment = await payments.in_progress(order.id)
        if payment is not None:
            # Another pay began it: this key now stands for that payment, so a retry of
            # this request that takes the key over finds it.
            await attempt.rebind(session, payment.id)
            return payment, None
        payment = PaymentRow(
            id=attempt.resource_id,
            order_id=order.id,
            provider=self.provider.name,
            amount_minor=order.amount_minor,
            currency=order.currency,
            status=PaymentStatus.initiated.value,
            created_at=now,
            updated_at=now,
        )
        await payments.add(payment)
        # If this request dies before the provider's answer is recorded, the relay charges
        # the same payment again later; the provider settles it once.
        resume = await self.outbox.add(
            session, RESUME, {"payment_id": payment.id}, delay_seconds=self.payment_resume_seconds
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
        if payment.status == PaymentStatus.initiated.value:
            if order.status == OrderStatus.pending_payment.value:
                return await self._charge_and_fulfil(order, payment, None, attempt)
        elif (
            payment.status == PaymentStatus.settled.value
            and order.status == OrderStatus.paid.value
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
        async with self.sessionmaker() as session, session.begin():
            await attempt.lock(session)  # the key before the order, as in `pay`
            order = await OrderRepository(session).get(order_id, for_update=True)
            payment = await PaymentRepository(session).get(payment_id, for_update=True)
            assert order is not None
            assert payment is not None
            refund = await self._record_settled(session, order, payment, settled_at)
            if refund is not None:
                entries.append(refund)
            if order.status == OrderStatus.paid.value:
                # The license is the order's, whichever payment paid it.
                entries += await self._record_fulfilment(session, order, minted, now)
            if resume is not None:
                await self.outbox.discard(session, resume)
            state = OrderState(order, payment)
            await attempt.complete(session, state)
        await self._deliver(entries)
        return state

    async def _recheck_addon(self, session: AsyncSession, order: OrderRow) -> None:
        """Under the instance's lock: still active, and the packs still fit."""
        assert order.addon_id is not None
        instance = await InstanceRepository(session).get(order.instance_id, for_update=True)
        if instance is None:
            raise InstanceNotFoundError(f"Instance {order.instance_id} is gone.")
        if instance.status != InstanceStatus.active.value:
            raise InstanceEndedError(f"Instance {order.instance_id} has ended.")
        held = await OrderRepository(session).packs_held(
            order.instance_id, order.addon_id, excluding=order.id
        )
        check_pack_limit(order.addon_id, order.max_per_instance or 0, held, order.quantity)

    async def resume_payment(self, payload: dict[str, Any]) -> None:
        """Outbox handler: finish a payment whose pay request died after `initiated`.

        Charging again with the same payment id is what providers make idempotent; a payment
        already settled or failed, or an order no longer awaiting payment, needs nothing.
        """
        async with self.sessionmaker() as session, session.begin():
            payment = await PaymentRepository(session).get(str(payload["payment_id"]))
            if payment is None or payment.status != PaymentStatus.initiated.value:
                return
            order = await OrderRepository(session).get(payment.order_id)
            if order is None or order.status != OrderStatus.pending_payment.value:
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
        async with self.sessionmaker() as session, session.begin():
            return await self._settle_in(session, payment_id, settled_at or utcnow())

    async def _settle_in(self, session: AsyncSession, payment_id: str, now: datetime) -> str | None:
        """Under the order's lock, the payment settled: the order's fulfilment (an
        `order.fulfil` entry) if it paid the order, else its refund (`payment.refund`)."""
        payments = PaymentRepository(session)
        found = await payments.get(payment_id)
        if found is None:
            raise PaymentNotFoundError(f"No payment {payment_id}.")
        order = await OrderRepository(session).get(found.order_id, for_update=True)
        payment = await payments.get(payment_id, for_update=True)
        assert order is not None
        assert payment is not None
        if payment.status == PaymentStatus.settled.value:
            return None
        refund = await self._record_settled(session, order, payment, now)
        if refund is not None:
            return refund
        return await self.outbox.add(session, FULFIL, {"order_id": order.id})

    async def _record_settled(
        self, session: AsyncSession, order: OrderRow, payment: PaymentRow, now: datetime
    ) -> str | None:
        """Under the order's lock, `payment` settled (once): it pays an order awaiting
        payment and is recorded as the order's payment; money for an order that can't take
        it (paid by another payment, cancelled, refunded) goes back. The refund entry, if
        any."""
        if payment.status == PaymentStatus.settled.value:
            return None
        payment.status = PaymentStatus.settled.value
        payment.settled_at = payment.updated_at = now
        if order.status == OrderStatus.pending_payment.value:
            order.status = OrderStatus.paid.value
            order.paid_at = order.updated_at = now
            order.payment_id = payment.id
            return None
        log.warning(
            "payment settled for an order that is not awaiting payment; refunding it",
            extra={"payment": payment.id, "order": order.id, "status": order.status},
        )
        return await self.outbox.add(
            session, REFUND, {"payment_id": payment.id, "amount_minor": payment.amount_minor}
        )

    async def handle_webhook(self, event_id: str, event_type: str, payment_id: str) -> bool:
        """Apply a provider event once; False if this event id was handled before."""
        now = utcnow()
        entry: str | None = None
        try:
            async with self.sessionmaker() as session, session.begin():
                events = WebhookEventRepository(session)
                if await events.seen(event_id):
                    return False
                if event_type == "payment.settled":
                    entry = await self._settle_in(session, payment_id, now)
                else:
                    await self._fail_in(session, payment_id, now)
                await events.add(
                    WebhookEventRow(
                        event_id=event_id, type=event_type, payment_id=payment_id, received_at=now
                    )
                )
        except IntegrityError:
            return False  # the same event, delivered twice at once: the other one applied it
        if entry is not None:
            await self.outbox.deliver_now(entry)
        return True

    async def _fail_in(self, session: AsyncSession, payment_id: str, now: datetime) -> None:
        payment = await PaymentRepository(session).get(payment_id, for_update=True)
        if payment is None:
            raise PaymentNotFoundError(f"No payment {payment_id}.")
        if payment.status == PaymentStatus.initiated.value:
            payment.status = PaymentStatus.failed.value
            payment.failed_at = payment.updated_at = now

    # -- fulfilling (outbox handler) -----------------------------------------------------

    async def fulfil(self, payload: dict[str, Any]) -> None:
        """Mint the paid order's license, then record it (idempotent; run by the relay)."""
        order_id = str(payload["order_id"])
        async with self.read_sessionmaker() as session, session.begin():
            order = await OrderRepository(session).get(order_id)
            if order is None or order.status != OrderStatus.paid.value:
                return
            instance = await InstanceRepository(session).get(order.instance_id)
        if order.type == OrderType.addon.value and (
            instance is None or instance.status != InstanceStatus.active.value
        ):
            await self._refund_unfulfillable(order_id)
            return
        assert order.paid_at is not None
        try:
            minted = await self._mint(order, paid_at=order.paid_at)
        except UpstreamProblem as problem:
            # Any other refusal is the outbox's to judge (shared.outbox.is_permanent).
            if problem.upstream_code not in ("base_license_revoked", "base_license_missing"):
                raise
            await self._refund_unfulfillable(order_id)
            return
        entries: list[str] = []
        async with self.sessionmaker() as session, session.begin():
            order = await OrderRepository(session).get(order_id, for_update=True)
            assert order is not None
            if order.status != OrderStatus.paid.value:
                return
            entries = await self._record_fulfilment(session, order, minted, utcnow())
        await self._deliver(entries)

    async def _mint(self, order: OrderRow, *, paid_at: datetime) -> License:
        """Ask license for the order's license (idempotent per order)."""
        is_new = order.type == OrderType.new.value
        return await self.license.mint(
            order_id=order.id,
            instance_id=order.instance_id,
            customer_id=order.customer_id,
            partner_id=order.partner_id,
            product_id=order.product_id,
            level="base" if is_new else "addon",
            plan_id=order.plan_id,
            addon_id=order.addon_id,
            quantity=order.quantity,
            entitlements=dict(order.entitlements),
            valid_from=paid_at,
            valid_until=term_end(paid_at, order.cycle),
            requires_acceptance=order.requires_acceptance,
            acceptance_days=order.acceptance_days,
        )

    async def _record_fulfilment(
        self, session: AsyncSession, order: OrderRow, minted: License, now: datetime
    ) -> list[str]:
        """Under the order's lock, a paid order's minted license: the order fulfilled (or
        completed), a `new` order's instance created; refunded instead if the instance
        ended meanwhile. The outbox entries to deliver."""
        instances = InstanceRepository(session)
        instance = await instances.get(order.instance_id, for_update=True)
        if order.type == OrderType.new.value and instance is None:
            await instances.add(
                InstanceRow(
                    id=order.instance_id,
                    customer_id=order.customer_id,
                    partner_id=order.partner_id,
                    product_id=order.product_id,
                    plan_id=order.plan_id,
                    base_order_id=order.id,
                    status=InstanceStatus.active.value,
                    created_at=now,
                )
            )
        elif instance is None or instance.status != InstanceStatus.active.value:
            # The instance ended while the license was being minted.
            return await self._mark_refunded(
                session, order, order.amount_minor, INSTANCE_ENDED_REASON, now
            )
        order.status = OrderStatus.fulfilled.value
        order.license_id = minted.id
        order.fulfilled_at = order.updated_at = now
        if not order.requires_acceptance:
            order.status = OrderStatus.completed.value
            order.completed_at = now
        return []

    async def _refund_unfulfillable(self, order_id: str) -> None:
        """Refund a paid add-on order whose instance ended before its license was minted."""
        async with self.sessionmaker() as session, session.begin():
            order = await OrderRepository(session).get(order_id, for_update=True)
            if order is None or order.status != OrderStatus.paid.value:
                return
            entries = await self._mark_refunded(
                session, order, order.amount_minor, INSTANCE_ENDED_REASON, utcnow()
            )
        await self._deliver(entries)

    async def _mark_refunded(
        self, session: AsyncSession, order: OrderRow, amount_minor: int, reason: str, now: datetime
    ) -> list[str]:
        """The order refunded; its license revoked (if any) and the money given back."""
        order.status = OrderStatus.refunded.value
        order.refunded_at = order.updated_at = now
        order.refund_amount_minor = amount_minor
        order.refund_reason = reason
        entries = [await self.outbox.add(session, REVOKE, {"order_id": order.id, "reason": reason})]
        # The payment that paid the order; another that settled later was refunded already.
        payment = (
            await PaymentRepository(session).get(order.payment_id) if order.payment_id else None
        )
        if payment is not None:
            entries.append(
                await self.outbox.add(
                    session, REFUND, {"payment_id": payment.id, "amount_minor": amount_minor}
                )
            )
        return entries

    async def _deliver(self, entries: list[str]) -> None:
        for entry in entries:
            await self.outbox.deliver_now(entry)

    # -- accepting, refunding, cancelling ------------------------------------------------

    async def accept(self, customer: Principal, order_id: str) -> OrderState:
        """The customer accepts the delivery: the order completes, the license is paid for."""
        async with self.sessionmaker() as session, session.begin():
            order = await OrderRepository(session).get(order_id)
            if order is None or order.customer_id != customer.sub:
                raise OrderNotFoundError(f"You have no order {order_id}.")
            ensure_acceptable(OrderStatus(order.status), order.requires_acceptance)
            instance = await InstanceRepository(session).get(order.instance_id)
            if instance is None or instance.status != InstanceStatus.active.value:
                raise InstanceEndedError(f"Instance {order.instance_id} has ended.")
        await self._check_acceptance_deadline(order)
        now = utcnow()
        async with self.sessionmaker() as session, session.begin():
            order = await OrderRepository(session).get(order_id, for_update=True)
            assert order is not None
            ensure_acceptable(OrderStatus(order.status), order.requires_acceptance)
            order.status = OrderStatus.completed.value
            order.accepted_at = order.completed_at = order.updated_at = now
            entry = await self.outbox.add(
                session, ACCEPT, {"order_id": order.id, "accepted_at": now.isoformat()}
            )
        await self.outbox.deliver_now(entry)
        return await self._state(order_id)

    async def _check_acceptance_deadline(self, order: OrderRow) -> None:
        """Refuse an acceptance after the license's deadline (which the partner may extend).

        If license can't be asked, the original deadline decides when it has not passed (an
        extension only moves it later); after it, the answer waits for license (503).
        """
        now = utcnow()
        try:
            licenses = await self.license.list_instance_licenses(order.instance_id)
        except (UpstreamUnavailableError, UpstreamProblem):
            assert order.paid_at is not None
            original = order.paid_at.replace(microsecond=0) + timedelta(days=order.acceptance_days)
            if now < original:
                return
            raise UpstreamUnavailableError(
                "license can't be reached to check the acceptance deadline."
            ) from None
        own = next((lic for lic in licenses if lic.order_id == order.id), None)
        deadline = own.acceptance_deadline if own else None
        if deadline is not None and now >= deadline:
            raise AcceptanceDeadlinePassedError(
                f"The license had to be accepted before {deadline.isoformat()}."
            )

    async def refund(
        self, partner: Principal, order_id: str, amount_minor: int, reason: str
    ) -> OrderState:
        """The owning partner refunds an order in its guarantee period; its license is
        revoked, and for a `new` order the instance ends and its add-on licenses too."""
        now = utcnow()
        async with self.sessionmaker() as session, session.begin():
            orders = OrderRepository(session)
            order = await orders.get(order_id, for_update=True)
            if order is None or order.partner_id != partner.sub:
                raise OrderNotFoundError(f"No order {order_id} of your products.")
            ensure_refundable(OrderStatus(order.status), order.amount, amount_minor)
            entries = await self._mark_refunded(session, order, amount_minor, reason, now)
            if order.type == OrderType.new.value:
                instance = await InstanceRepository(session).get(order.instance_id, for_update=True)
                if instance is not None and instance.status == InstanceStatus.active.value:
                    instance.status = InstanceStatus.ended.value
                    instance.ended_at = now
                for addon_order in await orders.licensed_addons(order.instance_id):
                    entries.append(
                        await self.outbox.add(
                            session,
                            REVOKE,
                            {"order_id": addon_order.id, "reason": INSTANCE_REFUNDED_REASON},
                        )
                    )
        await self._deliver(entries)
        return await self._state(order_id)

    async def cancel(self, customer: Principal, order_id: str) -> OrderState:
        """The customer drops an unpaid order (not while a payment of it is under way)."""
        now = utcnow()
        async with self.sessionmaker() as session, session.begin():
            order = await OrderRepository(session).get(order_id, for_update=True)
            if order is None or order.customer_id != customer.sub:
                raise OrderNotFoundError(f"You have no order {order_id}.")
            paying = await PaymentRepository(session).in_progress(order.id)
            ensure_cancellable(OrderStatus(order.status), paying is not None)
            order.status = OrderStatus.cancelled.value
            order.cancelled_at = order.updated_at = now
        return await self._state(order_id)

    # -- outbox handlers (run by the relay, outside any transaction) ----------------------
    # A refusal by license (UpstreamProblem) is left to the outbox: for good (a 4xx) it is
    # set aside as failed for an operator; "later" (429, 401/403...) is retried.

    async def deliver_accept(self, payload: dict[str, Any]) -> None:
        """Tell license the customer accepted: the license moves to its paid mode."""
        accepted_at = datetime.fromisoformat(str(payload["accepted_at"]))
        await self.license.accept(str(payload["order_id"]), accepted_at)

    async def deliver_revoke(self, payload: dict[str, Any]) -> None:
        """Revoke an order's license; an order that never got one has nothing to revoke."""
        try:
            await self.license.revoke(str(payload["order_id"]), str(payload["reason"]))
        except UpstreamProblem as problem:
            if problem.upstream_code != "license_not_found":
                raise

    async def deliver_refund(self, payload: dict[str, Any]) -> None:
        """Give the money back through the provider (idempotent per payment)."""
        await self.provider.refund(str(payload["payment_id"]), int(payload["amount_minor"]))

    # -- reading -------------------------------------------------------------------------

    async def get(self, principal: Principal, order_id: str) -> OrderState:
        """An order of the customer's, or of one of the partner's products."""
        state = await self._state(order_id)
        if not _may_see(principal, state.order.customer_id, state.order.partner_id):
            raise OrderNotFoundError(f"No order {order_id} is visible to you.")
        return state

    async def search(
        self,
        principal: Principal,
        page: PageRequest,
        *,
        status: OrderStatus | None,
        type: OrderType | None,
        instance_id: str | None,
    ) -> list[OrderState]:
        """The caller's orders (customer) or its products' orders (partner), newest first."""
        async with self.sessionmaker() as session, session.begin():
            rows = await OrderRepository(session).search(
                page,
                status=status,
                type=type,
                instance_id=instance_id,
                **_owner_filter(principal),
            )
            latest = await PaymentRepository(session).latest(r.id for r in rows)
        return [OrderState(r, latest.get(r.id)) for r in rows]

    async def get_instance(self, principal: Principal, instance_id: str) -> InstanceState:
        """An instance of the customer's, or of one of the partner's products."""
        async with self.sessionmaker() as session, session.begin():
            row = await InstanceRepository(session).get(instance_id)
        if row is None or not _may_see(principal, row.customer_id, row.partner_id):
            raise InstanceNotFoundError(f"No instance {instance_id} is visible to you.")
        return await self._with_licenses(row)

    async def search_instances(
        self, principal: Principal, page: PageRequest
    ) -> tuple[list[InstanceState], str | None]:
        """The caller's instances, newest first, and the cursor of the next page."""
        async with self.sessionmaker() as session, session.begin():
            rows = await InstanceRepository(session).search(page, **_owner_filter(principal))
        rows, cursor = build_page(rows, page, lambda r: (r.created_at, r.id))
        states = await asyncio.gather(*(self._with_licenses(r) for r in rows))
        return list(states), cursor

    async def _with_licenses(self, row: InstanceRow) -> InstanceState:
        results = await asyncio.gather(
            self.license.list_instance_licenses(row.id),
            self.license.get_instance_entitlement(row.id),
            return_exceptions=True,
        )
        licenses, entitlement = results
        if isinstance(licenses, BaseException):
            return _licenses_unavailable(row, licenses)
        if isinstance(entitlement, BaseException):
            return _licenses_unavailable(row, entitlement)
        return InstanceState(
            row,
            [LicenseSummary.of(lic) for lic in licenses],
            dict(entitlement.entitlements),
            True,
        )

    async def _state(self, order_id: str, payment_id: str | None = None) -> OrderState:
        """The order with `payment_id`, or with its most recent payment."""
        async with self.sessionmaker() as session, session.begin():
            row = await OrderRepository(session).get(order_id)
            if row is None:
                raise OrderNotFoundError(f"No order {order_id} is visible to you.")
            payments = PaymentRepository(session)
            if payment_id is not None:
                payment = await payments.get(payment_id)
            else:
                payment = (await payments.latest([order_id])).get(order_id)
        return OrderState(row, payment)


def _licenses_unavailable(row: InstanceRow, error: BaseException) -> InstanceState:
    if not isinstance(error, (UpstreamUnavailableError, UpstreamProblem)):
        raise error
    log.warning("licenses unavailable", extra={"instance": row.id, "error": str(error)})
    return InstanceState(row, [], None, False)


def _may_see(principal: Principal, customer_id: str, partner_id: str) -> bool:
    if principal.role is Role.customer:
        return principal.sub == customer_id
    if principal.role is Role.partner:
        return principal.sub == partner_id
    return False


def _owner_filter(principal: Principal) -> dict[str, str]:
    if principal.role is Role.customer:
        return {"customer_id": principal.sub}
    if principal.role is Role.partner:
        return {"partner_id": principal.sub}
    raise AssertionError("routes admit only customers and partners")


def _product_offer(live: LiveProduct) -> ProductOffer:
    """The catalog client's live revision, as the domain sees it."""
    return ProductOffer(
        product_id=live.id,
        partner_id=live.partner_id,
        revision=live.revision,
        requires_acceptance=live.requires_acceptance,
        acceptance_days=live.acceptance_days,
        plans={p.id: _offer(p) for p in live.plans},
        addons={
            a.id: _offer(
                a,
                compatible_plans=frozenset(a.compatible_plans),
                max_per_instance=a.max_per_instance,
            )
            for a in live.addons
        },
    )


def _offer(info: PlanInfo, **addon: Any) -> Offer:
    return Offer(
        id=info.id,
        one_time=info.subscription_method == "one_time",
        entitlements=dict(info.entitlements),
        cycles=tuple(
            PricedCycle(
                Cycle(CycleUnit(c.unit), c.count),
                Money(c.price.amount_minor, c.price.currency),
            )
            for c in info.cycles or []
        ),
        price=Money(info.price.amount_minor, info.price.currency) if info.price else None,
        retired=info.retired,
        **addon,
    )
