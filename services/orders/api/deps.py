"""Dependencies of the orders routes.

They are `async def` even when they await nothing: FastAPI runs a plain `def` dependency in
its thread pool, a thread hand-off on every request.
"""

from typing import Annotated

from fastapi import Depends, Request

from services.orders.service import OrderService
from shared.auth import Principal, Role
from shared.idempotency import IdempotencyStore
from shared.security import require


async def order_service(request: Request) -> OrderService:
    service: OrderService = request.app.state.orders
    return service


async def idempotency_store(request: Request) -> IdempotencyStore:
    store: IdempotencyStore = request.app.state.idempotency
    return store


async def pay_idempotency_store(request: Request) -> IdempotencyStore:
    store: IdempotencyStore = request.app.state.pay_idempotency
    return store


Orders = Annotated[OrderService, Depends(order_service)]
Idempotency = Annotated[IdempotencyStore, Depends(idempotency_store)]
# Pay's keys: a lease of `ORDERS_PAY_LEASE_SECONDS`, since a retry can finish the payment.
PayIdempotency = Annotated[IdempotencyStore, Depends(pay_idempotency_store)]
# Who may read orders and instances: the customer who bought, the partner who sells.
Reader = Annotated[Principal, Depends(require(Role.customer, Role.partner))]
