"""The orders service's unit of work: one transaction with the repositories of its tables."""

from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.db.repositories import (
    InstanceRepository,
    OrderRepository,
    PaymentRepository,
    WebhookEventRepository,
)
from shared.outbox import Outbox
from shared.uow import UnitOfWork


class OrdersUnitOfWork(UnitOfWork):
    """Orders, payments, instances and webhook events, read and written in one transaction.

    The sandbox provider's ledger is not here on purpose: it stands for the provider's own
    storage and is written in transactions of its own (`services.orders.payments`).
    """

    def __init__(self, session: AsyncSession, outbox: Outbox | None = None) -> None:
        super().__init__(session, outbox)
        self.orders = OrderRepository(session)
        self.payments = PaymentRepository(session)
        self.instances = InstanceRepository(session)
        self.webhook_events = WebhookEventRepository(session)
