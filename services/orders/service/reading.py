"""Reading orders and instances: a customer sees what it bought, a partner what it sells.

An instance is shown with its licenses and entitlement as the license service reports them;
if license can't be asked, the instance is still shown, marked `licenses_available=False`.
"""

import asyncio
import logging

from services.license.client import UpstreamProblem
from services.orders.db.models import InstanceRow
from services.orders.domain.model import OrderStatus, OrderType
from services.orders.errors import InstanceNotFoundError, OrderNotFoundError
from services.orders.service.base import UseCases
from services.orders.service.results import InstanceState, OrderState
from shared.auth import Principal, Role
from shared.http import UpstreamUnavailableError
from shared.pagination import PageRequest, build_page

log = logging.getLogger("market.orders")


class Reading(UseCases):
    """Get and search orders and instances."""

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
        async with self.uow(read=True) as uow:
            rows = await uow.orders.search(
                page,
                status=status,
                type=type,
                instance_id=instance_id,
                **_owner_filter(principal),
            )
            latest = await uow.payments.latest(r.id for r in rows)
        return [OrderState(r, latest.get(r.id)) for r in rows]

    async def get_instance(self, principal: Principal, instance_id: str) -> InstanceState:
        """An instance of the customer's, or of one of the partner's products."""
        async with self.uow(read=True) as uow:
            row = await uow.instances.get(instance_id)
        if row is None or not _may_see(principal, row.customer_id, row.partner_id):
            raise InstanceNotFoundError(f"No instance {instance_id} is visible to you.")
        return await self._with_licenses(row)

    async def search_instances(
        self, principal: Principal, page: PageRequest
    ) -> tuple[list[InstanceState], str | None]:
        """The caller's instances, newest first, and the cursor of the next page."""
        async with self.uow(read=True) as uow:
            rows = await uow.instances.search(page, **_owner_filter(principal))
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
        return InstanceState(row, list(licenses), dict(entitlement.entitlements), True)


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
