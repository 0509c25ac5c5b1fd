"""Placing an order: a dry-run quote, and the order stored `pending_payment`.

The price comes from the product's live revision, asked of the catalog between two short
transactions (none is open during the call).
"""

import logging

from services.license.client import UpstreamProblem
from services.orders.db.models import OrderRow
from services.orders.db.uow import OrdersUnitOfWork
from services.orders.domain.model import OrderStatus, OrderType, ProductOffer, Purchase
from services.orders.domain.purchase import (
    add_entitlements,
    check_instance,
    license_preview,
    quote_addon,
    quote_new,
)
from services.orders.errors import UnknownProductError
from services.orders.service.base import UseCases
from services.orders.service.offers import product_offer
from services.orders.service.results import OrderRequest, OrderState, Quote
from shared.auth import Principal
from shared.clock import utcnow
from shared.http import UpstreamUnavailableError
from shared.idempotency import Attempt
from shared.ids import new_id

log = logging.getLogger("market.orders")


class Placing(UseCases):
    """Quote and place orders."""

    async def quote(self, customer: Principal, request: OrderRequest) -> Quote:
        """What the order would cost and grant, with nothing stored (a dry run)."""
        product = await self._live_product_for(customer, request)
        async with self.uow(read=True) as uow:
            purchase = await _check(uow, customer, request, product, lock=False)
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
                async with self.uow(read=True) as uow:
                    await attempt.check(uow.session)
        else:
            assert request.instance_id is not None
            async with self.uow(read=True) as uow:
                await attempt.check(uow.session)
                instance = await uow.instances.get(request.instance_id)
            check_instance(
                instance.facts() if instance else None, customer.sub, request.instance_id
            )
            assert instance is not None
            product_id = instance.product_id
        product = await self._live_product(product_id)
        now = utcnow()
        async with self.uow() as uow:
            purchase = await _check(uow, customer, request, product, lock=True)
            row = OrderRow(
                id=attempt.resource_id,
                type=purchase.type,
                customer_id=customer.sub,
                partner_id=purchase.partner_id,
                product_id=purchase.product_id,
                revision=purchase.revision,
                plan_id=purchase.plan_id,
                addon_id=purchase.addon_id,
                instance_id=purchase.instance_id or new_id("ins"),
                cycle_unit=purchase.cycle.unit if purchase.cycle else None,
                cycle_count=purchase.cycle.count if purchase.cycle else None,
                quantity=purchase.quantity,
                amount_minor=purchase.amount.amount_minor,
                currency=purchase.amount.currency,
                entitlements=purchase.entitlements,
                requires_acceptance=purchase.requires_acceptance,
                acceptance_days=purchase.acceptance_days,
                max_per_instance=purchase.max_per_instance,
                status=OrderStatus.pending_payment,
                created_at=now,
                updated_at=now,
            )
            await uow.orders.add(row)
            state = OrderState(row, None)
            await attempt.complete(uow.session, state)
        return state

    async def _live_product_for(self, customer: Principal, request: OrderRequest) -> ProductOffer:
        """The live revision of the product bought: the one named, or the instance's."""
        if request.type is OrderType.new:
            assert request.product_id is not None
            return await self._live_product(request.product_id)
        assert request.instance_id is not None
        async with self.uow(read=True) as uow:
            instance = await uow.instances.get(request.instance_id)
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
        return product_offer(live)


async def _check(
    uow: OrdersUnitOfWork,
    customer: Principal,
    request: OrderRequest,
    product: ProductOffer,
    *,
    lock: bool,
) -> Purchase:
    """The purchase priced and checked against the rules (an add-on under its instance's
    lock when `lock`, so its pack limit holds against concurrent orders)."""
    if request.type is OrderType.new:
        assert request.plan_id is not None
        return quote_new(product, request.plan_id, request.cycle, request.quantity)
    assert request.instance_id is not None
    assert request.addon_id is not None
    instance = await uow.instances.get(request.instance_id, for_update=lock)
    held = await uow.orders.packs_held(request.instance_id, request.addon_id, excluding=None)
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
