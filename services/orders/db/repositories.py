"""Queries on the orders service's tables. Repositories never commit."""

from collections.abc import Iterable

from sqlalchemy import and_, exists, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.db.models import InstanceRow, OrderRow, PaymentRow, WebhookEventRow
from services.orders.domain.model import OrderStatus, OrderType, PaymentStatus
from services.orders.domain.order import HOLDING, LICENSED
from shared.pagination import PageRequest


class OrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, order_id: str, *, for_update: bool = False) -> OrderRow | None:
        query = select(OrderRow).where(OrderRow.id == order_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def add(self, row: OrderRow) -> None:
        self.session.add(row)
        await self.session.flush()

    async def packs_held(self, instance_id: str, addon_id: str, *, excluding: str | None) -> int:
        """Packs of the add-on the instance holds or is being paid for.

        Counted: orders paid, fulfilled or completed, and unpaid orders with a payment in
        progress (so two payments racing for the last packs can't both go through).
        """
        paying = exists().where(
            PaymentRow.order_id == OrderRow.id,
            PaymentRow.status == PaymentStatus.initiated.value,
        )
        query = select(func.coalesce(func.sum(OrderRow.quantity), 0)).where(
            OrderRow.instance_id == instance_id,
            OrderRow.addon_id == addon_id,
            or_(
                OrderRow.status.in_([s.value for s in HOLDING]),
                and_(OrderRow.status == OrderStatus.pending_payment.value, paying),
            ),
        )
        if excluding is not None:
            query = query.where(OrderRow.id != excluding)
        return int((await self.session.execute(query)).scalar_one())

    async def licensed_addons(self, instance_id: str) -> list[OrderRow]:
        """The instance's add-on orders whose license has been minted."""
        query = (
            select(OrderRow)
            .where(
                OrderRow.instance_id == instance_id,
                OrderRow.type == OrderType.addon.value,
                OrderRow.status.in_([s.value for s in LICENSED]),
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
            query = query.where(OrderRow.status == status.value)
        if type is not None:
            query = query.where(OrderRow.type == type.value)
        if instance_id is not None:
            query = query.where(OrderRow.instance_id == instance_id)
        if page.after is not None:
            query = query.where(tuple_(OrderRow.created_at, OrderRow.id) < tuple_(*page.after))
        query = query.order_by(OrderRow.created_at.desc(), OrderRow.id.desc()).limit(page.limit + 1)
        return list((await self.session.execute(query)).scalars())


class PaymentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, payment_id: str, *, for_update: bool = False) -> PaymentRow | None:
        query = select(PaymentRow).where(PaymentRow.id == payment_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def add(self, row: PaymentRow) -> None:
        self.session.add(row)
        await self.session.flush()

    async def in_progress(self, order_id: str) -> PaymentRow | None:
        """The order's payment that is neither settled nor failed, if any."""
        query = select(PaymentRow).where(
            PaymentRow.order_id == order_id, PaymentRow.status == PaymentStatus.initiated.value
        )
        return (await self.session.execute(query)).scalars().first()

    async def settled(self, order_id: str) -> PaymentRow | None:
        query = select(PaymentRow).where(
            PaymentRow.order_id == order_id, PaymentRow.status == PaymentStatus.settled.value
        )
        return (await self.session.execute(query)).scalars().first()

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
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, instance_id: str, *, for_update: bool = False) -> InstanceRow | None:
        query = select(InstanceRow).where(InstanceRow.id == instance_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

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
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def seen(self, event_id: str) -> bool:
        query = select(WebhookEventRow.event_id).where(WebhookEventRow.event_id == event_id)
        return (await self.session.execute(query)).scalar_one_or_none() is not None

    async def add(self, row: WebhookEventRow) -> None:
        self.session.add(row)
        await self.session.flush()
