"""A client that retries pay with its Idempotency-Key is told what the first pay would have
said: before, during or after the relay resumes the payment, with the first request dead or
still alive. The sandbox's ledger shows every payment settled once.

A pay request "dies" here by getting stuck in the provider's charge after its first
transaction committed (`GatedSandbox`): from the database's point of view that is exactly a
process killed mid-payment, and the test can later let it go on, to play a request that was
only slow.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from services.orders.db.models import PaymentRow, SandboxPaymentRow, idempotency_records
from services.orders.payments import ChargeResult, SandboxProvider, SandboxRefusedError
from services.orders.settings import OrdersSettings
from shared.app import service_state
from shared.clock import utcnow
from shared.db import Database
from tests.catalog.factories import CatalogDriver
from tests.conftest import TestKeys
from tests.orders.factories import Listing, OrdersDriver, new_order, publish
from tests.plugins.orders import ServiceLink, drain_outbox, running_orders_app
from tests.problems import assert_problem


class GatedSandbox:
    """The real sandbox (its ledger in orders' database), whose next charge can be held at
    the gate, before it reaches the sandbox, until `release`."""

    name = "sandbox"

    def __init__(self, sandbox: SandboxProvider) -> None:
        self.sandbox = sandbox
        self.calls = 0
        self._hold_next = False
        self._gate = asyncio.Event()
        self.held = asyncio.Event()

    def hold_next(self) -> None:
        self._hold_next = True
        self._gate.clear()
        self.held.clear()

    def release(self) -> None:
        self._gate.set()

    async def charge(
        self, payment_id: str, amount_minor: int, currency: str, order_id: str
    ) -> ChargeResult:
        self.calls += 1
        if self._hold_next:
            self._hold_next = False
            self.held.set()
            await self._gate.wait()
        return await self.sandbox.charge(payment_id, amount_minor, currency, order_id)

    async def refund(self, payment_id: str, amount_minor: int) -> None:
        await self.sandbox.refund(payment_id, amount_minor)


@dataclass
class Paying:
    app: FastAPI
    driver: OrdersDriver
    provider: GatedSandbox
    listing: Listing

    async def stuck_pay(self, key: str) -> tuple[str, "asyncio.Task[httpx.Response]"]:
        """Place an order and start a pay that commits its payment, then hangs in the
        provider; the order id and the hanging request."""
        order = await self.driver.placed(new_order(self.listing.product_id, self.listing.plan_id))
        self.provider.hold_next()
        first = asyncio.create_task(self.driver.pay(order["id"], key=key))
        await asyncio.wait_for(self.provider.held.wait(), 10)  # its payment is committed
        return order["id"], first

    async def payments(self, order_id: str) -> int:
        async with service_state(self.app).db.sessionmaker() as session:
            query = select(func.count()).where(PaymentRow.order_id == order_id)
            return int((await session.execute(query)).scalar_one())

    async def lease_runs_out(self) -> None:
        """Every claim's lease has run out (as if its holder died long enough ago)."""
        async with service_state(self.app).db.sessionmaker() as session, session.begin():
            await session.execute(update(idempotency_records).values(locked_until=utcnow()))

    async def ledger(self, order_id: str) -> list[SandboxPaymentRow]:
        rows = await self.provider.sandbox.ledger()
        return [row for row in rows if row.order_id == order_id]


@asynccontextmanager
async def paying(
    settings: OrdersSettings,
    catalog_driver: CatalogDriver,
    catalog_link: ServiceLink,
    license_link: ServiceLink,
    keys: TestKeys,
) -> AsyncIterator[Paying]:
    listing = await publish(catalog_driver, requires_acceptance=False)
    database = Database(settings.database_url)
    provider = GatedSandbox(SandboxProvider(database.sessionmaker))
    try:
        async with running_orders_app(
            settings, catalog_link, license_link, payment_provider=provider
        ) as app:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://orders.test") as c:
                yield Paying(app, OrdersDriver(c, keys), provider, listing)
                provider.release()
    finally:
        await database.dispose()


PayingWorld = Callable[..., AbstractAsyncContextManager[Paying]]


@pytest.fixture
def paying_world(
    catalog_driver: CatalogDriver,
    orders_settings: OrdersSettings,
    orders_catalog_link: ServiceLink,
    license_link: ServiceLink,
    keys: TestKeys,
) -> PayingWorld:
    """`async with paying_world(pay_lease_seconds=60) as p:` opens `paying` on the test's
    services, with the orders settings given overridden."""

    def open_world(**overrides: Any) -> AbstractAsyncContextManager[Paying]:
        settings = orders_settings.model_copy(update=overrides)
        return paying(settings, catalog_driver, orders_catalog_link, license_link, keys)

    return open_world


async def test_a_retry_after_the_relay_resumed_the_payment_gets_the_fulfilled_order_at_once(
    paying_world: PayingWorld,
) -> None:
    async with paying_world(pay_lease_seconds=60) as p:
        order_id, first = await p.stuck_pay("pay-1")
        assert await drain_outbox(p.app) == 0  # the relay resumes the payment: fulfilled

        started = time.monotonic()
        retry = await p.driver.pay(order_id, key="pay-1")
        waited = time.monotonic() - started
        p.provider.release()  # the first request was only slow after all
        first_answer = await asyncio.wait_for(first, 10)

        assert retry.status_code == 200, retry.text
        assert retry.json()["status"] == "completed"
        assert waited < 2  # not held for the lease of a request that found nothing to do
        assert first_answer.status_code == 200, first_answer.text
        assert first_answer.json() == retry.json()
        [settled] = await p.ledger(order_id)
        assert settled.payment_id == retry.json()["payment"]["id"]
        assert settled.charge_attempts == 2  # the relay's and the first request's


async def test_a_retry_that_takes_over_an_expired_claim_after_the_resume_gets_200_not_409(
    paying_world: PayingWorld,
) -> None:
    async with paying_world() as p:
        order_id, _dead = await p.stuck_pay("pay-1")
        assert await drain_outbox(p.app) == 0
        await p.lease_runs_out()

        retry = await p.driver.pay(order_id, key="pay-1")
        replay = await p.driver.pay(order_id, key="pay-1")
        other_key = await p.driver.pay(order_id, key="pay-2")

        assert retry.status_code == 200, retry.text
        assert retry.json()["status"] == "completed"
        assert replay.json() == retry.json()
        assert_problem(other_key, 409, "order_not_payable")  # another key: truly another pay
        assert len(await p.ledger(order_id)) == 1


async def test_a_retry_before_the_resume_finishes_the_same_payment_itself(
    paying_world: PayingWorld,
) -> None:
    async with paying_world() as p:
        order_id, first = await p.stuck_pay("pay-1")
        await p.lease_runs_out()

        retry = await p.driver.pay(order_id, key="pay-1")
        assert await drain_outbox(p.app) == 0  # the resume finds nothing left to do
        p.provider.release()
        first_answer = await asyncio.wait_for(first, 10)

        assert retry.status_code == 200, retry.text
        assert retry.json()["status"] == "completed"
        assert first_answer.json() == retry.json()
        assert await p.payments(order_id) == 1
        [settled] = await p.ledger(order_id)
        assert settled.payment_id == retry.json()["payment"]["id"]
        assert settled.charge_attempts == 2  # the retry's and the first request's


async def test_a_retry_while_the_dead_request_holds_the_key_waits_out_the_lease_not_a_409(
    paying_world: PayingWorld,
) -> None:
    async with paying_world(pay_lease_seconds=0.5) as p:
        order_id, _dead = await p.stuck_pay("pay-1")

        retry = await p.driver.pay(order_id, key="pay-1")

        assert retry.status_code == 200, retry.text
        assert retry.json()["status"] == "completed"
        assert len(await p.ledger(order_id)) == 1


async def test_two_retries_at_once_answer_alike_and_settle_once(
    paying_world: PayingWorld,
) -> None:
    async with paying_world() as p:
        order_id, _dead = await p.stuck_pay("pay-1")
        await p.lease_runs_out()

        retries = await asyncio.gather(
            *(p.driver.pay(order_id, key="pay-1") for _ in range(4)), drain_outbox(p.app)
        )

        answers = [r for r in retries if isinstance(r, httpx.Response)]
        assert {r.status_code for r in answers} == {200}, [r.text for r in answers]
        assert all(r.json() == answers[0].json() for r in answers)
        assert len(await p.ledger(order_id)) == 1
        assert await p.payments(order_id) == 1


async def test_the_sandbox_settles_a_payment_id_once_and_counts_every_charge(
    orders_settings: OrdersSettings, orders_app: FastAPI
) -> None:
    sandbox = SandboxProvider(service_state(orders_app).db.sessionmaker)

    answers = await asyncio.gather(
        *(sandbox.charge("pay_1", 4900, "EUR", "ord_1") for _ in range(5))
    )
    await sandbox.charge("pay_2", 4900, "EUR", "ord_2")
    await sandbox.refund("pay_1", 1000)
    await sandbox.refund("pay_1", 1000)  # the same refund delivered twice

    assert answers == [ChargeResult.settled] * 5
    ledger = {row.payment_id: row for row in await sandbox.ledger()}
    assert {p: r.charge_attempts for p, r in ledger.items()} == {"pay_1": 5, "pay_2": 1}
    assert ledger["pay_1"].refunded_minor == 1000
    with pytest.raises(SandboxRefusedError, match="other terms"):
        await sandbox.charge("pay_1", 100, "EUR", "ord_1")  # a reused id with other terms


async def test_a_retry_after_a_503_takes_the_key_over_at_once_and_charges_the_same_payment(
    paying_world: PayingWorld,
) -> None:
    async with paying_world(pay_lease_seconds=60) as p:
        order = await p.driver.placed(new_order(p.listing.product_id, p.listing.plan_id))
        down = p.provider.sandbox
        p.provider.sandbox = Unreachable()  # type: ignore[assignment]
        failed = await p.driver.pay(order["id"], key="pay-1")
        p.provider.sandbox = down

        started = time.monotonic()
        retry = await p.driver.pay(order["id"], key="pay-1")
        other_order = await p.driver.placed(new_order(p.listing.product_id, p.listing.plan_id))
        reused = await p.driver.pay(other_order["id"], key="pay-1")

        assert_problem(failed, 503, "payment_provider_unavailable")
        assert retry.status_code == 200, retry.text
        assert time.monotonic() - started < 5  # not held for the 60 s lease
        assert await p.payments(order["id"]) == 1
        [settled] = await p.ledger(order["id"])
        assert settled.payment_id == retry.json()["payment"]["id"]
        assert_problem(reused, 422, "idempotency_key_reused")


class Unreachable:
    async def charge(self, *args: object) -> ChargeResult:
        raise ConnectionError("provider unreachable")
