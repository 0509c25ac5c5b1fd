"""Freeze, publish and unlock (what review calls), the draft lock, and listed-product rules."""

import asyncio
from typing import Any

import httpx
import pytest

from tests.catalog.factories import CatalogDriver, addon_body, plan_body, price
from tests.problems import assert_problem


async def draft_of(catalog_driver: CatalogDriver, product_id: str) -> dict[str, Any]:
    response = await catalog_driver.client.get(
        f"/v1/products/{product_id}/draft", headers=catalog_driver.auth
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def edits(
    catalog_driver: CatalogDriver, product_id: str, plan_id: str, addon_id: str
) -> list[httpx.Response]:
    """One of every kind of draft edit."""
    base = f"/v1/products/{product_id}/draft"
    client, auth = catalog_driver.client, catalog_driver.auth
    return [
        await client.patch(base, json={"name": "Renamed"}, headers=auth),
        await client.post(f"{base}/plans", json=plan_body(name="Pro"), headers=auth),
        await client.patch(f"{base}/plans/{plan_id}", json={"retired": True}, headers=auth),
        await client.delete(f"{base}/plans/{plan_id}", headers=auth),
        await client.post(f"{base}/addons", json=addon_body(name="+1000"), headers=auth),
        await client.patch(f"{base}/addons/{addon_id}", json={"max_per_instance": 2}, headers=auth),
        await client.delete(f"{base}/addons/{addon_id}", headers=auth),
    ]


# -- the lock ------------------------------------------------------------------------------


async def test_freezing_locks_the_draft_against_every_edit(catalog_driver: CatalogDriver) -> None:
    product, plan, addon = await catalog_driver.listing()
    assert (await catalog_driver.freeze(product["id"], "sub_1")).status_code == 200
    before = await draft_of(catalog_driver, product["id"])

    responses = await edits(catalog_driver, product["id"], plan["id"], addon["id"])

    for response in responses:
        body = assert_problem(response, 409, "draft_locked")
        assert "sub_1" in body["detail"]
    after = await draft_of(catalog_driver, product["id"])
    assert after == before
    assert (after["locked"], after["open_submission_id"]) == (True, "sub_1")


async def test_unlocking_reopens_the_draft_and_discards_the_revision(
    catalog_driver: CatalogDriver,
) -> None:
    product, plan, addon = await catalog_driver.listing()
    await catalog_driver.freeze(product["id"], "sub_1")

    unlocked = await catalog_driver.unlock(product["id"], "sub_1")

    assert unlocked.status_code == 200
    assert unlocked.json() == {"product_id": product["id"], "locked": False}
    responses = await edits(catalog_driver, product["id"], plan["id"], addon["id"])
    assert [r.status_code for r in responses] == [200, 201, 200, 204, 201, 200, 204]
    revisions = (
        await catalog_driver.client.get(
            f"/v1/products/{product['id']}/revisions", headers=catalog_driver.auth
        )
    ).json()
    assert [(r["number"], r["state"], r["live"]) for r in revisions] == [(1, "discarded", False)]


async def test_unlock_by_another_submission_is_a_no_op(catalog_driver: CatalogDriver) -> None:
    product, _, _ = await catalog_driver.listing()
    await catalog_driver.freeze(product["id"], "sub_1")

    response = await catalog_driver.unlock(product["id"], "sub_other")

    assert response.json()["locked"] is True
    assert (await draft_of(catalog_driver, product["id"]))["open_submission_id"] == "sub_1"


async def test_unlock_is_idempotent(catalog_driver: CatalogDriver) -> None:
    product, _, _ = await catalog_driver.listing()
    await catalog_driver.freeze(product["id"], "sub_1")

    first = await catalog_driver.unlock(product["id"], "sub_1")
    second = await catalog_driver.unlock(product["id"], "sub_1")

    assert first.json() == second.json() == {"product_id": product["id"], "locked": False}


async def test_freeze_is_idempotent_for_the_same_submission(catalog_driver: CatalogDriver) -> None:
    product, _, _ = await catalog_driver.listing()

    first = await catalog_driver.freeze(product["id"], "sub_1")
    second = await catalog_driver.freeze(product["id"], "sub_1")

    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert first.json()["revision"] == 1
    revisions = (
        await catalog_driver.client.get(
            f"/v1/products/{product['id']}/revisions", headers=catalog_driver.auth
        )
    ).json()
    assert [r["number"] for r in revisions] == [1]


async def test_freeze_for_another_submission_while_locked_is_409(
    catalog_driver: CatalogDriver,
) -> None:
    product, _, _ = await catalog_driver.listing()
    await catalog_driver.freeze(product["id"], "sub_1")

    assert_problem(await catalog_driver.freeze(product["id"], "sub_2"), 409, "draft_locked")


async def test_freeze_returns_the_snapshot_and_its_changes(catalog_driver: CatalogDriver) -> None:
    product, plan, addon = await catalog_driver.listing()

    frozen = (await catalog_driver.freeze(product["id"], "sub_1")).json()

    assert frozen["product_id"] == product["id"]
    assert frozen["snapshot"]["partner_id"] == "acme"
    assert [p["id"] for p in frozen["snapshot"]["plans"]] == [plan["id"]]
    assert frozen["snapshot"]["addons"][0]["agreement"]["kind"] == "platform_standard"
    assert [(c["op"], c["path"]) for c in frozen["changes"]] == [
        ("added", "product"),
        ("added", f"plans/{plan['id']}"),
        ("added", f"addons/{addon['id']}"),
    ]


async def test_freeze_of_an_unknown_product_is_404(catalog_driver: CatalogDriver) -> None:
    assert_problem(await catalog_driver.freeze("prd_nothing", "sub_1"), 404, "product_not_found")


async def test_freeze_reports_every_problem_at_once(catalog_driver: CatalogDriver) -> None:
    product = await catalog_driver.product(product_type="saas")
    await catalog_driver.plan(product["id"])
    await catalog_driver.plan(
        product["id"],
        name="STANDARD",
        cycles=[{"unit": "month", "count": 1, "price": price(100, "USD")}],
    )
    await catalog_driver.addon(product["id"], entitlements={"seats": 5})
    await catalog_driver.addon(product["id"], name="Nothing", entitlements={})

    response = await catalog_driver.freeze(product["id"])

    body = assert_problem(response, 422, "draft_invalid")
    assert sorted(e["type"] for e in body["errors"]) == [
        "agreement_missing",
        "agreement_missing",
        "duplicate_name",
        "mixed_currencies",
        "no_increment",
        "unknown_dimension",
    ]
    draft = await draft_of(catalog_driver, product["id"])
    assert (draft["locked"], draft["last_revision"]) == (False, 0)


async def test_freeze_refuses_a_draft_without_a_plan(catalog_driver: CatalogDriver) -> None:
    product = await catalog_driver.product()

    body = assert_problem(await catalog_driver.freeze(product["id"]), 422, "draft_invalid")

    assert [(e["loc"], e["type"]) for e in body["errors"]] == [(["plans"], "no_plan")]


# -- publish -------------------------------------------------------------------------------


async def test_publish_is_idempotent(catalog_driver: CatalogDriver) -> None:
    product, _, _ = await catalog_driver.listing()
    await catalog_driver.freeze(product["id"], "sub_1")

    first = await catalog_driver.publish(product["id"], 1)
    second = await catalog_driver.publish(product["id"], 1)

    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    draft = await draft_of(catalog_driver, product["id"])
    assert (draft["locked"], draft["live_revision"]) == (False, 1)


async def test_publishing_a_discarded_revision_is_refused(catalog_driver: CatalogDriver) -> None:
    product, _, _ = await catalog_driver.listing()
    await catalog_driver.freeze(product["id"], "sub_1")
    await catalog_driver.unlock(product["id"], "sub_1")

    assert_problem(await catalog_driver.publish(product["id"], 1), 409, "revision_not_publishable")
    assert (await catalog_driver.client.get(f"/v1/products/{product['id']}")).status_code == 404


async def test_publishing_an_old_revision_while_another_is_open_is_refused(
    catalog_driver: CatalogDriver,
) -> None:
    product, _, _ = await catalog_driver.listing()
    await catalog_driver.freeze(product["id"], "sub_1")
    await catalog_driver.unlock(product["id"], "sub_1")
    await catalog_driver.freeze(product["id"], "sub_2")

    assert_problem(await catalog_driver.publish(product["id"], 1), 409, "revision_not_publishable")
    assert (await catalog_driver.publish(product["id"], 2)).status_code == 200


async def test_publishing_a_revision_that_does_not_exist_is_404(
    catalog_driver: CatalogDriver,
) -> None:
    product, _, _ = await catalog_driver.listing()

    assert_problem(await catalog_driver.publish(product["id"], 7), 404, "revision_not_found")
    assert_problem(await catalog_driver.publish("prd_nothing", 1), 404, "product_not_found")


async def test_a_second_publication_keeps_the_listing_position(
    catalog_driver: CatalogDriver, catalog: httpx.AsyncClient
) -> None:
    first, _, _ = await catalog_driver.listing(name="First")
    second, _, _ = await catalog_driver.listing(name="Second")
    await catalog_driver.go_live(first["id"], "sub_1")
    await catalog_driver.go_live(second["id"], "sub_2")
    await catalog.patch(
        f"/v1/products/{first['id']}/draft", json={"name": "First v2"}, headers=catalog_driver.auth
    )

    await catalog_driver.go_live(first["id"], "sub_3")

    listed = (await catalog.get("/v1/products")).json()["items"]
    assert [(p["name"], p["revision"]) for p in listed] == [("First v2", 2), ("Second", 1)]


# -- listed-product rules ------------------------------------------------------------------


async def test_a_live_plan_can_not_be_deleted_but_can_be_retired(
    catalog_driver: CatalogDriver,
) -> None:
    product, plan, _ = await catalog_driver.listing()
    await catalog_driver.go_live(product["id"])
    url = f"/v1/products/{product['id']}/draft/plans/{plan['id']}"

    assert_problem(
        await catalog_driver.client.delete(url, headers=catalog_driver.auth),
        409,
        "live_plan_not_deletable",
    )
    retired = await catalog_driver.client.patch(
        url, json={"retired": True}, headers=catalog_driver.auth
    )
    assert retired.status_code == 200
    assert retired.json()["retired"] is True


async def test_a_live_addon_can_not_be_deleted(catalog_driver: CatalogDriver) -> None:
    product, _, addon = await catalog_driver.listing()
    await catalog_driver.go_live(product["id"])

    response = await catalog_driver.client.delete(
        f"/v1/products/{product['id']}/draft/addons/{addon['id']}", headers=catalog_driver.auth
    )

    assert_problem(response, 409, "live_addon_not_deletable")


async def test_a_plan_added_after_publication_can_be_deleted(catalog_driver: CatalogDriver) -> None:
    product, _, _ = await catalog_driver.listing()
    await catalog_driver.go_live(product["id"])
    extra = await catalog_driver.plan(product["id"], name="Extra")

    response = await catalog_driver.client.delete(
        f"/v1/products/{product['id']}/draft/plans/{extra['id']}", headers=catalog_driver.auth
    )

    assert response.status_code == 204


async def test_a_plan_named_by_an_addon_can_not_be_deleted(catalog_driver: CatalogDriver) -> None:
    product, plan, _ = await catalog_driver.listing()
    await catalog_driver.addon(product["id"], name="Pro pack", compatible_plans=[plan["id"]])

    response = await catalog_driver.client.delete(
        f"/v1/products/{product['id']}/draft/plans/{plan['id']}", headers=catalog_driver.auth
    )

    assert_problem(response, 409, "plan_in_use")


async def test_removing_a_live_subscription_method_is_refused_at_freeze(
    catalog_driver: CatalogDriver,
) -> None:
    product, plan, _ = await catalog_driver.listing()
    await catalog_driver.go_live(product["id"], "sub_1")
    switched = await catalog_driver.client.patch(
        f"/v1/products/{product['id']}/draft/plans/{plan['id']}",
        json={"subscription_method": "one_time", "cycles": None, "price": price(99000)},
        headers=catalog_driver.auth,
    )
    assert switched.status_code == 200, switched.text

    body = assert_problem(await catalog_driver.freeze(product["id"], "sub_2"), 422, "draft_invalid")

    assert [(e["loc"], e["type"]) for e in body["errors"]] == [
        (["plans", plan["id"], "subscription_method"], "live_method_removed")
    ]


async def test_the_product_type_can_not_change(catalog_driver: CatalogDriver) -> None:
    product = await catalog_driver.product()
    url = f"/v1/products/{product['id']}/draft"

    refused = await catalog_driver.client.patch(
        url, json={"product_type": "saas"}, headers=catalog_driver.auth
    )
    same = await catalog_driver.client.patch(
        url, json={"product_type": "marketplace", "name": "Same type"}, headers=catalog_driver.auth
    )

    assert_problem(refused, 422, "product_type_immutable")
    assert same.status_code == 200
    assert (same.json()["product_type"], same.json()["draft"]["name"]) == (
        "marketplace",
        "Same type",
    )


# -- concurrency ---------------------------------------------------------------------------


@pytest.mark.parametrize("round_", range(3))
async def test_edits_racing_a_freeze_land_before_it_or_get_draft_locked(
    catalog_driver: CatalogDriver, round_: int
) -> None:
    product, _, _ = await catalog_driver.listing()
    product_id = product["id"]

    async def add_plan(i: int) -> httpx.Response:
        return await catalog_driver.client.post(
            f"/v1/products/{product_id}/draft/plans",
            json=plan_body(name=f"Plan {round_}-{i}"),
            headers=catalog_driver.auth,
        )

    async def rename(i: int) -> httpx.Response:
        return await catalog_driver.client.patch(
            f"/v1/products/{product_id}/draft",
            json={"description": f"edit {i}"},
            headers=catalog_driver.auth,
        )

    racing = [add_plan(i) if i % 2 else rename(i) for i in range(12)]
    *before, freeze = await asyncio.gather(*racing, catalog_driver.freeze(product_id, "sub_race"))
    after = await asyncio.gather(*(add_plan(i) if i % 2 else rename(i) for i in range(12, 24)))
    responses = [*before, *after]

    assert freeze.status_code == 200, freeze.text
    snapshot = freeze.json()["snapshot"]
    landed = [r for r in responses if r.status_code in (200, 201)]
    refused = [r for r in responses if r.status_code not in (200, 201)]
    for response in refused:
        assert_problem(response, 409, "draft_locked")
    assert all(r.status_code == 409 for r in after)
    snapshot_plans = {p["id"] for p in snapshot["plans"]}
    added = {r.json()["id"] for r in landed if r.status_code == 201}
    assert added <= snapshot_plans
    assert len(snapshot_plans) == len(added) + 1
    # The snapshot is exactly the draft as the edits left it: nothing landed after the freeze.
    draft = await draft_of(catalog_driver, product_id)
    assert {p["id"] for p in draft["draft"]["plans"]} == snapshot_plans
    assert draft["draft"]["description"] == snapshot["details"]["description"]
    renamed = [r.json()["draft"]["description"] for r in landed if r.status_code == 200]
    assert snapshot["details"]["description"] in (renamed or [product["draft"]["description"]])


async def test_concurrent_edits_lose_no_update(catalog_driver: CatalogDriver) -> None:
    product = await catalog_driver.product()

    responses = await asyncio.gather(
        *(catalog_driver.plan(product["id"], name=f"Plan {i}") for i in range(15))
    )

    draft = await draft_of(catalog_driver, product["id"])
    assert {p["id"] for p in draft["draft"]["plans"]} == {r["id"] for r in responses}
