"""The whole story over HTTP, the four services as real processes on loopback.

A vehicle OTA vendor lists a product with a `devices` quota and a "+100 devices" expansion
pack; review approves it; a customer buys the base; the instance reports usage over its device
limit and is offered the pack; the customer buys it and gets a new license; the entitlement
grows and the base license is untouched; the partner extends an acceptance deadline; a refund
in the guarantee period revokes. Offline verification agrees with the online one.
"""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.license.verifier import OfflineVerifier
from tests.catalog.factories import addon_body, plan_body, product_body
from tests.conftest import TestKeys
from tests.e2e.system import System, running_system

VENDOR = "ota-vendor"
CUSTOMER = "fleet-operator"


@pytest.fixture
def system(database_url: Callable[[str], str], keys: TestKeys, tmp_path: Path) -> Iterator[System]:
    with running_system(database_url, keys, tmp_path) as running:
        yield running


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())


def verify(license: httpx.Client, token: str) -> str:
    return str(ok(license.post("/v1/verify", json={"token": token}))["code"])


def test_the_whole_story(system: System) -> None:
    vendor = system.headers("partner", VENDOR)
    reviewer = system.headers("reviewer", "marketplace-rita")
    customer = system.headers("customer", CUSTOMER)
    with (
        system.client("catalog") as catalog,
        system.client("review") as review,
        system.client("orders") as orders,
        system.client("license") as license,
    ):
        # The vendor lists the product: a 100-device plan and a +100-device pack.
        product = ok(
            catalog.post(
                "/v1/products",
                json=product_body(name="FleetOTA", requires_acceptance=True, acceptance_days=14),
                headers=vendor,
            ),
            201,
        )
        draft = f"/v1/products/{product['id']}/draft"
        plan = ok(catalog.post(f"{draft}/plans", json=plan_body(), headers=vendor), 201)
        pack = ok(catalog.post(f"{draft}/addons", json=addon_body(), headers=vendor), 201)

        # Review approves it: live at once, pack included.
        submission = ok(
            review.post("/v1/submissions", json={"product_id": product["id"]}, headers=vendor), 201
        )
        ok(review.post(f"/v1/submissions/{submission['id']}/claim", headers=reviewer))
        approved = ok(review.post(f"/v1/submissions/{submission['id']}/approve", headers=reviewer))
        assert approved["publication"]["state"] == "live"
        live = ok(catalog.get(f"/v1/products/{product['id']}"))
        assert [a["id"] for a in live["addons"]] == [pack["id"]]

        # The customer buys the base plan: an instance with its base license.
        order = ok(
            orders.post(
                "/v1/orders",
                json={
                    "type": "new",
                    "product_id": product["id"],
                    "plan_id": plan["id"],
                    "cycle": {"unit": "month", "count": 1},
                },
                headers=customer,
            ),
            201,
        )
        paid = ok(orders.post(f"/v1/orders/{order['id']}/pay", headers=customer))
        assert paid["status"] == "fulfilled"  # awaiting acceptance: the guarantee period
        instance_id = paid["instance_id"]
        base = ok(license.get(f"/v1/licenses/{paid['license_id']}", headers=customer))
        assert base["level"] == "base"
        assert verify(license, base["token"]) == "VALID"

        # The instance reports 130 devices: over the limit, and the pack is offered.
        usage = ok(
            license.post(
                f"/v1/instances/{instance_id}/usage",
                json={"metric": "devices", "value": 130},
                headers=vendor,
            )
        )
        assert (usage["limit"], usage["exceeded"]) == (100, True)
        assert [s["addon_id"] for s in usage["suggestions"]] == [pack["id"]]
        assert usage["suggestions"][0]["packs_to_cover"] == 1

        # The customer buys the pack: a new license for the same instance.
        pack_order = ok(
            orders.post(
                "/v1/orders",
                json={
                    "type": "addon",
                    "instance_id": instance_id,
                    "addon_id": pack["id"],
                    "cycle": {"unit": "month", "count": 1},
                },
                headers=customer,
            ),
            201,
        )
        pack_paid = ok(orders.post(f"/v1/orders/{pack_order['id']}/pay", headers=customer))
        pack_license = ok(license.get(f"/v1/licenses/{pack_paid['license_id']}", headers=customer))
        assert pack_license["level"] == "addon"
        assert pack_license["parent_id"] == base["id"]
        assert pack_license["instance_id"] == instance_id

        # The entitlement grew; the base license is exactly as it was.
        grown = ok(license.get(f"/v1/instances/{instance_id}/entitlement", headers=customer))
        assert grown["entitlements"] == {"devices": 200}
        assert (
            ok(license.get(f"/v1/licenses/{base['id']}", headers=customer))["token"]
            == base["token"]
        )
        instance = ok(orders.get(f"/v1/instances/{instance_id}", headers=customer))
        assert instance["entitlement"] == {"devices": 200}
        assert len(instance["licenses"]) == 2

        # Offline, with only the JWKS and the revocation list, the bundle says the same.
        jwks = ok(license.get("/.well-known/jwks.json"))
        offline = OfflineVerifier.from_jwks(
            jwks, revocation_list=ok(license.get("/v1/revocations"))["token"]
        )
        bundle = offline.verify_bundle(grown["token"], audience=product["id"])
        assert bundle.valid, bundle
        assert bundle.claims is not None
        assert bundle.claims["entitlements"] == {"devices": 200}

        # The partner extends the pack's acceptance deadline: a new version, valid at once.
        until = datetime.now(UTC) + timedelta(days=30)
        extended = ok(
            license.post(
                f"/v1/licenses/{pack_license['id']}/acceptance-extensions",
                json={"until": until.isoformat(), "reason": "Fleet rollout slipped"},
                headers=vendor,
            ),
            201,
        )
        assert extended["version"] == pack_license["version"] + 1
        assert verify(license, extended["token"]) == "VALID"
        assert verify(license, pack_license["token"]) == "SUPERSEDED"

        # A refund in the guarantee period revokes the pack at once.
        refunded = ok(
            orders.post(
                f"/v1/orders/{pack_order['id']}/refund",
                json={"amount_minor": 1900, "reason": "Ordered twice"},
                headers=vendor,
            )
        )
        assert refunded["status"] == "refunded"
        assert verify(license, extended["token"]) == "REVOKED"
        after = ok(license.get(f"/v1/instances/{instance_id}/entitlement", headers=customer))
        assert after["entitlements"] == {"devices": 100}
        offline = OfflineVerifier.from_jwks(
            jwks, revocation_list=ok(license.get("/v1/revocations"))["token"]
        )
        assert offline.verify(extended["token"]).code == "REVOKED"
