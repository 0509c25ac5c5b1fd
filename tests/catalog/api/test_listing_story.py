"""A partner lists a product: create, plan, add-on, freeze, publish; customers see it."""

import httpx

from tests.catalog.factories import CatalogDriver


async def test_create_product_returns_its_empty_draft(catalog_driver: CatalogDriver) -> None:
    product = await catalog_driver.product()

    assert product["id"].startswith("prd_")
    assert product["partner_id"] == "acme"
    assert product["product_type"] == "marketplace"
    assert product["locked"] is False
    assert product["live_revision"] is None
    assert product["draft"]["name"] == "FleetOTA"
    assert product["draft"]["plans"] == []


async def test_draft_shows_plans_and_addons(
    catalog_driver: CatalogDriver, catalog: httpx.AsyncClient
) -> None:
    product, plan, addon = await catalog_driver.listing()

    response = await catalog.get(f"/v1/products/{product['id']}/draft", headers=catalog_driver.auth)

    assert response.status_code == 200
    draft = response.json()["draft"]
    assert [p["id"] for p in draft["plans"]] == [plan["id"]]
    assert [a["id"] for a in draft["addons"]] == [addon["id"]]
    assert draft["addons"][0]["max_per_instance"] == 10
    assert draft["addons"][0]["agreement"] is None


async def test_nothing_is_public_before_publication(
    catalog_driver: CatalogDriver, catalog: httpx.AsyncClient
) -> None:
    product, _, _ = await catalog_driver.listing()

    assert (await catalog.get(f"/v1/products/{product['id']}")).status_code == 404
    assert (await catalog.get("/v1/products")).json() == {"items": [], "next_cursor": None}


async def test_published_revision_is_public_with_plans_addons_and_agreement(
    catalog_driver: CatalogDriver, catalog: httpx.AsyncClient
) -> None:
    product, plan, addon = await catalog_driver.listing()

    revision = await catalog_driver.go_live(product["id"])

    response = await catalog.get(f"/v1/products/{product['id']}")
    assert response.status_code == 200
    live = response.json()
    assert live["revision"] == revision == 1
    assert [p["id"] for p in live["plans"]] == [plan["id"]]
    assert live["addons"][0]["id"] == addon["id"]
    assert live["addons"][0]["agreement"] == {"kind": "platform_standard", "document_id": None}
    listed = (await catalog.get("/v1/products")).json()["items"]
    assert [p["id"] for p in listed] == [product["id"]]


async def test_draft_edits_after_publication_do_not_change_the_live_view(
    catalog_driver: CatalogDriver, catalog: httpx.AsyncClient
) -> None:
    product, _, _ = await catalog_driver.listing()
    await catalog_driver.go_live(product["id"])

    await catalog.patch(
        f"/v1/products/{product['id']}/draft",
        json={"name": "FleetOTA 2"},
        headers=catalog_driver.auth,
    )

    assert (await catalog.get(f"/v1/products/{product['id']}")).json()["name"] == "FleetOTA"
    draft = (
        await catalog.get(f"/v1/products/{product['id']}/draft", headers=catalog_driver.auth)
    ).json()
    assert draft["draft"]["name"] == "FleetOTA 2"
    assert draft["live_revision"] == 1


async def test_revisions_are_listed_newest_first_with_changes(
    catalog_driver: CatalogDriver, catalog: httpx.AsyncClient
) -> None:
    product, _, addon = await catalog_driver.listing()
    await catalog_driver.go_live(product["id"], "sub_1")
    await catalog.patch(
        f"/v1/products/{product['id']}/draft/addons/{addon['id']}",
        json={
            "cycles": [
                {"unit": "month", "count": 1, "price": {"amount_minor": 2500, "currency": "EUR"}}
            ]
        },
        headers=catalog_driver.auth,
    )
    await catalog_driver.go_live(product["id"], "sub_2")

    listing = (
        await catalog.get(f"/v1/products/{product['id']}/revisions", headers=catalog_driver.auth)
    ).json()
    assert [(r["number"], r["live"]) for r in listing] == [(2, True), (1, False)]
    second = (
        await catalog.get(f"/v1/products/{product['id']}/revisions/2", headers=catalog_driver.auth)
    ).json()
    assert [(c["op"], c["path"], c["field"]) for c in second["changes"]] == [
        ("changed", f"addons/{addon['id']}", "cycles")
    ]
    assert second["snapshot"]["addons"][0]["cycles"][0]["price"]["amount_minor"] == 2500
