"""Two replicas of every service on the same databases, as at scale behind a load balancer:
requests alternate between replicas, and the outbox relays of both replicas share the work
without losing or repeating an order or a decision."""

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.orders.db.models import outbox as orders_outbox
from services.review.db.models import outbox as review_outbox
from shared.db import Database
from tests.catalog.factories import addon_body, plan_body, product_body
from tests.conftest import TestKeys, run_sync
from tests.e2e.system import System, running_system
from tests.e2e.test_orders_process import wait_for

PARTNER = "replica-partner"
CUSTOMER = "replica-customer"


@pytest.fixture
def system(database_url: Callable[[str], str], keys: TestKeys, tmp_path: Path) -> Iterator[System]:
    with running_system(database_url, keys, tmp_path, replicas=2) as running:
        yield running


def ok(response: httpx.Response, *status: int) -> dict[str, Any]:
    assert response.status_code in (status or (200,)), response.text
    return dict(response.json())


def undelivered(url: str, table: Any, ids: set[str] | None = None) -> list[tuple[str, Any]]:
    """Outbox entries not delivered (or set aside as failed), as (topic, payload)."""

    async def query() -> list[tuple[str, Any]]:
        db = Database(url)
        try:
            async with db.sessionmaker() as session:
                rows = (
                    await session.execute(
                        select(table.c.topic, table.c.payload, table.c.failed_at).where(
                            table.c.delivered_at.is_(None)
                        )
                    )
                ).all()
        finally:
            await db.dispose()
        return [
            (r.topic, r.payload)
            for r in rows
            if r.failed_at is not None or ids is None or _order_of(r.payload) in ids
        ]

    return run_sync(query())


def _order_of(payload: Any) -> str | None:
    return payload.get("order_id") if isinstance(payload, dict) else None


def test_two_replicas_of_everything_serve_the_story(
    system: System, database_url: Callable[[str], str]
) -> None:
    partner = system.headers("partner", PARTNER)
    reviewer = system.headers("reviewer", "replica-rita")
    customer = system.headers("customer", CUSTOMER)

    # Listing and review, each step on the other replica than the one before.
    with system.client("catalog", 0) as catalog_a, system.client("catalog", 1) as catalog_b:
        product = ok(catalog_a.post("/v1/products", json=product_body(), headers=partner), 201)
        draft = f"/v1/products/{product['id']}/draft"
        plan = ok(catalog_b.post(f"{draft}/plans", json=plan_body(), headers=partner), 201)
        addon = ok(catalog_a.post(f"{draft}/addons", json=addon_body(), headers=partner), 201)
    with system.client("review", 0) as review_a, system.client("review", 1) as review_b:
        submission = ok(
            review_a.post("/v1/submissions", json={"product_id": product["id"]}, headers=partner),
            201,
        )
        ok(review_b.post(f"/v1/submissions/{submission['id']}/claim", headers=reviewer))
        ok(review_a.post(f"/v1/submissions/{submission['id']}/approve", headers=reviewer))
    with system.client("catalog", 1) as catalog_b:
        assert ok(catalog_b.get(f"/v1/products/{product['id']}"))["revision"] == 1

    # Orders placed on both replicas, paid while both license replicas are down.
    body = {
        "type": "new",
        "product_id": product["id"],
        "plan_id": plan["id"],
        "cycle": {"unit": "month", "count": 1},
    }
    clients = [system.client("orders", 0), system.client("orders", 1)]
    try:
        placed = [
            ok(clients[i % 2].post("/v1/orders", json=body, headers=customer), 201)
            for i in range(12)
        ]
        for replica in system.replicas["license"]:
            replica.stop()
        for i, order in enumerate(placed):
            paid = ok(clients[i % 2].post(f"/v1/orders/{order['id']}/pay", headers=customer), 202)
            assert paid["status"] == "paid"
        system.restart("license", 0)
        system.restart("license", 1)

        def every_order_fulfilled() -> bool:
            return all(
                ok(clients[0].get(f"/v1/orders/{o['id']}", headers=customer))["status"]
                == "fulfilled"
                for o in placed
            )

        wait_for(every_order_fulfilled, "both orders replicas' relays fulfilled every order")

        # An add-on bought on one replica, for an instance made through the other.
        pack = ok(
            clients[1].post(
                "/v1/orders",
                json={
                    "type": "addon",
                    "instance_id": placed[0]["instance_id"],
                    "addon_id": addon["id"],
                    "cycle": {"unit": "month", "count": 1},
                },
                headers=customer,
            ),
            201,
        )
        assert ok(clients[0].post(f"/v1/orders/{pack['id']}/pay", headers=customer))["license_id"]

        # One Idempotency-Key fired at both replicas at once: one order.
        def create(i: int) -> httpx.Response:
            with system.client("orders", i % 2) as client:
                headers = {**customer, "Idempotency-Key": "replicas-same-key"}
                return client.post("/v1/orders", json=body, headers=headers)

        with ThreadPoolExecutor(max_workers=8) as pool:
            responses = list(pool.map(create, range(8)))
        assert {r.status_code for r in responses} == {201}
        assert len({r.json()["id"] for r in responses}) == 1
    finally:
        for client in clients:
            client.close()

    for i, order in enumerate(placed):
        with system.client("license", i % 2) as license:
            licenses = ok(
                license.get(f"/v1/instances/{order['instance_id']}/licenses", headers=customer)
            )["items"]
        assert [lic["order_id"] for lic in licenses][:1] == [order["id"]]
        assert sum(lic["level"] == "base" for lic in licenses) == 1
    ids = {o["id"] for o in placed}
    assert undelivered(database_url("orders"), orders_outbox, ids) == []
    review_left = undelivered(database_url("review"), review_outbox)
    assert all(topic == "submission.expire" for topic, _ in review_left), review_left


def test_claim_and_withdraw_on_different_replicas_have_one_winner(system: System) -> None:
    partner = system.headers("partner", "replica-race")
    reviewer = system.headers("reviewer", "replica-rita")
    with system.client("catalog", 0) as catalog:
        product = ok(catalog.post("/v1/products", json=product_body(), headers=partner), 201)
        draft = f"/v1/products/{product['id']}/draft"
        ok(catalog.post(f"{draft}/plans", json=plan_body(), headers=partner), 201)
        ok(catalog.post(f"{draft}/addons", json=addon_body(), headers=partner), 201)
    with (
        system.client("review", 0) as review_a,
        system.client("review", 1) as review_b,
        ThreadPoolExecutor(max_workers=2) as pool,
    ):
        for _ in range(15):
            submission = ok(
                review_a.post(
                    "/v1/submissions", json={"product_id": product["id"]}, headers=partner
                ),
                201,
            )
            path = f"/v1/submissions/{submission['id']}"
            claim = pool.submit(review_a.post, f"{path}/claim", headers=reviewer)
            withdraw = pool.submit(review_b.post, f"{path}/withdraw", headers=partner)
            statuses = sorted([claim.result().status_code, withdraw.result().status_code])
            assert statuses == [200, 409]
            if claim.result().status_code == 200:
                ok(review_b.post(f"{path}/reject", json={"reason": "race"}, headers=reviewer))
