"""Dependencies of the orders routes, and the typed state the app's lifespan builds for them.

The lifespan keeps one `OrdersRuntime` on `app.state.runtime`; routes reach it only through
`runtime_of()` (what `shared` reads, the database, the token verifier and the outbox, goes to
`service_state(app).started(...)`).

They are `async def` even when they await nothing: FastAPI runs a plain `def` dependency in
its thread pool, a thread hand-off on every request.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from services.orders.service import OrderService
from services.orders.settings import OrdersSettings
from shared.auth import Principal, Role
from shared.idempotency import IdempotencyStore
from shared.security import require


@dataclass(frozen=True, slots=True)
class OrdersRuntime:
    """What the orders app's lifespan built, for the routes."""

    settings: OrdersSettings
    orders: OrderService
    idempotency: IdempotencyStore
    # Pay's keys: a lease of `ORDERS_PAY_LEASE_SECONDS`, since a retry can finish the payment.
    pay_idempotency: IdempotencyStore


def runtime_of(app: FastAPI) -> OrdersRuntime:
    """The orders app's runtime (built by its lifespan)."""
    value = app.state.runtime
    assert isinstance(value, OrdersRuntime), "the orders lifespan has not run"
    return value


async def runtime(request: Request) -> OrdersRuntime:
    """The running app's `OrdersRuntime`, as a dependency."""
    return runtime_of(request.app)


async def order_service(request: Request) -> OrderService:
    return (await runtime(request)).orders


async def idempotency_store(request: Request) -> IdempotencyStore:
    return (await runtime(request)).idempotency


async def pay_idempotency_store(request: Request) -> IdempotencyStore:
    return (await runtime(request)).pay_idempotency


Runtime = Annotated[OrdersRuntime, Depends(runtime)]
Orders = Annotated[OrderService, Depends(order_service)]
Idempotency = Annotated[IdempotencyStore, Depends(idempotency_store)]
PayIdempotency = Annotated[IdempotencyStore, Depends(pay_idempotency_store)]
# Who may read orders and instances: the customer who bought, the partner who sells.
Reader = Annotated[Principal, Depends(require(Role.customer, Role.partner))]
