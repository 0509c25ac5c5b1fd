"""Fulfilling a paid order: the relay's `order.fulfil` handler mints its license.

Minting is idempotent per order, so the handler may run again after a crash; the license is
recorded under the order's lock only if the order is still `paid`. An add-on whose instance
ended, or whose base license is gone, can never be fulfilled: the paid order is refunded.
"""

from typing import Any

from services.license.client import UpstreamProblem
from services.orders.domain.model import InstanceStatus, OrderStatus, OrderType
from services.orders.service.base import UseCases
from services.orders.service.license_problems import BASE_LICENSE_GONE
from services.orders.service.records import (
    INSTANCE_ENDED_REASON,
    mark_refunded,
    record_fulfilment,
)
from shared.clock import utcnow


class Fulfilling(UseCases):
    """Mint the licenses of paid orders (run by the outbox relay)."""

    async def fulfil(self, payload: dict[str, Any]) -> None:
        """Mint the paid order's license, then record it (idempotent; run by the relay)."""
        order_id = str(payload["order_id"])
        async with self.uow(read=True) as uow:
            order = await uow.orders.get(order_id)
            if order is None or order.status is not OrderStatus.paid:
                return
            instance = await uow.instances.get(order.instance_id)
        if order.type is OrderType.addon and (
            instance is None or instance.status is not InstanceStatus.active
        ):
            await self._refund_unfulfillable(order_id)
            return
        assert order.paid_at is not None
        try:
            minted = await self._mint(order, paid_at=order.paid_at)
        except UpstreamProblem as problem:
            # Any other refusal is the outbox's to judge (shared.outbox.is_permanent).
            if problem.upstream_code not in BASE_LICENSE_GONE:
                raise
            await self._refund_unfulfillable(order_id)
            return
        entries: list[str] = []
        async with self.uow() as uow:
            order = await uow.orders.get(order_id, for_update=True)
            assert order is not None
            if order.status is not OrderStatus.paid:
                return
            entries = await record_fulfilment(uow, order, minted, utcnow())
        await self._deliver(entries)

    async def _refund_unfulfillable(self, order_id: str) -> None:
        """Refund a paid add-on order whose instance ended before its license was minted."""
        async with self.uow() as uow:
            order = await uow.orders.get(order_id, for_update=True)
            if order is None or order.status is not OrderStatus.paid:
                return
            entries = await mark_refunded(
                uow, order, order.amount_minor, INSTANCE_ENDED_REASON, utcnow()
            )
        await self._deliver(entries)
