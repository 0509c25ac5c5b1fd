"""Changing an order after it is placed: the customer accepts or cancels it, the partner
refunds it; and the outbox handlers that carry those changes to license and the provider.

Each change is made under the order's lock and adds its effect on other services to the
outbox in the same transaction; the entries are delivered once it commits.
"""

from datetime import datetime, timedelta
from typing import Any

from services.license.client import UpstreamProblem
from services.orders.db.models import OrderRow
from services.orders.domain import order as lifecycle
from services.orders.domain.model import InstanceStatus, OrderType
from services.orders.domain.order import ensure_acceptable, ensure_refundable
from services.orders.errors import (
    AcceptanceDeadlinePassedError,
    InstanceEndedError,
    OrderNotFoundError,
)
from services.orders.service.base import UseCases
from services.orders.service.license_problems import LICENSE_NOT_FOUND
from services.orders.service.records import INSTANCE_REFUNDED_REASON, mark_refunded
from services.orders.service.results import OrderState
from services.orders.service.topics import ACCEPT, REVOKE
from shared.auth import Principal
from shared.clock import utcnow
from shared.http import UpstreamUnavailableError


class Changing(UseCases):
    """Accept, refund and cancel orders; deliver those changes (outbox handlers)."""

    async def accept(self, customer: Principal, order_id: str) -> OrderState:
        """The customer accepts the delivery: the order completes, the license is paid for."""
        async with self.uow(read=True) as uow:
            order = await uow.orders.get(order_id)
            if order is None or order.customer_id != customer.sub:
                raise OrderNotFoundError(f"You have no order {order_id}.")
            ensure_acceptable(order.status, order.requires_acceptance)
            instance = await uow.instances.get(order.instance_id)
            if instance is None or instance.status is not InstanceStatus.active:
                raise InstanceEndedError(f"Instance {order.instance_id} has ended.")
        await self._check_acceptance_deadline(order)
        now = utcnow()
        async with self.uow() as uow:
            order = await uow.orders.get(order_id, for_update=True)
            assert order is not None
            lifecycle.accept(order, now)
            entry = await uow.outbox.add(
                ACCEPT, {"order_id": order.id, "accepted_at": now.isoformat()}
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
        async with self.uow() as uow:
            order = await uow.orders.get(order_id, for_update=True)
            if order is None or order.partner_id != partner.sub:
                raise OrderNotFoundError(f"No order {order_id} of your products.")
            ensure_refundable(order.status, order.amount, amount_minor)
            entries = await mark_refunded(uow, order, amount_minor, reason, now)
            if order.type is OrderType.new:
                instance = await uow.instances.get(order.instance_id, for_update=True)
                if instance is not None and instance.status is InstanceStatus.active:
                    lifecycle.end_instance(instance, now)
                for addon_order in await uow.orders.licensed_addons(order.instance_id):
                    entries.append(
                        await uow.outbox.add(
                            REVOKE,
                            {"order_id": addon_order.id, "reason": INSTANCE_REFUNDED_REASON},
                        )
                    )
        await self._deliver(entries)
        return await self._state(order_id)

    async def cancel(self, customer: Principal, order_id: str) -> OrderState:
        """The customer drops an unpaid order (not while a payment of it is under way)."""
        now = utcnow()
        async with self.uow() as uow:
            order = await uow.orders.get(order_id, for_update=True)
            if order is None or order.customer_id != customer.sub:
                raise OrderNotFoundError(f"You have no order {order_id}.")
            paying = await uow.payments.in_progress(order.id)
            lifecycle.cancel(order, paying is not None, now)
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
            if problem.upstream_code != LICENSE_NOT_FOUND:
                raise

    async def deliver_refund(self, payload: dict[str, Any]) -> None:
        """Give the money back through the provider (idempotent per payment)."""
        await self.provider.refund(str(payload["payment_id"]), int(payload["amount_minor"]))
