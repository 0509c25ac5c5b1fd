"""Acceptance completes an order; refunds in the guarantee period revoke licenses."""

import asyncio
from collections import Counter
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import select, update

from services.license.db.models import LicenseRow
from shared.app import service_state
from shared.clock import utcnow
from tests.catalog.factories import CatalogDriver
from tests.orders.factories import LicenseReader, OrdersDriver, new_order, publish
from tests.plugins.orders import ServiceLink, drain_outbox
from tests.problems import assert_problem


async def licenses_by_order(license_app: FastAPI) -> Counter[str]:
    async with service_state(license_app).db.sessionmaker() as session:
        return Counter((await session.execute(select(LicenseRow.order_id))).scalars())


async def test_accepting_completes_the_order_and_moves_the_license_to_its_paid_mode(
    catalog_driver: CatalogDriver, shop: OrdersDriver, licenses: LicenseReader
) -> None:
    listing = await publish(catalog_driver)
    base = await shop.buy_instance(listing)
    before = await licenses.license(base["license_id"])
    assert (base["status"], before["mode"]) == ("fulfilled", "acceptance")

    accepted = await shop.accept(base["id"])

    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "completed"
    assert accepted.json()["accepted_at"] is not None
    assert accepted.json()["completed_at"] == accepted.json()["accepted_at"]
    after = await licenses.license(base["license_id"])
    assert after["mode"] == "subscription"
    assert after["version"] == before["version"] + 1
    assert after["accepted_at"] is not None
    assert await licenses.verify(after["token"]) == "VALID"
    assert await licenses.verify(before["token"]) == "SUPERSEDED"


async def test_accept_refusals(catalog_driver: CatalogDriver, shop: OrdersDriver) -> None:
    with_acceptance = await publish(catalog_driver)
    without = await publish(catalog_driver, requires_acceptance=False, name="NoAcceptance")
    unpaid = await shop.placed(new_order(with_acceptance.product_id, with_acceptance.plan_id))
    completed = await shop.buy_instance(without)
    accepted = await shop.buy_instance(with_acceptance)
    assert (await shop.accept(accepted["id"])).status_code == 200

    assert_problem(await shop.accept(completed["id"]), 409, "acceptance_not_required")
    assert_problem(await shop.accept(unpaid["id"]), 409, "order_not_acceptable")
    assert_problem(await shop.accept(accepted["id"]), 409, "order_not_acceptable")
    assert_problem(await shop.accept(accepted["id"], "initech"), 404, "order_not_found")


async def test_accepting_after_the_deadline_is_refused(
    catalog_driver: CatalogDriver,
    shop: OrdersDriver,
    orders_license_app: FastAPI,
) -> None:
    listing = await publish(catalog_driver)
    base = await shop.buy_instance(listing)
    async with service_state(orders_license_app).db.sessionmaker() as session, session.begin():
        await session.execute(
            update(LicenseRow)
            .where(LicenseRow.id == base["license_id"])
            .values(acceptance_deadline=utcnow() - timedelta(minutes=1))
        )

    response = await shop.accept(base["id"])

    assert_problem(response, 409, "acceptance_deadline_passed")
    assert (await shop.get(base["id"]))["status"] == "fulfilled"


async def test_acceptance_reaches_license_later_when_it_is_down(
    catalog_driver: CatalogDriver,
    shop: OrdersDriver,
    licenses: LicenseReader,
    license_link: ServiceLink,
    orders_app: FastAPI,
) -> None:
    listing = await publish(catalog_driver)
    base = await shop.buy_instance(listing)
    license_link.up = False

    accepted = await shop.accept(base["id"])

    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "completed"
    assert (await licenses.license(base["license_id"]))["mode"] == "acceptance"
    license_link.up = True
    assert await drain_outbox(orders_app) == 0
    assert (await licenses.license(base["license_id"]))["mode"] == "subscription"


async def test_refunding_an_addon_in_the_guarantee_period_revokes_its_license(
    catalog_driver: CatalogDriver, shop: OrdersDriver, licenses: LicenseReader
) -> None:
    listing = await publish(catalog_driver)
    base = await shop.buy_instance(listing)
    addon = await shop.buy_addon(base["instance_id"], listing, quantity=2)
    token = (await licenses.license(addon["license_id"]))["token"]
    assert await licenses.entitlement(base["instance_id"]) == {"devices": 300}

    response = await shop.refund(addon["id"], 2000, "Two packs were one too many.")

    assert response.status_code == 200, response.text
    refunded = response.json()
    assert refunded["status"] == "refunded"
    assert refunded["refund"]["amount"] == {"amount_minor": 2000, "currency": "EUR"}
    assert refunded["refund"]["reason"] == "Two packs were one too many."
    assert await licenses.verify(token) == "REVOKED"
    assert await licenses.verify((await licenses.license(base["license_id"]))["token"]) == "VALID"
    assert await licenses.entitlement(base["instance_id"]) == {"devices": 100}
    assert (await shop.instance(base["instance_id"]))["status"] == "active"


async def test_refunding_a_new_order_ends_the_instance_and_revokes_its_addons(
    catalog_driver: CatalogDriver, shop: OrdersDriver, licenses: LicenseReader
) -> None:
    listing = await publish(catalog_driver)
    base = await shop.buy_instance(listing)
    kept = await shop.buy_addon(base["instance_id"], listing)
    accepted = await shop.buy_addon(base["instance_id"], listing)
    assert (await shop.accept(accepted["id"])).status_code == 200
    tokens = [(await licenses.license(o["license_id"]))["token"] for o in (base, kept, accepted)]

    response = await shop.refund(base["id"], 4900)

    assert response.status_code == 200, response.text
    assert [await licenses.verify(t) for t in tokens] == ["REVOKED"] * 3
    instance = await shop.instance(base["instance_id"])
    assert instance["status"] == "ended"
    assert instance["ended_at"] is not None
    assert instance["entitlement"] == {}
    assert {lic["status"] for lic in instance["licenses"]} == {"revoked"}
    # The add-on orders keep their own state: only their licenses went.
    assert (await shop.get(kept["id"]))["status"] == "fulfilled"
    assert (await shop.get(accepted["id"]))["status"] == "completed"


async def test_refund_refusals(catalog_driver: CatalogDriver, shop: OrdersDriver, keys) -> None:
    listing = await publish(catalog_driver)
    without = await publish(catalog_driver, requires_acceptance=False, name="NoAcceptance")
    base = await shop.buy_instance(listing)
    completed = await shop.buy_instance(without)
    unpaid = await shop.placed(new_order(listing.product_id, listing.plan_id))
    accepted = await shop.buy_instance(listing)
    assert (await shop.accept(accepted["id"])).status_code == 200

    too_much = await shop.refund(base["id"], 4901)
    nothing = await shop.refund(base["id"], 0)
    no_reason = await shop.refund(base["id"], 100, "  ")
    foreign = await shop.refund(base["id"], 100, partner="umbrella")
    as_customer = await shop.client.post(
        f"/v1/orders/{base['id']}/refund",
        json={"amount_minor": 100, "reason": "Mine"},
        headers=shop.as_customer(),
    )

    assert_problem(too_much, 422, "refund_exceeds_payment")
    assert_problem(nothing, 422, "validation_error")
    assert_problem(no_reason, 422, "validation_error")
    assert_problem(foreign, 404, "order_not_found")
    assert_problem(as_customer, 403, "forbidden")
    assert_problem(await shop.refund(completed["id"], 100), 409, "order_not_refundable")
    assert_problem(await shop.refund(accepted["id"], 100), 409, "order_not_refundable")
    assert_problem(await shop.refund(unpaid["id"], 100), 409, "order_not_refundable")
    assert (await shop.get(base["id"]))["status"] == "fulfilled"


async def test_idempotency_key_on_refund(
    catalog_driver: CatalogDriver, shop: OrdersDriver, orders_app: FastAPI
) -> None:
    listing = await publish(catalog_driver)
    base = await shop.buy_instance(listing)
    addon = await shop.buy_addon(base["instance_id"], listing)

    concurrent = await asyncio.gather(*(shop.refund(addon["id"], 500, key="r-1") for _ in range(4)))
    other_body = await shop.refund(addon["id"], 600, key="r-1")
    without_key = await shop.refund(addon["id"], 500)

    assert {r.status_code for r in concurrent} == {200}
    assert len({r.json()["refunded_at"] for r in concurrent}) == 1
    assert_problem(other_body, 422, "idempotency_key_reused")
    assert_problem(without_key, 409, "order_not_refundable")


async def test_refund_reaches_license_later_when_it_is_down(
    catalog_driver: CatalogDriver,
    shop: OrdersDriver,
    licenses: LicenseReader,
    license_link: ServiceLink,
    orders_app: FastAPI,
) -> None:
    listing = await publish(catalog_driver)
    base = await shop.buy_instance(listing)
    token = (await licenses.license(base["license_id"]))["token"]
    license_link.up = False

    response = await shop.refund(base["id"], 4900)

    assert response.status_code == 200, response.text
    assert await licenses.verify(token) == "VALID"
    license_link.up = True
    assert await drain_outbox(orders_app) == 0
    assert await licenses.verify(token) == "REVOKED"


async def test_an_addon_paid_for_an_instance_that_ends_before_minting_is_refunded(
    catalog_driver: CatalogDriver,
    shop: OrdersDriver,
    license_link: ServiceLink,
    orders_app: FastAPI,
    orders_license_app: FastAPI,
) -> None:
    listing = await publish(catalog_driver)
    base = await shop.buy_instance(listing)
    addon = await shop.placed(
        {
            "type": "addon",
            "instance_id": base["instance_id"],
            "addon_id": listing.addon_id,
            "cycle": {"unit": "month", "count": 1},
        }
    )
    license_link.up = False
    assert (await shop.pay(addon["id"])).status_code == 202
    assert (await shop.refund(base["id"], 4900)).status_code == 200

    license_link.up = True
    assert await drain_outbox(orders_app) == 0

    refunded = await shop.get(addon["id"])
    assert refunded["status"] == "refunded"
    assert refunded["refund"]["reason"] == "instance ended"
    assert refunded["refund"]["amount"]["amount_minor"] == 1900
    assert addon["id"] not in await licenses_by_order(orders_license_app)


async def test_an_addon_whose_base_license_license_has_revoked_is_refunded_at_pay(
    catalog_driver: CatalogDriver, shop: OrdersDriver, orders_license_app: FastAPI
) -> None:
    listing = await publish(catalog_driver)
    base = await shop.buy_instance(listing)
    addon = await shop.placed(
        {
            "type": "addon",
            "instance_id": base["instance_id"],
            "addon_id": listing.addon_id,
            "cycle": {"unit": "month", "count": 1},
        }
    )
    # License revoked the base license without orders hearing of it: minting is refused.
    async with service_state(orders_license_app).db.sessionmaker() as session, session.begin():
        await session.execute(
            update(LicenseRow)
            .where(LicenseRow.id == base["license_id"])
            .values(revoked_at=utcnow())
        )

    response = await shop.pay(addon["id"])

    assert response.status_code == 200, response.text
    paid = response.json()
    assert paid["status"] == "refunded"
    assert paid["payment"]["status"] == "settled"
    assert paid["refund"]["reason"] == "instance ended"
    assert addon["id"] not in await licenses_by_order(orders_license_app)


async def test_accept_and_refund_racing_have_exactly_one_winner(
    catalog_driver: CatalogDriver, shop: OrdersDriver
) -> None:
    listing = await publish(catalog_driver)
    base = await shop.buy_instance(listing)
    for _ in range(4):
        addon = await shop.buy_addon(base["instance_id"], listing)

        accepted, refunded = await asyncio.gather(
            shop.accept(addon["id"]), shop.refund(addon["id"], 1900)
        )

        codes = sorted([accepted.status_code, refunded.status_code])
        assert codes == [200, 409], (accepted.text, refunded.text)
        final = (await shop.get(addon["id"]))["status"]
        assert final == ("completed" if accepted.status_code == 200 else "refunded")


async def test_a_customer_and_a_partner_with_the_same_id_never_share_an_idempotency_key(
    catalog_driver: CatalogDriver, shop: OrdersDriver
) -> None:
    listing = await publish(catalog_driver)  # sold by the partner `acme`
    bought = await shop.buy_instance(listing)
    # A customer who is also called `acme`, and uses the partner's key for its own order.
    placed = await shop.create(
        new_order(listing.product_id, listing.plan_id), key="acme-42", customer=shop.partner
    )

    refunded = await shop.refund(bought["id"], 4900, key="acme-42")
    placed_again = await shop.create(
        new_order(listing.product_id, listing.plan_id), key="acme-42", customer=shop.partner
    )

    assert placed.status_code == 201, placed.text
    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["status"] == "refunded"
    assert placed_again.json() == placed.json()
