"""Queries on the orders service's tables. Repositories never commit."""

from collections.abc import Iterable

from sqlalchemy import and_, bindparam, exists, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.db.models import InstanceRow, OrderRow, PaymentRow, WebhookEventRow
from services.orders.domain.model import OrderStatus, OrderType, PaymentStatus
from services.orders.domain.order import HOLDING, LICENSED
from shared.pagination import PageRequest

# The statements of the purchase path, built once: building and hashing a statement on every
# call costs about as much CPU as executing it.
_ORDER = select(OrderRow).where(OrderRow.id == bindparam("order_id"))
_ORDER_LOCKED = _ORDER.with_for_update()
_PAYMENT = select(PaymentRow).where(PaymentRow.id == bindparam("payment_id"))
_PAYMENT_LOCKED = _PAYMENT.with_for_update()
_PAYMENT_IN_PROGRESS = select(PaymentRow).where(
    PaymentRow.order_id == bindparam("order_id"),
    PaymentRow.status == PaymentStatus.initiated,
)
_INSTANCE = select(InstanceRow).where(InstanceRow.id == bindparam("instance_id"))
_INSTANCE_LOCKED = _INSTANCE.with_for_update()
_PACKS_HELD = select(func.coalesce(func.sum(OrderRow.quantity), 0)).where(
    OrderRow.instance_id == bindparam("instance_id"),
    OrderRow.addon_id == bindparam("addon_id"),
    OrderRow.id != bindparam("excluding"),
    or_(
        *(OrderRow.status == s for s in sorted(HOLDING)),
        and_(
            OrderRow.status == OrderStatus.pending_payment,
            exists().where(
                PaymentRow.order_id == OrderRow.id,
                PaymentRow.status == PaymentStatus.initiated,
            ),
        ),
    ),
)


class OrderRepository:
    """Orders: by id (optionally locked), the packs an instance holds, and searches."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, order_id: str, *, for_update: bool = False) -> OrderRow | None:
        query = _ORDER_LOCKED if for_update else _ORDER
        return (await self.session.execute(query, {"order_id": order_id})).scalar_one_or_none()

    async def add(self, row: OrderRow) -> None:
        self.session.add(row)
        await self.session.flush()

    async def packs_held(self, instance_id: str, addon_id: str, *, excluding: str | None) -> int:
        """Packs of the add-on the instance holds or is being paid for.

        Counted: orders paid, fulfilled or completed, and unpaid orders with a payment in
        progress (so two payments racing for the last packs can't both go through).
        """
        params = {"instance_id": instance_id, "addon_id": addon_id, "excluding": excluding or ""}
        return int((await self.session.execute(_PACKS_HELD, params)).scalar_one())

    async def licensed_addons(self, instance_id: str) -> list[OrderRow]:
        """The instance's add-on orders whose license has been minted."""
        query = (
            select(OrderRow)
            .where(
                OrderRow.instance_id == instance_id,
                OrderRow.type == OrderType.addon,
                OrderRow.status.in_(sorted(LICENSED)),
            )
            .order_by(OrderRow.created_at, OrderRow.id)
        )
        return list((await self.session.execute(query)).scalars())

    async def search(
        self,
        page: PageRequest,
        *,
        customer_id: str | None = None,
        partner_id: str | None = None,
        status: OrderStatus | None = None,
        type: OrderType | None = None,
        instance_id: str | None = None,
    ) -> list[OrderRow]:
        """Orders, newest first, `page.limit + 1` of them."""
        query = select(OrderRow)
        if customer_id is not None:
            query = query.where(OrderRow.customer_id == customer_id)
        if partner_id is not None:
            query = query.where(OrderRow.partner_id == partner_id)
        if status is not None:
            query = query.where(OrderRow.status == status)
        if type is not None:
            query = query.where(OrderRow.type == type)
        if instance_id is not None:
            query = query.where(OrderRow.instance_id == instance_id)
        if page.after is not None:
            query = query.where(tuple_(OrderRow.created_at, OrderRow.id) < tuple_(*page.after))
        query = query.order_by(OrderRow.created_at.desc(), OrderRow.id.desc()).limit(page.limit + 1)
        return list((await self.session.execute(query)).scalars())


class PaymentRepository:
    """Payments of orders: by id, the one in progress, and each order's latest."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, payment_id: str, *, for_update: bool = False) -> PaymentRow | None:
        query = _PAYMENT_LOCKED if for_update else _PAYMENT
        result = await self.session.execute(query, {"payment_id": payment_id})
        return result.scalar_one_or_none()

    async def add(self, row: PaymentRow) -> None:
        self.session.add(row)
        await self.session.flush()

    async def in_progress(self, order_id: str) -> PaymentRow | None:
        """The order's payment that is neither settled nor failed, if any."""
        result = await self.session.execute(_PAYMENT_IN_PROGRESS, {"order_id": order_id})
        return result.scalars().first()

    async def latest(self, order_ids: Iterable[str]) -> dict[str, PaymentRow]:
        """The most recent payment of each order that has one."""
        ids = list(order_ids)
        if not ids:
            return {}
        query = (
            select(PaymentRow)
            .where(PaymentRow.order_id.in_(ids))
            .order_by(PaymentRow.created_at, PaymentRow.id)
        )
        return {row.order_id: row for row in (await self.session.execute(query)).scalars()}


class InstanceRepository:
    """Application instances: by id (optionally locked) and searches."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, instance_id: str, *, for_update: bool = False) -> InstanceRow | None:
        query = _INSTANCE_LOCKED if for_update else _INSTANCE
        result = await self.session.execute(query, {"instance_id": instance_id})
        return result.scalar_one_or_none()

    async def add(self, row: InstanceRow) -> None:
        self.session.add(row)
        await self.session.flush()

    async def search(
        self,
        page: PageRequest,
        *,
        customer_id: str | None = None,
        partner_id: str | None = None,
    ) -> list[InstanceRow]:
        """Instances, newest first, `page.limit + 1` of them."""
        query = select(InstanceRow)
        if customer_id is not None:
            query = query.where(InstanceRow.customer_id == customer_id)
        if partner_id is not None:
            query = query.where(InstanceRow.partner_id == partner_id)
        if page.after is not None:
            query = query.where(
                tuple_(InstanceRow.created_at, InstanceRow.id) < tuple_(*page.after)
            )
        query = query.order_by(InstanceRow.created_at.desc(), InstanceRow.id.desc()).limit(
            page.limit + 1
        )
        return list((await self.session.execute(query)).scalars())


class WebhookEventRepository:
    """The provider events already handled (replay protection)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def seen(self, event_id: str) -> bool:
        query = select(WebhookEventRow.event_id).where(WebhookEventRow.event_id == event_id)
        return (await self.session.execute(query)).scalar_one_or_none() is not None

    async def add(self, row: WebhookEventRow) -> None:
        self.session.add(row)
        await self.session.flush()
