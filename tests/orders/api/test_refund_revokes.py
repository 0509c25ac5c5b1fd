"""Every refund orders accepts revokes the license: what orders takes, license takes too.

A partner's refund reason comes from a form (a textarea sends CRLF); it becomes the reason of
the revocation that the outbox delivers to license. If license refused what orders accepted,
the money would be back and the license valid for ever. These tests run the real orders,
license and catalog apps in-process.
"""

import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.app import service_state
from shared.outbox import list_entries
from tests.catalog.factories import CatalogDriver
from tests.orders.factories import LicenseReader, Listing, OrdersDriver, publish
from tests.plugins.orders import drain_outbox
from tests.problems import assert_problem

PRICE = 4900  # the listing's monthly price


async def refund(shop: OrdersDriver, order_id: str, amount: int, reason: str) -> httpx.Response:
    """The partner's refund, its JSON escaped to ASCII so any string (lone surrogates too)
    goes over the wire as a client could send it."""
    return await shop.client.post(
        f"/v1/orders/{order_id}/refund",
        content=json.dumps({"amount_minor": amount, "reason": reason}),
        headers={**shop.as_partner(), "Content-Type": "application/json"},
    )


async def refunded_base(
    shop: OrdersDriver, licenses: LicenseReader, listing: Listing, amount: int, reason: str
) -> tuple[Any, str]:
    """Buy an instance, refund it as asked; the refund's response and the base token."""
    base = await shop.buy_instance(listing)
    token = (await licenses.license(base["license_id"]))["token"]
    return await refund(shop, base["id"], amount, reason), token


async def test_a_refund_whose_reason_spans_lines_revokes_the_base_license(
    catalog_driver: CatalogDriver, shop: OrdersDriver, licenses: LicenseReader, orders_app: Any
) -> None:
    listing = await publish(catalog_driver)

    response, token = await refunded_base(
        shop, licenses, listing, PRICE, "Customer asked.\r\nSee ticket 42\tthanks"
    )

    assert response.status_code == 200, response.text
    assert response.json()["refund"]["reason"] == "Customer asked.\r\nSee ticket 42\tthanks"
    assert await licenses.verify(token) == "REVOKED"
    assert await drain_outbox(orders_app) == 0


async def test_a_reason_license_would_refuse_is_refused_by_orders_first(
    catalog_driver: CatalogDriver, shop: OrdersDriver, licenses: LicenseReader
) -> None:
    listing = await publish(catalog_driver)
    base = await shop.buy_instance(listing)
    token = (await licenses.license(base["license_id"]))["token"]

    for reason in ("Refund \u202egnp.exe", "bell\x07", "escape\x1b[31m", "lone \ud800", " "):
        assert_problem(await refund(shop, base["id"], PRICE, reason), 422, "validation_error")

    assert (await shop.get(base["id"]))["status"] == "fulfilled"
    assert await licenses.verify(token) == "VALID"


# Reasons as people and scripts send them: any character, with line breaks, tabs, controls,
# bidi controls and invisible ones well represented.
REASONS = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.characters(min_codepoint=0, max_codepoint=0x9F),
        st.sampled_from("\r\n\t\u200b\u200d\u200e\u202a\u202e\u2066\u2069\u061c\ufeff\u2028"),
        st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    ),
    max_size=510,
)


@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(amount=st.integers(min_value=-1, max_value=PRICE + 1), reason=REASONS)
async def test_every_refund_orders_accepts_revokes_the_license(
    catalog_driver: CatalogDriver,
    shop: OrdersDriver,
    licenses: LicenseReader,
    orders_app: Any,
    amount: int,
    reason: str,
) -> None:
    listing = await publish(catalog_driver)

    response, token = await refunded_base(shop, licenses, listing, amount, reason)

    if response.status_code != 200:
        assert_problem(response, 422, response.json()["code"])
        assert await licenses.verify(token) == "VALID"
        return
    await drain_outbox(orders_app)
    assert await licenses.verify(token) == "REVOKED"


async def test_a_revoke_license_refuses_for_good_is_kept_counted_and_listed(
    catalog_driver: CatalogDriver, shop: OrdersDriver, licenses: LicenseReader, orders_app: Any
) -> None:
    # An entry queued by an older release, whose reason license refuses (422) for good.
    listing = await publish(catalog_driver)
    base = await shop.buy_instance(listing)
    relay = service_state(orders_app).outbox
    assert relay is not None
    async with relay.sessionmaker() as session, session.begin():
        entry = await relay.add(
            session, "license.revoke", {"order_id": base["id"], "reason": "old \u202e reason"}
        )

    assert await relay.deliver_now(entry) is False
    assert await drain_outbox(orders_app) == 0

    async with relay.sessionmaker() as session, session.begin():
        [failed] = await list_entries(session, relay.table, failed_only=True)
    assert failed.id == entry
    assert "license answered 422 validation_error" in str(failed.last_error)
    metrics = (await shop.client.get("/metrics")).text
    assert 'outbox_failed_entries{topic="license.revoke"} 1.0' in metrics
    assert 'outbox_entries_failed_total{topic="license.revoke"} 1.0' in metrics
    assert 'outbox_failed_entries{topic="order.fulfil"} 0.0' in metrics
