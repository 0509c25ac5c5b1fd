"""Paying: the sandbox provider, fulfilment through the outbox when license is down, resumed
payments, idempotency keys and races."""

import asyncio
from collections import Counter

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from services.license.db.models import LicenseRow
from services.orders.db.models import OrderRow, PaymentRow
from services.orders.payments import ChargeResult
from services.orders.settings import OrdersSettings
from shared.app import service_state
from tests.catalog.factories import CatalogDriver
from tests.orders.factories import (
    LicenseReader,
    OrdersDriver,
    addon_order,
    new_order,
    publish,
)
from tests.plugins.orders import ServiceLink, drain_outbox, running_orders_app
from tests.problems import assert_problem


async def rows(app: FastAPI, model: type[OrderRow] | type[PaymentRow] | type[LicenseRow]) -> int:
    async with service_state(app).db.sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def licenses_by_order(license_app: FastAPI) -> Counter[str]:
    async with service_state(license_app).db.sessionmaker() as session:
        return Counter((await session.execute(select(LicenseRow.order_id))).scalars())


class FlakyProvider:
    """A provider that can't be reached for its first `failures` charges."""

    name = "flaky"

    def __init__(self, failures: int = 1) -> None:
        self.failures = failures
        self.charged: list[str] = []

    async def charge(
        self, payment_id: str, amount_minor: int, currency: str, order_id: str
    ) -> ChargeResult:
        self.charged.append(payment_id)
        if self.failures:
            self.failures -= 1
            raise ConnectionError("provider unreachable")
        return ChargeResult.settled

    async def refund(self, payment_id: str, amount_minor: int) -> None:
        return None


async def test_paying_settles_and_fulfils_at_once(
    catalog_driver: CatalogDriver,
    shop: OrdersDriver,
    licenses: LicenseReader,
    orders_app: FastAPI,
) -> None:
    listing = await publish(catalog_driver)
    order = await shop.placed(new_order(listing.product_id, listing.plan_id))

    response = await shop.pay(order["id"])

    assert response.status_code == 200, response.text
    paid = response.json()
    assert paid["status"] == "fulfilled"
    assert paid["payment"]["status"] == "settled"
    assert paid["payment"]["provider"] == "sandbox"
    assert paid["payment"]["amount"] == {"amount_minor": 4900, "currency": "EUR"}
    assert paid["paid_at"] is not None
    assert paid["fulfilled_at"] is not None
    assert paid["completed_at"] is None
    license = await licenses.license(paid["license_id"])
    assert license["order_id"] == order["id"]
    assert license["instance_id"] == order["instance_id"]
    assert license["mode"] == "acceptance"
    relay = service_state(orders_app).outbox
    assert relay is not None
    assert await relay.pending_count() == 0  # nothing left to resume or fulfil
    again = await shop.pay(order["id"])
    assert_problem(again, 409, "order_not_payable")


async def test_license_down_pays_with_202_and_the_relay_fulfils_later(
    catalog_driver: CatalogDriver,
    shop: OrdersDriver,
    license_link: ServiceLink,
    orders_app: FastAPI,
    orders_license_app: FastAPI,
) -> None:
    listing = await publish(catalog_driver)
    order = await shop.placed(new_order(listing.product_id, listing.plan_id))
    license_link.up = False

    response = await shop.pay(order["id"])

    assert response.status_code == 202, response.text
    assert response.json()["status"] == "paid"
    assert response.json()["license_id"] is None
    assert_problem(
        await shop.client.get(f"/v1/instances/{order['instance_id']}", headers=shop.as_customer()),
        404,
        "instance_not_found",
    )
    assert await drain_outbox(orders_app) == 1  # license is still down

    license_link.up = True
    assert await drain_outbox(orders_app) == 0

    fulfilled = await shop.get(order["id"])
    assert fulfilled["status"] == "fulfilled"
    assert fulfilled["license_id"] is not None
    assert await licenses_by_order(orders_license_app) == Counter({order["id"]: 1})
    assert (await shop.instance(order["instance_id"]))["status"] == "active"


async def test_twenty_orders_paid_while_license_is_down_get_one_license_each(
    catalog_driver: CatalogDriver,
    shop: OrdersDriver,
    license_link: ServiceLink,
    orders_app: FastAPI,
    orders_license_app: FastAPI,
) -> None:
    listing = await publish(catalog_driver, requires_acceptance=False)
    orders = [await shop.placed(new_order(listing.product_id, listing.plan_id)) for _ in range(20)]
    license_link.up = False

    statuses = [(await shop.pay(o["id"])).status_code for o in orders]
    assert statuses == [202] * 20
    license_link.up = True
    await drain_outbox(orders_app)
    await drain_outbox(orders_app)  # a second pass finds nothing left to do

    assert await licenses_by_order(orders_license_app) == Counter({o["id"]: 1 for o in orders})
    for order in orders:
        assert (await shop.get(order["id"]))["status"] == "completed"


async def test_a_restarted_orders_service_fulfils_what_was_paid_before(
    catalog_driver: CatalogDriver,
    shop: OrdersDriver,
    keys,
    license_link: ServiceLink,
    orders_catalog_link: ServiceLink,
    orders_settings: OrdersSettings,
    orders_app: FastAPI,
    orders_license_app: FastAPI,
) -> None:
    listing = await publish(catalog_driver)
    order = await shop.placed(new_order(listing.product_id, listing.plan_id))
    license_link.up = False
    assert (await shop.pay(order["id"])).status_code == 202
    license_link.up = True

    async with running_orders_app(
        orders_settings, orders_catalog_link, license_link, empty=False
    ) as restarted:
        await drain_outbox(restarted)
        transport = httpx.ASGITransport(app=restarted)
        async with httpx.AsyncClient(transport=transport, base_url="http://orders.test") as c:
            after = (await c.get(f"/v1/orders/{order['id']}", headers=shop.as_customer())).json()

    assert after["status"] == "fulfilled"
    assert await licenses_by_order(orders_license_app) == Counter({order["id"]: 1})


async def test_a_payment_interrupted_before_settling_is_resumed_by_the_next_pay(
    catalog_driver: CatalogDriver,
    keys,
    license_link: ServiceLink,
    orders_catalog_link: ServiceLink,
    orders_settings: OrdersSettings,
) -> None:
    listing = await publish(catalog_driver)
    provider = FlakyProvider(failures=1)
    async with running_orders_app(
        orders_settings, orders_catalog_link, license_link, payment_provider=provider
    ) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://orders.test") as c:
            driver = OrdersDriver(c, keys)
            order = await driver.placed(new_order(listing.product_id, listing.plan_id))

            failed = await driver.pay(order["id"])
            pending = await driver.get(order["id"])
            cancel = await driver.cancel(order["id"])
            resumed = await driver.pay(order["id"])

            assert_problem(failed, 503, "payment_provider_unavailable")
            assert pending["status"] == "pending_payment"
            assert pending["payment"]["status"] == "initiated"
            assert_problem(cancel, 409, "payment_in_progress")
            assert resumed.status_code == 200, resumed.text
            assert resumed.json()["payment"]["id"] == pending["payment"]["id"]
            assert provider.charged == [pending["payment"]["id"]] * 2
            assert await rows(app, PaymentRow) == 1


async def test_a_payment_nobody_pays_again_is_resumed_by_the_relay(
    catalog_driver: CatalogDriver,
    keys,
    license_link: ServiceLink,
    orders_catalog_link: ServiceLink,
    orders_settings: OrdersSettings,
) -> None:
    listing = await publish(catalog_driver)
    provider = FlakyProvider(failures=1)
    async with running_orders_app(
        orders_settings, orders_catalog_link, license_link, payment_provider=provider
    ) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://orders.test") as c:
            driver = OrdersDriver(c, keys)
            order = await driver.placed(new_order(listing.product_id, listing.plan_id))
            assert_problem(await driver.pay(order["id"]), 503, "payment_provider_unavailable")

            assert await drain_outbox(app) == 0

            done = await driver.get(order["id"])
            assert done["status"] == "fulfilled"
            assert done["payment"]["status"] == "settled"
            assert provider.charged == [done["payment"]["id"]] * 2


async def test_idempotency_key_on_create_makes_one_order(
    catalog_driver: CatalogDriver, shop: OrdersDriver, orders_app: FastAPI
) -> None:
    listing = await publish(catalog_driver)
    body = new_order(listing.product_id, listing.plan_id)

    first = await shop.create(body, key="order-1")
    again = await shop.create(body, key="order-1")
    other_body = await shop.create(
        new_order(listing.product_id, listing.plan_id, cycle={"unit": "year", "count": 1}),
        key="order-1",
    )
    concurrent = await asyncio.gather(*(shop.create(body, key="order-2") for _ in range(8)))

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert_problem(other_body, 422, "idempotency_key_reused")
    assert {r.status_code for r in concurrent} == {201}
    assert len({r.json()["id"] for r in concurrent}) == 1
    assert await rows(orders_app, OrderRow) == 2


async def test_idempotency_key_on_pay_charges_once_and_replays_the_answer(
    catalog_driver: CatalogDriver,
    shop: OrdersDriver,
    orders_app: FastAPI,
    orders_license_app: FastAPI,
    license_link: ServiceLink,
) -> None:
    listing = await publish(catalog_driver)
    order = await shop.placed(new_order(listing.product_id, listing.plan_id))
    late = await shop.placed(new_order(listing.product_id, listing.plan_id))

    concurrent = await asyncio.gather(*(shop.pay(order["id"], key="pay-1") for _ in range(6)))
    replay = await shop.pay(order["id"], key="pay-1")
    license_link.up = False
    accepted = await shop.pay(late["id"], key="pay-2")
    accepted_again = await shop.pay(late["id"], key="pay-2")

    assert {r.status_code for r in concurrent} == {200}
    assert len({r.json()["payment"]["id"] for r in concurrent}) == 1
    assert replay.status_code == 200
    assert replay.json() == concurrent[0].json()
    assert (accepted.status_code, accepted_again.status_code) == (202, 202)
    assert accepted_again.json() == accepted.json()
    assert await rows(orders_app, PaymentRow) == 2
    assert await licenses_by_order(orders_license_app) == Counter({order["id"]: 1})


async def test_concurrent_pays_without_a_key_charge_one_payment(
    catalog_driver: CatalogDriver,
    shop: OrdersDriver,
    orders_app: FastAPI,
    orders_license_app: FastAPI,
) -> None:
    listing = await publish(catalog_driver)
    order = await shop.placed(new_order(listing.product_id, listing.plan_id))

    answers = await asyncio.gather(*(shop.pay(order["id"]) for _ in range(5)))

    # One pay fulfils (200); a duplicate that reused its payment while the license was being
    # minted answers 202 (paid, fulfilment under way); one that came after answers 409.
    assert {r.status_code for r in answers} <= {200, 202, 409}
    assert 200 in {r.status_code for r in answers}
    assert (await shop.get(order["id"]))["status"] == "fulfilled"
    assert await rows(orders_app, PaymentRow) == 1
    assert await licenses_by_order(orders_license_app) == Counter({order["id"]: 1})


async def test_cancel_only_before_payment(
    catalog_driver: CatalogDriver, shop: OrdersDriver
) -> None:
    listing = await publish(catalog_driver)
    order = await shop.placed(new_order(listing.product_id, listing.plan_id))
    paid = await shop.buy_instance(listing)

    cancelled = await shop.cancel(order["id"])
    twice = await shop.cancel(order["id"])
    pay_cancelled = await shop.pay(order["id"])
    cancel_paid = await shop.cancel(paid["id"])
    not_mine = await shop.cancel(paid["id"], customer="initech")

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancelled_at"] is not None
    assert_problem(twice, 409, "order_not_cancellable")
    assert_problem(pay_cancelled, 409, "order_not_payable")
    assert_problem(cancel_paid, 409, "order_not_cancellable")
    assert_problem(not_mine, 404, "order_not_found")


async def test_cancel_and_pay_racing_have_exactly_one_winner(
    catalog_driver: CatalogDriver, shop: OrdersDriver, orders_license_app: FastAPI
) -> None:
    listing = await publish(catalog_driver)
    outcomes = []
    for _ in range(6):
        order = await shop.placed(new_order(listing.product_id, listing.plan_id))

        paid, cancelled = await asyncio.gather(shop.pay(order["id"]), shop.cancel(order["id"]))

        final = (await shop.get(order["id"]))["status"]
        if paid.status_code == 200:
            assert cancelled.status_code == 409, cancelled.text
            assert cancelled.json()["code"] in ("payment_in_progress", "order_not_cancellable")
            assert final == "fulfilled"
        else:
            assert_problem(paid, 409, "order_not_payable")
            assert cancelled.status_code == 200
            assert final == "cancelled"
        outcomes.append(final)
    minted = await licenses_by_order(orders_license_app)
    assert sum(minted.values()) == outcomes.count("fulfilled")
    assert set(minted.values()) <= {1}


async def test_addon_pay_rechecks_the_instance(
    catalog_driver: CatalogDriver, shop: OrdersDriver
) -> None:
    listing = await publish(catalog_driver)
    base = await shop.buy_instance(listing)
    pending = await shop.placed(addon_order(base["instance_id"], listing.addon_id))
    assert (await shop.refund(base["id"], 4900)).status_code == 200

    response = await shop.pay(pending["id"])

    assert_problem(response, 409, "instance_ended")
