"""Every reason an order is refused, each with its own problem code."""

from typing import Any

from tests.catalog.factories import CatalogDriver
from tests.orders.factories import (
    OTHER_CUSTOMER,
    Listing,
    OrdersDriver,
    addon_order,
    new_order,
    publish,
    republish,
)
from tests.problems import assert_problem


async def patch_draft(catalog: CatalogDriver, path: str, body: dict[str, Any]) -> None:
    response = await catalog.client.patch(path, json=body, headers=catalog.auth)
    assert response.status_code == 200, response.text


async def retire(catalog: CatalogDriver, listing: Listing, kind: str, item_id: str) -> None:
    await patch_draft(
        catalog, f"/v1/products/{listing.product_id}/draft/{kind}/{item_id}", {"retired": True}
    )
    await republish(catalog, listing.product_id, "sub_2")


async def test_another_customers_instance_is_not_found(
    catalog_driver: CatalogDriver, shop: OrdersDriver
) -> None:
    listing = await publish(catalog_driver)
    base = await shop.buy_instance(listing)

    theirs = await shop.create(
        addon_order(base["instance_id"], listing.addon_id), customer=OTHER_CUSTOMER
    )
    unknown = await shop.create(addon_order("ins_doesnotexist", listing.addon_id))

    assert_problem(theirs, 404, "instance_not_found")
    assert_problem(unknown, 404, "instance_not_found")


async def test_an_ended_instance_takes_no_addon(
    catalog_driver: CatalogDriver, shop: OrdersDriver
) -> None:
    listing = await publish(catalog_driver)
    base = await shop.buy_instance(listing)
    refunded = await shop.refund(base["id"], 4900)
    assert refunded.status_code == 200, refunded.text

    response = await shop.create(addon_order(base["instance_id"], listing.addon_id))

    assert_problem(response, 409, "instance_ended")


async def test_unknown_products_plans_and_addons(
    catalog_driver: CatalogDriver, shop: OrdersDriver
) -> None:
    listing = await publish(catalog_driver)
    base = await shop.buy_instance(listing)
    draft_only = await catalog_driver.product(name="Not live yet")
    draft_plan = await catalog_driver.plan(draft_only["id"])
    unpublished_plan = await catalog_driver.plan(listing.product_id, name="Premium")
    unpublished_addon = await catalog_driver.addon(listing.product_id, name="+1000 devices")

    no_product = await shop.create(new_order("prd_doesnotexist", listing.plan_id))
    not_live = await shop.create(new_order(draft_only["id"], draft_plan["id"]))
    no_plan = await shop.create(new_order(listing.product_id, unpublished_plan["id"]))
    no_addon = await shop.create(addon_order(base["instance_id"], unpublished_addon["id"]))
    foreign_plan = await shop.create(new_order(listing.product_id, draft_plan["id"]))

    assert_problem(no_product, 422, "unknown_product")
    assert_problem(not_live, 422, "unknown_product")
    assert_problem(no_plan, 422, "unknown_plan")
    assert_problem(no_addon, 422, "unknown_addon")
    assert_problem(foreign_plan, 422, "unknown_plan")


async def test_retired_plans_and_addons_are_not_sold(
    catalog_driver: CatalogDriver, shop: OrdersDriver
) -> None:
    listing = await publish(catalog_driver)
    spare = await catalog_driver.plan(listing.product_id, name="Spare")
    await republish(catalog_driver, listing.product_id, "sub_1b")
    base = await shop.buy_instance(listing)
    await patch_draft(
        catalog_driver,
        f"/v1/products/{listing.product_id}/draft/plans/{listing.plan_id}",
        {"retired": True},
    )
    await retire(catalog_driver, listing, "addons", listing.addon_id)

    plan = await shop.create(new_order(listing.product_id, listing.plan_id))
    addon = await shop.create(addon_order(base["instance_id"], listing.addon_id))
    other_plan = await shop.create(new_order(listing.product_id, spare["id"]))

    assert_problem(plan, 409, "plan_retired")
    assert_problem(addon, 409, "addon_retired")
    assert other_plan.status_code == 201, other_plan.text
    # The instance keeps what it has: its entitlement and licenses are untouched.
    assert (await shop.instance(base["instance_id"]))["entitlement"] == {"devices": 100}


async def test_an_addon_must_be_compatible_with_the_instance_plan(
    catalog_driver: CatalogDriver, shop: OrdersDriver
) -> None:
    product = await catalog_driver.product()
    standard = await catalog_driver.plan(product["id"])
    premium = await catalog_driver.plan(product["id"], name="Premium")
    premium_only = await catalog_driver.addon(product["id"], compatible_plans=[premium["id"]])
    await catalog_driver.go_live(product["id"])
    on_standard = await shop.buy_instance(Listing(product["id"], standard["id"], ""))
    on_premium = await shop.buy_instance(Listing(product["id"], premium["id"], ""))

    refused = await shop.create(addon_order(on_standard["instance_id"], premium_only["id"]))
    allowed = await shop.create(addon_order(on_premium["instance_id"], premium_only["id"]))

    assert_problem(refused, 409, "addon_incompatible")
    assert allowed.status_code == 201, allowed.text


async def test_packs_per_instance_are_capped_counting_paid_orders(
    catalog_driver: CatalogDriver, shop: OrdersDriver
) -> None:
    product = await catalog_driver.product()
    plan = await catalog_driver.plan(product["id"])
    addon = await catalog_driver.addon(product["id"], max_per_instance=3)
    await catalog_driver.go_live(product["id"])
    listing = Listing(product["id"], plan["id"], addon["id"])
    base = await shop.buy_instance(listing)
    await shop.buy_addon(base["instance_id"], listing, quantity=2)

    too_many = await shop.create(addon_order(base["instance_id"], addon["id"], quantity=2))
    # Unpaid orders hold nothing: two may wait for the last pack, the first to pay gets it.
    first = await shop.placed(addon_order(base["instance_id"], addon["id"]))
    second = await shop.placed(addon_order(base["instance_id"], addon["id"]))
    await shop.paid(first["id"])
    late = await shop.pay(second["id"])

    body = assert_problem(too_many, 409, "max_per_instance_exceeded")
    assert (body["max_per_instance"], body["packs_held"]) == (3, 2)
    assert_problem(late, 409, "max_per_instance_exceeded")
    assert (await shop.get(second["id"]))["status"] == "pending_payment"
    # A refund frees its packs.
    refund = await shop.refund(first["id"], 1900)
    assert refund.status_code == 200, refund.text
    assert (await shop.pay(second["id"])).status_code == 200
