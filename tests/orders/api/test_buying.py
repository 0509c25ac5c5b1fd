"""Buying over the API: a new instance, add-on packs, dry runs and server-side prices, against
the real catalog and license apps in-process."""

from fastapi import FastAPI
from sqlalchemy import func, select

from services.orders.db.models import OrderRow, PaymentRow
from shared.app import service_state
from tests.catalog.factories import CatalogDriver
from tests.orders.factories import (
    OTHER_CUSTOMER,
    YEARLY,
    LicenseReader,
    OrdersDriver,
    addon_order,
    new_order,
    publish,
)
from tests.plugins.orders import ServiceLink
from tests.problems import assert_problem


async def count(app: FastAPI, model: type[OrderRow] | type[PaymentRow]) -> int:
    async with service_state(app).db.sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_buy_an_instance_then_two_addons_leaves_the_base_license_untouched(
    catalog_driver: CatalogDriver, shop: OrdersDriver, licenses: LicenseReader
) -> None:
    listing = await publish(catalog_driver, requires_acceptance=False)

    base = await shop.buy_instance(listing)

    assert base["status"] == "completed"
    assert base["amount"] == {"amount_minor": 4900, "currency": "EUR"}
    assert base["license_id"].startswith("lic_")
    instance_id = base["instance_id"]
    before = await licenses.license(base["license_id"])
    assert before["level"] == "base"
    assert await licenses.entitlement(instance_id) == {"devices": 100}

    first = await shop.buy_addon(instance_id, listing)
    second = await shop.buy_addon(instance_id, listing, quantity=2)

    assert (first["status"], second["status"]) == ("completed", "completed")
    assert second["amount"] == {"amount_minor": 3800, "currency": "EUR"}
    assert second["entitlements"] == {"devices": 200}
    after = await licenses.license(base["license_id"])
    assert after["token"] == before["token"]
    assert after["version"] == before["version"]
    assert await licenses.entitlement(instance_id) == {"devices": 400}
    addon_license = await licenses.license(second["license_id"])
    assert addon_license["level"] == "addon"
    assert addon_license["parent_id"] == base["license_id"]
    assert addon_license["quantity"] == 2
    assert await licenses.verify(addon_license["token"]) == "VALID"


async def test_the_instance_shows_its_licenses_and_entitlement(
    catalog_driver: CatalogDriver, shop: OrdersDriver
) -> None:
    listing = await publish(catalog_driver)
    base = await shop.buy_instance(listing)
    addon = await shop.buy_addon(base["instance_id"], listing, quantity=3)

    instance = await shop.instance(base["instance_id"])

    assert base["status"] == "fulfilled"  # the product requires acceptance
    assert instance["status"] == "active"
    assert instance["base_order_id"] == base["id"]
    assert (instance["product_id"], instance["plan_id"]) == (listing.product_id, listing.plan_id)
    assert instance["licenses_available"] is True
    assert instance["entitlement"] == {"devices": 400}
    assert [lic["order_id"] for lic in instance["licenses"]] == [base["id"], addon["id"]]
    assert instance["licenses"][0]["mode"] == "acceptance"
    listed = await shop.client.get("/v1/instances", headers=shop.as_customer())
    assert [i["id"] for i in listed.json()["items"]] == [base["instance_id"]]
    partner_view = await shop.instance(base["instance_id"], shop.as_partner())
    assert partner_view["entitlement"] == {"devices": 400}


async def test_instances_answer_without_entitlement_while_license_is_down(
    catalog_driver: CatalogDriver, shop: OrdersDriver, license_link: ServiceLink
) -> None:
    listing = await publish(catalog_driver)
    base = await shop.buy_instance(listing)
    license_link.up = False

    instance = await shop.instance(base["instance_id"])
    listed = await shop.client.get("/v1/instances", headers=shop.as_customer())

    assert instance["entitlement"] is None
    assert instance["licenses_available"] is False
    assert instance["licenses"] == []
    assert listed.json()["items"][0]["licenses_available"] is False


async def test_the_price_comes_from_the_live_revision_never_from_the_client(
    catalog_driver: CatalogDriver, shop: OrdersDriver, orders_app: FastAPI
) -> None:
    listing = await publish(catalog_driver)

    yearly = await shop.placed(new_order(listing.product_id, listing.plan_id, cycle=YEARLY))
    priced = await shop.create(
        new_order(
            listing.product_id, listing.plan_id, amount={"amount_minor": 1, "currency": "EUR"}
        )
    )
    cheap = await shop.create(new_order(listing.product_id, listing.plan_id, amount_minor=1))

    assert yearly["status"] == "pending_payment"
    assert yearly["amount"] == {"amount_minor": 49000, "currency": "EUR"}
    assert yearly["revision"] == 1
    assert yearly["id"].startswith("ord_")
    assert yearly["instance_id"].startswith("ins_")
    body = assert_problem(priced, 422, "validation_error")
    assert any(e["loc"][-1] == "amount" for e in body["errors"])
    assert_problem(cheap, 422, "validation_error")
    assert await count(orders_app, OrderRow) == 1


async def test_a_dry_run_prices_and_shows_the_license_impact_without_storing_anything(
    catalog_driver: CatalogDriver, shop: OrdersDriver, orders_app: FastAPI
) -> None:
    listing = await publish(catalog_driver)
    base = await shop.buy_instance(listing)
    orders_before, payments_before = (
        await count(orders_app, OrderRow),
        await count(orders_app, PaymentRow),
    )

    addon = await shop.create(
        addon_order(base["instance_id"], listing.addon_id, quantity=2), dry_run=True
    )
    new = await shop.create(new_order(listing.product_id, listing.plan_id), dry_run=True)

    assert addon.status_code == 200, addon.text
    quote = addon.json()
    assert quote["amount"] == {"amount_minor": 3800, "currency": "EUR"}
    assert quote["license"]["level"] == "addon"
    assert quote["license"]["addon_id"] == listing.addon_id
    assert quote["license"]["entitlements"] == {"devices": 200}
    assert quote["license"]["mode"] == "acceptance"
    assert quote["license"]["acceptance_deadline"] is not None
    assert quote["license"]["valid_until"] > quote["license"]["valid_from"]
    assert quote["entitlement_before"] == {"devices": 100}
    assert quote["entitlement_after"] == {"devices": 300}
    assert new.status_code == 200, new.text
    assert new.json()["entitlement_before"] == {}
    assert new.json()["entitlement_after"] == {"devices": 100}
    assert new.json()["license"]["plan_id"] == listing.plan_id
    assert await count(orders_app, OrderRow) == orders_before
    assert await count(orders_app, PaymentRow) == payments_before


async def test_a_dry_run_without_license_has_no_entitlement(
    catalog_driver: CatalogDriver, shop: OrdersDriver, license_link: ServiceLink
) -> None:
    listing = await publish(catalog_driver)
    base = await shop.buy_instance(listing)
    license_link.up = False

    quote = await shop.create(addon_order(base["instance_id"], listing.addon_id), dry_run=True)

    assert quote.status_code == 200, quote.text
    assert quote.json()["entitlement_before"] is None
    assert quote.json()["entitlement_after"] is None
    assert quote.json()["amount"]["amount_minor"] == 1900


async def test_a_one_time_plan_has_no_cycle_and_a_permanent_license(
    catalog_driver: CatalogDriver, shop: OrdersDriver, licenses: LicenseReader
) -> None:
    product = await catalog_driver.product(requires_acceptance=False)
    plan = await catalog_driver.plan(
        product["id"],
        subscription_method="one_time",
        cycles=None,
        price={"amount_minor": 99000, "currency": "EUR"},
    )
    await catalog_driver.go_live(product["id"])

    with_cycle = await shop.create(new_order(product["id"], plan["id"]))
    order = await shop.placed(new_order(product["id"], plan["id"], cycle=None))
    paid = await shop.paid(order["id"])

    assert_problem(with_cycle, 422, "cycle_not_applicable")
    assert paid["amount"] == {"amount_minor": 99000, "currency": "EUR"}
    assert paid["cycle"] is None
    license = await licenses.license(paid["license_id"])
    assert license["mode"] == "permanent"
    assert license["valid_until"] is None


async def test_cycle_and_quantity_rules_of_a_new_order(
    catalog_driver: CatalogDriver, shop: OrdersDriver
) -> None:
    listing = await publish(catalog_driver)

    no_cycle = await shop.create(new_order(listing.product_id, listing.plan_id, cycle=None))
    odd_cycle = await shop.create(
        new_order(listing.product_id, listing.plan_id, cycle={"unit": "month", "count": 3})
    )
    two = await shop.create(new_order(listing.product_id, listing.plan_id, quantity=2))
    zero = await shop.create(new_order(listing.product_id, listing.plan_id, quantity=0))

    assert_problem(no_cycle, 422, "cycle_required")
    assert_problem(odd_cycle, 422, "unknown_cycle")
    assert_problem(two, 422, "quantity_not_allowed")
    assert_problem(zero, 422, "validation_error")


async def test_orders_are_visible_to_their_customer_and_the_selling_partner_only(
    catalog_driver: CatalogDriver, shop: OrdersDriver, keys
) -> None:
    listing = await publish(catalog_driver)
    mine = await shop.placed(new_order(listing.product_id, listing.plan_id))
    theirs = await shop.placed(
        new_order(listing.product_id, listing.plan_id), customer=OTHER_CUSTOMER
    )

    own_list = await shop.client.get("/v1/orders", headers=shop.as_customer())
    partner_list = await shop.client.get("/v1/orders", headers=shop.as_partner())
    foreign = await shop.client.get(f"/v1/orders/{theirs['id']}", headers=shop.as_customer())
    other_partner = await shop.client.get(
        f"/v1/orders/{mine['id']}", headers=shop.as_partner("umbrella")
    )
    reviewer = await shop.client.get("/v1/orders", headers=keys.headers("reviewer", "rita"))
    anonymous = await shop.client.get("/v1/orders")

    assert [o["id"] for o in own_list.json()["items"]] == [mine["id"]]
    assert {o["id"] for o in partner_list.json()["items"]} == {mine["id"], theirs["id"]}
    assert_problem(foreign, 404, "order_not_found")
    assert_problem(other_partner, 404, "order_not_found")
    assert_problem(reviewer, 403, "forbidden")
    assert_problem(anonymous, 401, "unauthenticated")
    assert (await shop.get(mine["id"], shop.as_partner()))["customer_id"] == "globex"


async def test_list_filters_and_pages_newest_first(
    catalog_driver: CatalogDriver, shop: OrdersDriver
) -> None:
    listing = await publish(catalog_driver)
    base = await shop.buy_instance(listing)
    addons = [
        await shop.placed(addon_order(base["instance_id"], listing.addon_id)) for _ in range(3)
    ]

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2, "type": "addon"}
        if cursor:
            params["cursor"] = cursor
        page = await shop.client.get("/v1/orders", params=params, headers=shop.as_customer())
        seen += [o["id"] for o in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    by_instance = await shop.client.get(
        "/v1/orders", params={"instance_id": base["instance_id"]}, headers=shop.as_customer()
    )
    fulfilled = await shop.client.get(
        "/v1/orders", params={"status": "fulfilled"}, headers=shop.as_customer()
    )
    bad_cursor = await shop.client.get(
        "/v1/orders", params={"cursor": "nope"}, headers=shop.as_customer()
    )

    assert seen == [o["id"] for o in reversed(addons)]
    assert len(by_instance.json()["items"]) == 4
    assert [o["id"] for o in fulfilled.json()["items"]] == [base["id"]]
    assert fulfilled.json()["items"][0]["payment"]["status"] == "settled"
    assert_problem(bad_cursor, 422, "invalid_cursor")


async def test_the_catalog_down_means_503_and_no_order(
    catalog_driver: CatalogDriver,
    shop: OrdersDriver,
    orders_catalog_link: ServiceLink,
    orders_app: FastAPI,
) -> None:
    listing = await publish(catalog_driver)
    orders_catalog_link.up = False

    response = await shop.create(new_order(listing.product_id, listing.plan_id))

    assert_problem(response, 503, "upstream_unavailable")
    assert await count(orders_app, OrderRow) == 0


async def test_instances_of_others_are_not_found(
    catalog_driver: CatalogDriver, shop: OrdersDriver, keys
) -> None:
    listing = await publish(catalog_driver)
    base = await shop.buy_instance(listing)

    other = await shop.client.get(
        f"/v1/instances/{base['instance_id']}", headers=shop.as_customer(OTHER_CUSTOMER)
    )
    other_partner = await shop.client.get(
        f"/v1/instances/{base['instance_id']}", headers=shop.as_partner("umbrella")
    )
    reviewer = await shop.client.get("/v1/instances", headers=keys.headers("reviewer", "rita"))
    listed = await shop.client.get("/v1/instances", headers=shop.as_customer(OTHER_CUSTOMER))

    assert_problem(other, 404, "instance_not_found")
    assert_problem(other_partner, 404, "instance_not_found")
    assert_problem(reviewer, 403, "forbidden")
    assert listed.json()["items"] == []
