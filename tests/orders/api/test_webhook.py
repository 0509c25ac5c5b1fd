"""A provider that confirms through the signed webhook: settle, fail, replay, bad signatures."""

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from services.orders.db.models import outbox
from services.orders.payments import webhook_signature
from services.orders.settings import DEV_WEBHOOK_SECRET, OrdersSettings
from shared.app import service_state
from tests.catalog.factories import CatalogDriver
from tests.conftest import TestKeys
from tests.orders.factories import LicenseReader, OrdersDriver, addon_order, new_order, publish
from tests.plugins.orders import ServiceLink, running_orders_app
from tests.problems import assert_problem


@pytest.fixture
async def external_app(
    orders_settings: OrdersSettings, orders_catalog_link: ServiceLink, license_link: ServiceLink
) -> AsyncIterator[FastAPI]:
    settings = orders_settings.model_copy(update={"payment_provider": "external"})
    async with running_orders_app(settings, orders_catalog_link, license_link) as app:
        yield app


@pytest.fixture
async def external(external_app: FastAPI, keys: TestKeys) -> AsyncIterator[OrdersDriver]:
    transport = httpx.ASGITransport(app=external_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://orders.test") as client:
        yield OrdersDriver(client, keys)


def event(payment_id: str, type_: str = "payment.settled", event_id: str = "evt_1") -> bytes:
    return json.dumps({"event_id": event_id, "type": type_, "payment_id": payment_id}).encode()


async def deliver(
    driver: OrdersDriver,
    body: bytes,
    *,
    secret: str = DEV_WEBHOOK_SECRET,
    at: int | None = None,
    signature: str | None = None,
) -> httpx.Response:
    header = signature or webhook_signature(secret, at or int(time.time()), body)
    return await driver.client.post(
        "/v1/payments/webhook",
        content=body,
        headers={"Content-Type": "application/json", "Market-Signature": header},
    )


async def refunds(app: FastAPI) -> list[dict[str, Any]]:
    """The payment refunds handed to the provider."""
    async with service_state(app).db.sessionmaker() as session:
        query = select(outbox.c.payload).where(
            outbox.c.topic == "payment.refund", outbox.c.delivered_at.is_not(None)
        )
        return [dict(p) for p in (await session.execute(query)).scalars()]


async def pending_payment(driver: OrdersDriver, order: dict[str, Any]) -> str:
    response = await driver.pay(order["id"])
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "pending_payment"
    assert response.json()["payment"]["status"] == "initiated"
    assert response.json()["payment"]["provider"] == "external"
    return str(response.json()["payment"]["id"])


async def test_a_signed_settlement_fulfils_the_order_and_a_replay_changes_nothing(
    catalog_driver: CatalogDriver, external: OrdersDriver, licenses: LicenseReader
) -> None:
    listing = await publish(catalog_driver)
    order = await external.placed(new_order(listing.product_id, listing.plan_id))
    payment_id = await pending_payment(external, order)

    settled = await deliver(external, event(payment_id))
    replayed = await deliver(external, event(payment_id))
    again_other_id = await deliver(external, event(payment_id, event_id="evt_2"))

    assert settled.status_code == 200, settled.text
    assert settled.json() == {"event_id": "evt_1", "status": "processed"}
    assert replayed.json() == {"event_id": "evt_1", "status": "duplicate"}
    assert again_other_id.json()["status"] == "processed"
    fulfilled = await external.get(order["id"])
    assert fulfilled["status"] == "fulfilled"
    assert fulfilled["payment"]["status"] == "settled"
    assert len(await licenses.licenses(order["instance_id"])) == 1


async def test_bad_missing_or_stale_signatures_get_401(
    catalog_driver: CatalogDriver, external: OrdersDriver
) -> None:
    listing = await publish(catalog_driver)
    order = await external.placed(new_order(listing.product_id, listing.plan_id))
    payment_id = await pending_payment(external, order)
    body = event(payment_id)

    wrong_secret = await deliver(external, body, secret="whsec_guess")
    stale = await deliver(external, body, at=int(time.time()) - 301)
    tampered = await deliver(
        external, body, signature=webhook_signature(DEV_WEBHOOK_SECRET, int(time.time()), b"{}")
    )
    missing = await external.client.post(
        "/v1/payments/webhook", content=body, headers={"Content-Type": "application/json"}
    )

    for response in (wrong_secret, stale, tampered, missing):
        assert_problem(response, 401, "invalid_signature")
    assert (await external.get(order["id"]))["status"] == "pending_payment"


async def test_a_signed_event_must_still_be_well_formed(external: OrdersDriver) -> None:
    malformed = await deliver(external, b'{"event_id": "evt_1", "type": "payment.stolen"}')
    unknown = await deliver(external, event("pay_doesnotexist"))

    body = assert_problem(malformed, 422, "validation_error")
    assert {tuple(e["loc"]) for e in body["errors"]} >= {("body", "type"), ("body", "payment_id")}
    assert_problem(unknown, 404, "payment_not_found")


async def test_a_failed_payment_frees_the_order_to_be_paid_again(
    catalog_driver: CatalogDriver, external: OrdersDriver, external_app: FastAPI
) -> None:
    listing = await publish(catalog_driver)
    order = await external.placed(new_order(listing.product_id, listing.plan_id))
    first = await pending_payment(external, order)

    failed = await deliver(external, event(first, "payment.failed"))
    second = await pending_payment(external, order)
    settled = await deliver(external, event(second, event_id="evt_2"))
    late_settlement_of_the_failed_one = await deliver(external, event(first, event_id="evt_3"))

    assert failed.json()["status"] == "processed"
    assert second != first
    assert settled.status_code == 200
    assert (await external.get(order["id"]))["status"] == "fulfilled"
    # Money that arrives for an order already paid goes back (payment.refund in the outbox).
    assert late_settlement_of_the_failed_one.status_code == 200
    assert (await external.get(order["id"]))["payment"]["id"] == second
    assert await refunds(external_app) == [{"payment_id": first, "amount_minor": 4900}]


async def test_packs_being_paid_for_count_toward_the_maximum(
    catalog_driver: CatalogDriver, external: OrdersDriver
) -> None:
    product = await catalog_driver.product()
    plan = await catalog_driver.plan(product["id"])
    addon = await catalog_driver.addon(product["id"], max_per_instance=2)
    await catalog_driver.go_live(product["id"])
    base = await external.placed(new_order(product["id"], plan["id"]))
    await deliver(external, event(await pending_payment(external, base), event_id="evt_base"))
    paying = await external.placed(addon_order(base["instance_id"], addon["id"], quantity=2))
    payment_id = await pending_payment(external, paying)

    refused = await external.create(addon_order(base["instance_id"], addon["id"]))
    await deliver(external, event(payment_id, "payment.failed", event_id="evt_fail"))
    allowed = await external.create(addon_order(base["instance_id"], addon["id"]))

    assert_problem(refused, 409, "max_per_instance_exceeded")
    assert allowed.status_code == 201, allowed.text


# What a header value may carry on the wire: tab, visible ASCII and obs-text bytes.
HEADER_BYTES = st.sampled_from([9, *range(32, 127), *range(128, 256)])


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    header=st.one_of(
        st.lists(HEADER_BYTES, max_size=1200).map(bytes),
        st.text(max_size=60)
        .map(lambda text: text.encode())
        .filter(lambda raw: all(byte in (9, *range(32, 256)) and byte != 127 for byte in raw)),
        st.builds(
            lambda sign, digit, length, mac: f"t={sign}{digit * length},v1={mac}".encode(),
            st.sampled_from(["", "-", "+"]),
            st.sampled_from("0123456789"),
            st.integers(1, 1200),
            st.from_regex(r"[0-9a-f]{0,70}", fullmatch=True),
        ),
    )
)
async def test_any_unsigned_market_signature_gets_401_never_a_500(
    external: OrdersDriver, header: bytes
) -> None:
    response = await external.client.post(
        "/v1/payments/webhook",
        content=event("pay_doesnotexist"),
        headers=[(b"Content-Type", b"application/json"), (b"Market-Signature", header)],
    )

    assert_problem(response, 401, "invalid_signature")


async def test_a_huge_timestamp_gets_401(external: OrdersDriver) -> None:
    response = await deliver(external, event("pay_1"), signature=f"t={'9' * 900},v1=00")

    assert_problem(response, 401, "invalid_signature")


async def test_a_refund_gives_back_the_payment_that_paid_the_order_not_another_settled_one(
    catalog_driver: CatalogDriver, external: OrdersDriver, external_app: FastAPI
) -> None:
    listing = await publish(catalog_driver)
    order = await external.placed(new_order(listing.product_id, listing.plan_id))
    first = await pending_payment(external, order)
    await deliver(external, event(first, "payment.failed", event_id="evt_1"))
    second = await pending_payment(external, order)
    await deliver(external, event(second, event_id="evt_2"))  # pays the order
    await deliver(external, event(first, event_id="evt_3"))  # settles late: given back

    refunded = await external.refund(order["id"], 1000)

    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["payment"]["id"] == second
    given_back = sorted((r["payment_id"], r["amount_minor"]) for r in await refunds(external_app))
    assert given_back == sorted([(first, 4900), (second, 1000)])
