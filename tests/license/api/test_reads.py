"""Reading licenses and entitlements: owners see them, others get 404, other roles 403."""

from datetime import timedelta

import httpx
import pytest
from asgi_lifespan import LifespanManager

from services.license.main import create_app
from services.license.settings import LicenseSettings
from services.license.verifier import OfflineVerifier
from tests.conftest import TestKeys
from tests.license.factories import PARTNER, LicenseDriver, addon_body, now


async def test_the_owner_customer_reads_a_license_with_its_token_and_history(
    lic: LicenseDriver,
) -> None:
    base = await lic.base()

    response = await lic.get(base["id"], lic.customer)

    assert response.status_code == 200
    body = response.json()
    assert body["token"] == base["token"]
    assert [(v["version"], v["change"]) for v in body["history"]] == [(1, "minted")]


async def test_the_owning_partner_reads_it_too(lic: LicenseDriver) -> None:
    base = await lic.base()

    assert (await lic.get(base["id"], lic.as_("partner", PARTNER))).status_code == 200


async def test_orders_reads_an_instance_on_the_internal_routes_only(lic: LicenseDriver) -> None:
    base = await lic.base()
    orders = lic.as_("service", "orders")
    instance = f"/instances/{base['instance_id']}"

    public = [
        await lic.get(base["id"], orders),
        await lic.client.get(f"/v1{instance}/licenses", headers=orders),
        await lic.entitlement(base["instance_id"], orders),
    ]
    internal = [
        await lic.client.get(f"/v1/internal{instance}/licenses", headers=orders),
        await lic.client.get(f"/v1/internal{instance}/entitlement", headers=orders),
    ]

    assert [r.status_code for r in public] == [403] * 3
    assert [r.status_code for r in internal] == [200] * 2
    assert internal[0].json()["items"][0]["id"] == base["id"]


@pytest.mark.parametrize(("role", "sub"), [("customer", "initech"), ("partner", "umbrella")])
async def test_anyone_else_gets_404(lic: LicenseDriver, role: str, sub: str) -> None:
    base = await lic.base()
    headers = lic.as_(role, sub)

    responses = [
        await lic.get(base["id"], headers),
        await lic.client.get(f"/v1/instances/{base['instance_id']}/licenses", headers=headers),
        await lic.entitlement(base["instance_id"], headers),
        await lic.client.get(f"/v1/instances/{base['instance_id']}/usage", headers=headers),
    ]

    assert [r.status_code for r in responses] == [404] * 4
    assert [r.json()["code"] for r in responses] == ["license_not_found"] + [
        "instance_not_found"
    ] * 3


async def test_a_reviewer_gets_403(lic: LicenseDriver) -> None:
    base = await lic.base()

    response = await lic.get(base["id"], lic.as_("reviewer", "rita"))

    assert response.status_code == 403


async def test_unknown_ids_are_404(lic: LicenseDriver) -> None:
    assert (await lic.get("lic_nope")).status_code == 404
    assert (await lic.entitlement("ins_nope")).status_code == 404


async def test_instance_licenses_are_listed_base_first_and_paged(lic: LicenseDriver) -> None:
    base = await lic.base()
    addons = [await lic.addon(base["instance_id"]) for _ in range(2)]

    first = await lic.client.get(
        f"/v1/instances/{base['instance_id']}/licenses?limit=2", headers=lic.customer
    )
    second = await lic.client.get(
        f"/v1/instances/{base['instance_id']}/licenses",
        params={"limit": 2, "cursor": first.json()["next_cursor"]},
        headers=lic.customer,
    )

    ids = [item["id"] for item in first.json()["items"] + second.json()["items"]]
    assert ids == [base["id"], addons[0]["id"], addons[1]["id"]]
    assert second.json()["next_cursor"] is None
    assert first.json()["items"][0]["token"] == base["token"]


async def test_entitlement_sums_the_base_and_its_addons_in_one_bundle(
    lic: LicenseDriver, license_client: httpx.AsyncClient
) -> None:
    base = await lic.base()
    addon = await lic.addon(base["instance_id"])
    await lic.addon(
        base["instance_id"], entitlements={"hours": 50}, addon_id="add_hours000000000000000001"
    )

    response = await lic.entitlement(base["instance_id"])

    assert response.status_code == 200
    body = response.json()
    assert body["entitlements"] == {"devices": 300, "hours": 50}
    assert body["licenses"][:2] == [base["id"], addon["id"]]
    assert body["plan_id"] == base["plan_id"]
    jwks = (await license_client.get("/.well-known/jwks.json")).json()
    verdict = OfflineVerifier.from_jwks(jwks).verify_bundle(
        body["token"], audience=base["product_id"]
    )
    assert verdict.valid
    assert verdict.claims is not None
    assert verdict.claims["sub"] == base["instance_id"]
    assert verdict.claims["entitlements"] == {"devices": 300, "hours": 50}
    assert len(verdict.claims["licenses"]) == 3


async def test_the_bundle_is_reused_until_something_changes(lic: LicenseDriver) -> None:
    base = await lic.base()
    first = (await lic.entitlement(base["instance_id"])).json()

    again = (await lic.entitlement(base["instance_id"], lic.partner)).json()
    await lic.addon(base["instance_id"])
    after_addon = (await lic.entitlement(base["instance_id"])).json()
    await lic.revoke(base["order_id"])
    after_revoke = (await lic.entitlement(base["instance_id"])).json()

    assert again["token"] == first["token"]
    assert after_addon["token"] != first["token"]
    assert after_addon["entitlements"] == {"devices": 300}
    assert after_revoke["entitlements"] == {}
    assert after_revoke["licenses"] == []


async def test_expired_addons_do_not_count(lic: LicenseDriver) -> None:
    start = now() - timedelta(days=40)
    base = await lic.base()
    await lic.mint(
        addon_body(
            base["instance_id"],
            valid_from=start.isoformat(),
            valid_until=(start + timedelta(days=30)).isoformat(),
        )
    )

    body = (await lic.entitlement(base["instance_id"])).json()

    assert body["entitlements"] == {"devices": 100}
    assert body["licenses"] == [base["id"]]


async def test_an_expired_license_reads_as_expired(lic: LicenseDriver) -> None:
    start = now() - timedelta(days=40)
    base = await lic.base(
        valid_from=start.isoformat(), valid_until=(start + timedelta(days=30)).isoformat()
    )

    assert (await lic.get(base["id"])).json()["status"] == "expired"


async def test_a_license_token_is_not_an_access_token(
    lic: LicenseDriver, catalog: httpx.AsyncClient
) -> None:
    base = await lic.base()
    as_bearer = {"Authorization": f"Bearer {base['token']}"}

    license_api = await lic.get(base["id"], as_bearer)
    catalog_api = await catalog.post("/v1/products", json={}, headers=as_bearer)

    assert license_api.status_code == 401
    assert license_api.json()["code"] == "invalid_token"
    assert catalog_api.status_code == 401
    assert catalog_api.json()["code"] == "invalid_token"


async def test_customers_see_their_own_instances_only(lic: LicenseDriver, keys: TestKeys) -> None:
    mine = await lic.base()
    theirs = await lic.base(customer_id="initech")

    assert (await lic.entitlement(mine["instance_id"], lic.customer)).status_code == 200
    assert (await lic.entitlement(theirs["instance_id"], lic.customer)).status_code == 404
    assert (
        await lic.entitlement(theirs["instance_id"], keys.headers("customer", "initech"))
    ).status_code == 200


async def test_a_change_made_by_another_replica_is_seen_at_once(
    lic: LicenseDriver, license_settings: LicenseSettings, catalog_http: httpx.AsyncClient
) -> None:
    base = await lic.base()
    addon = await lic.addon(base["instance_id"])
    assert (await lic.entitlement(base["instance_id"])).json()["entitlements"] == {"devices": 300}
    other = create_app(license_settings, http_client=catalog_http)

    async with LifespanManager(other):
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://replica.test") as client:
            revoked = await client.post(
                f"/v1/internal/orders/{addon['order_id']}/license/revoke",
                json={"reason": "refund"},
                headers=lic.service,
            )
            assert revoked.status_code == 200

    # This replica's cached bundle is stale: the instance's version moved on.
    after = (await lic.entitlement(base["instance_id"])).json()
    assert after["entitlements"] == {"devices": 100}
    assert after["licenses"] == [base["id"]]
