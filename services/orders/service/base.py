"""What every family of orders use cases shares: the units of work, the clients, and the
steps several of them take (reading an order back, delivering outbox entries, minting)."""

import logging
from datetime import datetime

from services.catalog.client import CatalogClient
from services.license.client import Level, License, LicenseClient, MintRequest
from services.orders.db.models import OrderRow
from services.orders.db.uow import OrdersUnitOfWork
from services.orders.domain.model import OrderType
from services.orders.domain.pricing import term_end
from services.orders.errors import OrderNotFoundError
from services.orders.payments import PaymentProvider
from services.orders.service.results import OrderState
from shared.outbox import Outbox
from shared.uow import UnitsOfWork

log = logging.getLogger("market.orders")


class UseCases:
    """The dependencies of the orders use cases; each family (placing, paying...) adds its
    use cases to this base, and `OrderService` is all of them."""

    def __init__(
        self,
        uow: UnitsOfWork[OrdersUnitOfWork],
        catalog: CatalogClient,
        license: LicenseClient,
        outbox: Outbox,
        provider: PaymentProvider,
        *,
        payment_resume_seconds: float = 30.0,
    ) -> None:
        self.uow = uow
        self.catalog = catalog
        self.license = license
        self.outbox = outbox
        self.provider = provider
        self.payment_resume_seconds = payment_resume_seconds

    async def _state(self, order_id: str, payment_id: str | None = None) -> OrderState:
        """The order with `payment_id`, or with its most recent payment."""
        async with self.uow(read=True) as uow:
            row = await uow.orders.get(order_id)
            if row is None:
                raise OrderNotFoundError(f"No order {order_id} is visible to you.")
            if payment_id is not None:
                payment = await uow.payments.get(payment_id)
            else:
                payment = (await uow.payments.latest([order_id])).get(order_id)
        return OrderState(row, payment)

    async def _deliver(self, entries: list[str]) -> None:
        """Deliver entries committed just now without waiting for the relay's next poll."""
        for entry in entries:
            await self.outbox.deliver_now(entry)

    async def _mint(self, order: OrderRow, *, paid_at: datetime) -> License:
        """Ask license for the order's license (idempotent per order)."""
        is_new = order.type is OrderType.new
        return await self.license.mint(
            MintRequest(
                order_id=order.id,
                instance_id=order.instance_id,
                customer_id=order.customer_id,
                partner_id=order.partner_id,
                product_id=order.product_id,
                level=Level.base if is_new else Level.addon,
                # A base license names its plan, an add-on license its add-on.
                plan_id=order.plan_id if is_new else None,
                addon_id=None if is_new else order.addon_id,
                quantity=order.quantity,
                entitlements=dict(order.entitlements),
                valid_from=paid_at,
                valid_until=term_end(paid_at, order.cycle),
                requires_acceptance=order.requires_acceptance,
                acceptance_days=order.acceptance_days,
            )
        )
