"""Catalog and review as two real processes on loopback: the whole listing story over HTTP,
the catalog going down while a reviewer approves, and the claim/withdraw race."""

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.processes import ServiceProcess
from tests.catalog.factories import addon_body, plan_body, product_body
from tests.conftest import TestKeys

CATALOG_APP = "services.catalog.main:create_app"
REVIEW_APP = "services.review.main:create_app"


@dataclass
class System:
    catalog: ServiceProcess
    review: ServiceProcess
    catalog_env: dict[str, str]
    log_dir: Path
    keys: TestKeys

    def restart_catalog(self) -> None:
        """Start a new catalog process on the same port (the old one was stopped)."""
        self.catalog = ServiceProcess(
            "catalog-again", CATALOG_APP, log_dir=self.log_dir, port=self.catalog.port
        )
        self.catalog.start(self.catalog_env)
        self.catalog.wait_ready()

    def client(self, process: ServiceProcess) -> httpx.Client:
        return httpx.Client(base_url=process.base_url, timeout=10.0)


@pytest.fixture
def system(database_url: Callable[[str], str], keys: TestKeys, tmp_path: Path) -> Iterator[System]:
    catalog_env = {"CATALOG_DATABASE_URL": database_url("catalog"), **keys.env("catalog")}
    catalog = ServiceProcess("catalog", CATALOG_APP, log_dir=tmp_path)
    review = ServiceProcess("review", REVIEW_APP, log_dir=tmp_path)
    review_env = {
        "REVIEW_DATABASE_URL": database_url("review"),
        "REVIEW_CATALOG_URL": catalog.base_url,
        "REVIEW_OUTBOX_POLL_SECONDS": "0.2",
        "REVIEW_OUTBOX_MAX_DELAY_SECONDS": "0.5",
        "REVIEW_HTTP_TIMEOUT_SECONDS": "2",
        **keys.env("review"),
    }
    system = System(catalog, review, catalog_env, tmp_path, keys)
    try:
        catalog.start(catalog_env)
        review.start(review_env)
        catalog.wait_ready()
        review.wait_ready()
        yield system
    finally:
        system.catalog.stop()
        catalog.stop()
        review.stop()


def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())


def _listing(catalog: httpx.Client, partner: dict[str, str], name: str) -> str:
    product = _ok(catalog.post("/v1/products", json=product_body(name=name), headers=partner), 201)
    base = f"/v1/products/{product['id']}/draft"
    _ok(catalog.post(f"{base}/plans", json=plan_body(), headers=partner), 201)
    _ok(catalog.post(f"{base}/addons", json=addon_body(), headers=partner), 201)
    return str(product["id"])


def test_listing_story_survives_the_catalog_going_down_during_approval(system: System) -> None:
    partner = system.keys.headers("partner", "e2e-acme")
    reviewer = system.keys.headers("reviewer", "e2e-rita")
    with system.client(system.catalog) as catalog, system.client(system.review) as review:
        product_id = _listing(catalog, partner, "E2E FleetOTA")
        first = _ok(
            review.post("/v1/submissions", json={"product_id": product_id}, headers=partner), 201
        )
        assert (
            _ok(review.post(f"/v1/submissions/{first['id']}/withdraw", headers=partner))["status"]
            == "withdrawn"
        )
        patched = catalog.patch(
            f"/v1/products/{product_id}/draft",
            json={"description": "Delta updates"},
            headers=partner,
        )
        assert patched.status_code == 200, patched.text
        second = _ok(
            review.post("/v1/submissions", json={"product_id": product_id}, headers=partner), 201
        )
        assert second["revision"] == 2
        assert (
            _ok(review.post(f"/v1/submissions/{second['id']}/claim", headers=reviewer))["status"]
            == "in_review"
        )

    system.catalog.stop()
    with system.client(system.review) as review:
        approved = _ok(review.post(f"/v1/submissions/{second['id']}/approve", headers=reviewer))
    assert approved["status"] == "approved"
    assert approved["publication"]["state"] == "pending"

    system.restart_catalog()
    with system.client(system.catalog) as catalog, system.client(system.review) as review:
        deadline = time.monotonic() + 20
        live = catalog.get(f"/v1/products/{product_id}")
        while live.status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
            live = catalog.get(f"/v1/products/{product_id}")
        assert live.status_code == 200, "the approved revision never went live"
        assert live.json()["revision"] == 2
        assert live.json()["description"] == "Delta updates"
        # The relay records the publication after catalog answered it: the product can be live
        # a moment before the submission says so.
        detail = _ok(review.get(f"/v1/submissions/{second['id']}", headers=partner))
        while detail["publication"]["state"] != "live" and time.monotonic() < deadline:
            time.sleep(0.1)
            detail = _ok(review.get(f"/v1/submissions/{second['id']}", headers=partner))
        assert detail["publication"]["state"] == "live"
        assert [e["kind"] for e in detail["timeline"]][-1] == "published"
        draft = _ok(catalog.get(f"/v1/products/{product_id}/draft", headers=partner))
        assert draft["locked"] is False


def test_claim_and_withdraw_racing_over_http_have_exactly_one_winner(system: System) -> None:
    partner = system.keys.headers("partner", "e2e-race")
    reviewer = system.keys.headers("reviewer", "e2e-rita")
    with system.client(system.catalog) as catalog:
        product_id = _listing(catalog, partner, "E2E Race")
    outcomes: dict[str, int] = {"claim": 0, "withdraw": 0}
    with system.client(system.review) as review, ThreadPoolExecutor(max_workers=2) as pool:
        for _ in range(25):
            submission = _ok(
                review.post("/v1/submissions", json={"product_id": product_id}, headers=partner),
                201,
            )
            path = f"/v1/submissions/{submission['id']}"
            claim = pool.submit(review.post, f"{path}/claim", headers=reviewer)
            withdraw = pool.submit(review.post, f"{path}/withdraw", headers=partner)
            claimed, withdrawn = claim.result(), withdraw.result()

            assert sorted([claimed.status_code, withdrawn.status_code]) == [200, 409]
            final = _ok(review.get(path, headers=partner))["status"]
            if claimed.status_code == 200:
                outcomes["claim"] += 1
                assert final == "in_review"
                assert withdrawn.json()["code"] == "review_in_progress"
                _ok(
                    review.post(
                        f"{path}/reject", json={"reason": "race", "notes": []}, headers=reviewer
                    )
                )
            else:
                outcomes["withdraw"] += 1
                assert final == "withdrawn"
                assert claimed.json()["code"] == "submission_closed"
    assert sum(outcomes.values()) == 25
