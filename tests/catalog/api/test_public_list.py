"""The public list of live products: filters and keyset pagination."""

from typing import Any

import httpx

from tests.catalog.factories import CatalogDriver
from tests.problems import assert_problem


async def publish(catalog_driver: CatalogDriver, **product: Any) -> str:
    """A live product with one plan; returns its id."""
    created = await catalog_driver.product(**product)
    await catalog_driver.plan(created["id"])
    await catalog_driver.go_live(created["id"])
    return str(created["id"])


async def listed(catalog: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await catalog.get("/v1/products", params=params)
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return [item["id"] for item in response.json()["items"]]


async def test_only_live_products_are_listed_with_their_summary(
    catalog_driver: CatalogDriver, catalog: httpx.AsyncClient
) -> None:
    live = await publish(catalog_driver, name="Live one", billing_mode="offline")
    await catalog_driver.listing(name="Draft only")

    response = await catalog.get("/v1/products")

    assert response.json()["items"] == [
        {
            "id": live,
            "partner_id": "acme",
            "product_type": "marketplace",
            "name": "Live one",
            "category": "automotive",
            "description": "Over-the-air updates for connected vehicles.",
            "billing_mode": "offline",
            "revision": 1,
            "published_at": response.json()["items"][0]["published_at"],
        }
    ]


async def test_category_filter_ignores_case_and_surrounding_spaces(
    catalog_driver: CatalogDriver, catalog: httpx.AsyncClient
) -> None:
    cars = await publish(catalog_driver, name="Cars", category="Automotive")
    await publish(catalog_driver, name="Robots", category="robotics")

    assert await listed(catalog, category="automotive") == [cars]
    assert await listed(catalog, category="AUTOMOTIVE") == [cars]
    assert await listed(catalog, category="  AutoMotive ") == [cars]
    assert await listed(catalog, category="auto") == []


async def test_a_category_that_grows_when_case_folded_is_listed_and_found(
    catalog_driver: CatalogDriver, catalog: httpx.AsyncClient
) -> None:
    # "ß" folds to "ss", "ﬃ" to "ffi": a 40-character category can fold to up to 120.
    wide = await publish(catalog_driver, name="Wide", category="ß" * 20 + "ﬃ" * 20)
    street = await publish(catalog_driver, name="Street", category="Straße")

    assert await listed(catalog, category="ß" * 20 + "ﬃ" * 20) == [wide]
    assert await listed(catalog, category="STRASSE") == [street]


async def test_partner_filter(catalog_driver: CatalogDriver, catalog: httpx.AsyncClient) -> None:
    globex = CatalogDriver(catalog_driver.client, catalog_driver.keys, "globex")
    mine = await publish(catalog_driver, name="Mine")
    theirs = await publish(globex, name="Theirs")

    assert await listed(catalog, partner_id="acme") == [mine]
    assert await listed(catalog, partner_id="globex") == [theirs]
    assert await listed(catalog, partner_id="nobody") == []


async def test_q_matches_name_category_and_description_ignoring_case(
    catalog_driver: CatalogDriver, catalog: httpx.AsyncClient
) -> None:
    ota = await publish(
        catalog_driver, name="FleetOTA", category="automotive", description="Updates."
    )
    heat = await publish(
        catalog_driver, name="HeatMap", category="energy", description="Fleet heat."
    )
    await publish(catalog_driver, name="Other", category="misc", description="Nothing alike.")

    assert sorted(await listed(catalog, q="fleet")) == sorted([ota, heat])
    assert await listed(catalog, q="ENERGY") == [heat]
    assert await listed(catalog, q="updates") == [ota]
    assert await listed(catalog, q="zeppelin") == []


async def test_q_with_like_wildcards_matches_them_literally(
    catalog_driver: CatalogDriver, catalog: httpx.AsyncClient
) -> None:
    percent = await publish(catalog_driver, name="100% uptime", description="Monitoring.")
    underscore = await publish(catalog_driver, name="snake_case", description="Linting.")
    backslash = await publish(catalog_driver, name="back\\slash", description="Paths.")
    await publish(catalog_driver, name="Plain", description="Nothing special here.")

    assert await listed(catalog, q="%") == [percent]
    assert await listed(catalog, q="_") == [underscore]
    assert await listed(catalog, q="0%") == [percent]
    assert await listed(catalog, q="e_c") == [underscore]
    assert await listed(catalog, q="\\") == [backslash]
    assert await listed(catalog, q="%%") == []


async def test_filters_combine(catalog_driver: CatalogDriver, catalog: httpx.AsyncClient) -> None:
    globex = CatalogDriver(catalog_driver.client, catalog_driver.keys, "globex")
    wanted = await publish(catalog_driver, name="Fleet A", category="automotive")
    await publish(catalog_driver, name="Fleet B", category="energy")
    await publish(globex, name="Fleet C", category="automotive")

    assert await listed(catalog, q="fleet", category="automotive", partner_id="acme") == [wanted]


async def test_25_products_in_pages_of_10_are_3_pages_without_repeats(
    catalog_driver: CatalogDriver, catalog: httpx.AsyncClient
) -> None:
    published = [await publish(catalog_driver, name=f"Product {i:02d}") for i in range(25)]

    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 10} | ({"cursor": cursor} if cursor else {})
        body = (await catalog.get("/v1/products", params=params)).json()
        pages.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert len(pages) < 5, "pagination does not end"

    assert [len(page) for page in pages] == [10, 10, 5]
    seen = [product for page in pages for product in page]
    assert len(set(seen)) == 25
    assert seen == published  # in order of first publication


async def test_a_page_cursor_survives_new_publications(
    catalog_driver: CatalogDriver, catalog: httpx.AsyncClient
) -> None:
    first = [await publish(catalog_driver, name=f"Early {i}") for i in range(3)]
    page = (await catalog.get("/v1/products", params={"limit": 2})).json()

    late = await publish(catalog_driver, name="Late")
    rest = (
        await catalog.get("/v1/products", params={"limit": 2, "cursor": page["next_cursor"]})
    ).json()

    assert [p["id"] for p in page["items"]] == first[:2]
    assert [p["id"] for p in rest["items"]] == [first[2], late]


async def test_filters_apply_across_pages(
    catalog_driver: CatalogDriver, catalog: httpx.AsyncClient
) -> None:
    wanted = []
    for i in range(5):
        wanted.append(await publish(catalog_driver, name=f"Car {i}", category="automotive"))
        await publish(catalog_driver, name=f"Robot {i}", category="robotics")

    first = (
        await catalog.get("/v1/products", params={"limit": 3, "category": "automotive"})
    ).json()
    second = (
        await catalog.get(
            "/v1/products",
            params={"limit": 3, "category": "automotive", "cursor": first["next_cursor"]},
        )
    ).json()

    assert [p["id"] for p in first["items"] + second["items"]] == wanted
    assert second["next_cursor"] is None


async def test_a_cursor_that_is_not_ours_is_refused(catalog: httpx.AsyncClient) -> None:
    assert_problem(
        await catalog.get("/v1/products", params={"cursor": "bm90IGEgY3Vyc29y"}),
        422,
        "invalid_cursor",
    )


async def test_a_live_product_reads_as_its_revision(
    catalog_driver: CatalogDriver, catalog: httpx.AsyncClient
) -> None:
    product = await publish(catalog_driver, name="Read me")

    response = await catalog.get(f"/v1/products/{product}")

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["revision"]) == ("Read me", 1)
    assert_problem(await catalog.get("/v1/products/prd_nothing"), 404, "product_not_found")
