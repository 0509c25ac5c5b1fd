"""Usage reports: used against the entitlement, and live add-ons to suggest (from catalog)."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.catalog.factories import CatalogDriver, price
from tests.license.factories import LicenseDriver, addon_body


@pytest.fixture
async def catalog_http(catalog_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    # The license app reaches the catalog app in-process.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=catalog_app)) as client:
        yield client


@pytest.fixture
async def listing(catalog_driver: CatalogDriver) -> dict[str, Any]:
    """A live product: plans A and B; add-ons for devices (any plan, B only, retired), hours."""
    product = await catalog_driver.product()
    quota = {"devices": 100, "hours": 100}
    plan_a = await catalog_driver.plan(product["id"], name="A", entitlements=quota)
    plan_b = await catalog_driver.plan(product["id"], name="B", entitlements=quota)
    devices = await catalog_driver.addon(product["id"], name="+100 devices")
    b_only = await catalog_driver.addon(
        product["id"],
        name="+50 devices (B)",
        entitlements={"devices": 50},
        compatible_plans=[plan_b["id"]],
    )
    retired = await catalog_driver.addon(product["id"], name="Old pack", retired=True)
    hours = await catalog_driver.addon(
        product["id"],
        name="+1000 hours",
        subscription_method="one_time",
        cycles=None,
        price=price(9900),
        entitlements={"hours": 1000},
    )
    await catalog_driver.go_live(product["id"])
    return {
        "product": product,
        "plan_a": plan_a,
        "devices": devices,
        "b_only": b_only,
        "retired": retired,
        "hours": hours,
    }


async def instance_on(lic: LicenseDriver, listing: dict[str, Any]) -> dict[str, Any]:
    return await lic.base(
        product_id=listing["product"]["id"],
        plan_id=listing["plan_a"]["id"],
        partner_id="acme",
        entitlements={"devices": 100, "hours": 100},
    )


async def report(lic: LicenseDriver, instance_id: str, metric: str, value: int, **headers: str):
    return await lic.client.post(
        f"/v1/instances/{instance_id}/usage",
        json={"metric": metric, "value": value},
        headers=headers or lic.partner,
    )


async def test_usage_over_the_limit_suggests_live_compatible_addons(
    lic: LicenseDriver, listing: dict[str, Any]
) -> None:
    base = await instance_on(lic, listing)

    response = await report(lic, base["instance_id"], "devices", 130)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["metric"], body["used"], body["limit"]) == ("devices", 130, 100)
    assert (body["remaining"], body["exceeded"]) == (0, True)
    assert body["suggestions_available"] is True
    [suggestion] = body["suggestions"]
    assert suggestion["addon_id"] == listing["devices"]["id"]
    assert suggestion["raises"] == 100
    assert suggestion["packs_to_cover"] == 1
    assert suggestion["packs_owned"] == 0
    assert suggestion["cycles"][0]["price"] == {"amount_minor": 1900, "currency": "EUR"}


async def test_usage_within_the_limit(lic: LicenseDriver, listing: dict[str, Any]) -> None:
    base = await instance_on(lic, listing)
    await lic.mint(
        addon_body(
            base["instance_id"],
            product_id=listing["product"]["id"],
            addon_id=listing["devices"]["id"],
            quantity=1,
            entitlements={"devices": 100},
        )
    )

    body = (await report(lic, base["instance_id"], "devices", 150)).json()

    assert (body["limit"], body["remaining"], body["exceeded"]) == (200, 50, False)
    assert body["suggestions"][0]["packs_owned"] == 1
    assert body["suggestions"][0]["packs_to_cover"] == 0


async def test_a_service_token_does_not_report_usage(
    lic: LicenseDriver, listing: dict[str, Any]
) -> None:
    # Usage is the owning partner's to report; orders' token is for the internal routes only.
    base = await instance_on(lic, listing)

    response = await report(lic, base["instance_id"], "devices", 150, **lic.service)

    assert (response.status_code, response.json()["code"]) == (403, "forbidden")


async def test_suggestions_match_the_metric(lic: LicenseDriver, listing: dict[str, Any]) -> None:
    base = await instance_on(lic, listing)

    body = (await report(lic, base["instance_id"], "hours", 1500)).json()

    assert (body["limit"], body["exceeded"]) == (100, True)
    assert [s["addon_id"] for s in body["suggestions"]] == [listing["hours"]["id"]]
    assert body["suggestions"][0]["price"] == {"amount_minor": 9900, "currency": "EUR"}
    assert body["suggestions"][0]["packs_to_cover"] == 2


async def test_a_metric_outside_the_plan_has_limit_zero(
    lic: LicenseDriver, listing: dict[str, Any]
) -> None:
    base = await instance_on(lic, listing)

    body = (await report(lic, base["instance_id"], "seats", 1)).json()

    assert (body["limit"], body["remaining"], body["exceeded"]) == (0, 0, True)
    assert body["suggestions"] == []


async def test_latest_values_are_listed(lic: LicenseDriver, listing: dict[str, Any]) -> None:
    base = await instance_on(lic, listing)
    await report(lic, base["instance_id"], "devices", 10)
    await report(lic, base["instance_id"], "devices", 120)
    await report(lic, base["instance_id"], "hours", 3)

    response = await lic.client.get(
        f"/v1/instances/{base['instance_id']}/usage", headers=lic.customer
    )

    assert response.status_code == 200
    items = response.json()["items"]
    assert [(i["metric"], i["used"], i["limit"], i["exceeded"]) for i in items] == [
        ("devices", 120, 100, True),
        ("hours", 3, 100, False),
    ]


async def test_suggestions_are_cached(
    lic: LicenseDriver, listing: dict[str, Any], catalog_driver: CatalogDriver
) -> None:
    base = await instance_on(lic, listing)
    await report(lic, base["instance_id"], "devices", 130)
    await catalog_driver.client.patch(
        f"/v1/products/{listing['product']['id']}/draft/addons/{listing['devices']['id']}",
        json={"retired": True},
        headers=catalog_driver.auth,
    )
    await catalog_driver.go_live(listing["product"]["id"], "sub_2")

    body = (await report(lic, base["instance_id"], "devices", 130)).json()

    assert [s["addon_id"] for s in body["suggestions"]] == [listing["devices"]["id"]]


async def test_a_customer_cannot_report_usage(lic: LicenseDriver) -> None:
    base = await lic.base()

    response = await report(lic, base["instance_id"], "devices", 1, **lic.customer)

    assert response.status_code == 403


async def test_another_partner_gets_404(lic: LicenseDriver) -> None:
    base = await lic.base()

    response = await report(
        lic, base["instance_id"], "devices", 1, **lic.as_("partner", "umbrella")
    )

    assert response.status_code == 404
    assert response.json()["code"] == "instance_not_found"


@pytest.mark.parametrize(
    "body", [{"metric": "Devices", "value": 1}, {"metric": "devices", "value": -1}, {"value": 1}]
)
async def test_bad_usage_reports_are_422(lic: LicenseDriver, body: dict[str, Any]) -> None:
    base = await lic.base()

    response = await lic.client.post(
        f"/v1/instances/{base['instance_id']}/usage", json=body, headers=lic.partner
    )

    assert response.status_code == 422
