"""Catalog, license and orders as real processes on loopback: buying add-ons leaves the base
license untouched; nothing is lost when license is down or orders is killed mid-payment."""

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.processes import ServiceProcess
from services.license.keyring import ensure_signing_key
from tests.catalog.factories import addon_body, plan_body, product_body
from tests.conftest import TestKeys

APPS = {
    "catalog": "services.catalog.main:create_app",
    "license": "services.license.main:create_app",
    "orders": "services.orders.main:create_app",
}
CUSTOMER = "e2e-customer"
PARTNER = "e2e-partner"


@dataclass
class Shop:
    processes: dict[str, ServiceProcess]
    envs: dict[str, dict[str, str]]
    keys: TestKeys
    started: list[ServiceProcess] = field(default_factory=list)

    def url(self, name: str) -> str:
        return self.processes[name].base_url

    def client(self, name: str) -> httpx.Client:
        return httpx.Client(base_url=self.url(name), timeout=15.0)

    def restart(self, name: str) -> None:
        self.processes[name] = self.processes[name].restarted(self.envs[name])
        self.started.append(self.processes[name])

    @property
    def customer(self) -> dict[str, str]:
        return self.keys.headers("customer", CUSTOMER)

    @property
    def partner(self) -> dict[str, str]:
        return self.keys.headers("partner", PARTNER)


@pytest.fixture
def shop(database_url: Callable[[str], str], keys: TestKeys, tmp_path: Path) -> Iterator[Shop]:
    processes = {name: ServiceProcess(name, app, log_dir=tmp_path) for name, app in APPS.items()}
    signing_keys = tmp_path / "license-keys"
    ensure_signing_key(signing_keys)
    envs: dict[str, dict[str, str]] = {}
    for name in APPS:
        prefix = name.upper()
        envs[name] = {
            f"{prefix}_DATABASE_URL": database_url(name),
            **keys.env(name),
            f"{prefix}_HTTP_TIMEOUT_SECONDS": "3",
        }
    envs["license"].update(
        {
            "LICENSE_SIGNING_KEYS_DIR": str(signing_keys),
            "LICENSE_CATALOG_URL": processes["catalog"].base_url,
        }
    )
    envs["orders"].update(
        {
            "ORDERS_CATALOG_URL": processes["catalog"].base_url,
            "ORDERS_LICENSE_URL": processes["license"].base_url,
            "ORDERS_OUTBOX_POLL_SECONDS": "0.2",
            "ORDERS_OUTBOX_MAX_DELAY_SECONDS": "0.5",
            "ORDERS_PAYMENT_RESUME_SECONDS": "1",
        }
    )
    system = Shop(processes, envs, keys, started=list(processes.values()))
    try:
        for name, process in processes.items():
            process.start(envs[name])
        for process in processes.values():
            process.wait_ready()
        yield system
    finally:
        for process in system.started:
            process.stop()


def ok(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    assert response.status_code in (statuses or (200,)), response.text
    return dict(response.json())


def wait_for(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.2)


def publish_listing(shop: Shop) -> tuple[str, str, str]:
    """A live product with a 100-device plan and a +100-device add-on (no acceptance)."""
    service = shop.keys.headers("service", "review")
    with shop.client("catalog") as catalog:
        body = product_body(name="E2E Fleet", requires_acceptance=False)
        product = ok(catalog.post("/v1/products", json=body, headers=shop.partner), 201)
        draft = f"/v1/products/{product['id']}/draft"
        plan = ok(catalog.post(f"{draft}/plans", json=plan_body(), headers=shop.partner), 201)
        addon = ok(catalog.post(f"{draft}/addons", json=addon_body(), headers=shop.partner), 201)
        internal = f"/v1/internal/products/{product['id']}"
        frozen = ok(
            catalog.post(
                f"{internal}/freeze",
                json={"partner_id": PARTNER, "submission_id": f"sub_{product['id'][4:]}"},
                headers=service,
            )
        )
        ok(catalog.post(f"{internal}/revisions/{frozen['revision']}/publish", headers=service))
    return product["id"], plan["id"], addon["id"]


def place(orders: httpx.Client, shop: Shop, body: dict[str, Any]) -> dict[str, Any]:
    return ok(orders.post("/v1/orders", json=body, headers=shop.customer), 201)


def new_order(product_id: str, plan_id: str) -> dict[str, Any]:
    return {
        "type": "new",
        "product_id": product_id,
        "plan_id": plan_id,
        "cycle": {"unit": "month", "count": 1},
    }


def instance_licenses(shop: Shop, instance_id: str) -> list[dict[str, Any]]:
    with shop.client("license") as license:
        body = ok(license.get(f"/v1/instances/{instance_id}/licenses", headers=shop.customer))
    return list(body["items"])


def test_buying_addons_mints_new_licenses_and_leaves_the_base_token_untouched(
    shop: Shop,
) -> None:
    product_id, plan_id, addon_id = publish_listing(shop)
    with shop.client("orders") as orders, shop.client("license") as license:
        base = place(orders, shop, new_order(product_id, plan_id))
        paid = ok(orders.post(f"/v1/orders/{base['id']}/pay", headers=shop.customer))
        assert paid["status"] == "completed"
        base_license = ok(license.get(f"/v1/licenses/{paid['license_id']}", headers=shop.customer))
        instance_id = base["instance_id"]

        for quantity in (1, 2):
            body = {
                "type": "addon",
                "instance_id": instance_id,
                "addon_id": addon_id,
                "cycle": {"unit": "month", "count": 1},
                "quantity": quantity,
            }
            order = place(orders, shop, body)
            assert order["amount"] == {"amount_minor": 1900 * quantity, "currency": "EUR"}
            bought = ok(orders.post(f"/v1/orders/{order['id']}/pay", headers=shop.customer))
            assert bought["status"] == "completed"
            addon_license = ok(
                license.get(f"/v1/licenses/{bought['license_id']}", headers=shop.customer)
            )
            assert addon_license["level"] == "addon"
            assert addon_license["parent_id"] == base_license["id"]

        after = ok(license.get(f"/v1/licenses/{base_license['id']}", headers=shop.customer))
        assert after["token"] == base_license["token"]  # byte for byte
        assert after["version"] == base_license["version"]
        entitlement = ok(
            license.get(f"/v1/instances/{instance_id}/entitlement", headers=shop.customer)
        )
        assert entitlement["entitlements"] == {"devices": 100 + 100 * 3}
        assert len(entitlement["licenses"]) == 3


def test_orders_paid_while_license_is_down_get_exactly_one_license_each(shop: Shop) -> None:
    product_id, plan_id, _ = publish_listing(shop)
    with shop.client("orders") as orders:
        placed = [place(orders, shop, new_order(product_id, plan_id)) for _ in range(20)]
        shop.processes["license"].stop()
        for order in placed:
            paid = ok(orders.post(f"/v1/orders/{order['id']}/pay", headers=shop.customer), 202)
            assert paid["status"] == "paid"

        shop.restart("license")

        def all_fulfilled() -> bool:
            states = [
                ok(orders.get(f"/v1/orders/{o['id']}", headers=shop.customer))["status"]
                for o in placed
            ]
            return all(s == "completed" for s in states)

        wait_for(all_fulfilled, "every order paid while license was down is fulfilled")
    for order in placed:
        licenses = instance_licenses(shop, order["instance_id"])
        assert [lic["order_id"] for lic in licenses] == [order["id"]]


def test_orders_killed_mid_payment_fulfil_every_paid_order_exactly_once(shop: Shop) -> None:
    product_id, plan_id, _ = publish_listing(shop)
    with shop.client("orders") as orders:
        placed = [place(orders, shop, new_order(product_id, plan_id)) for _ in range(30)]

    def pay(order_id: str) -> int | None:
        try:
            with httpx.Client(base_url=shop.url("orders"), timeout=10.0) as client:
                return client.post(f"/v1/orders/{order_id}/pay", headers=shop.customer).status_code
        except httpx.HTTPError:
            return None  # the server died under this request

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(pay, o["id"]) for o in placed]
        wait_for(lambda: sum(f.done() for f in futures) >= 5, "some payments went through")
        shop.processes["orders"].kill()
        answered = [f.result() for f in futures]
    assert None in answered or answered.count(200) < len(placed)

    shop.restart("orders")
    with shop.client("orders") as orders:

        def settled() -> bool:
            states = [
                ok(orders.get(f"/v1/orders/{o['id']}", headers=shop.customer)) for o in placed
            ]
            return not any(
                s["status"] == "paid"
                or (s["status"] == "pending_payment" and s.get("payment") is not None)
                for s in states
            )

        wait_for(settled, "every started payment is settled and fulfilled")
        for order in placed:
            state = ok(orders.get(f"/v1/orders/{order['id']}", headers=shop.customer))
            if state["status"] == "pending_payment":  # its pay never reached the database
                ok(orders.post(f"/v1/orders/{order['id']}/pay", headers=shop.customer))
    for order in placed:
        licenses = instance_licenses(shop, order["instance_id"])
        assert [lic["order_id"] for lic in licenses] == [order["id"]], order["id"]


def test_one_idempotency_key_fired_concurrently_makes_one_order(shop: Shop) -> None:
    product_id, plan_id, _ = publish_listing(shop)
    body = new_order(product_id, plan_id)

    def create(_: int) -> httpx.Response:
        with httpx.Client(base_url=shop.url("orders"), timeout=15.0) as client:
            headers = {**shop.customer, "Idempotency-Key": "e2e-same-key"}
            return client.post("/v1/orders", json=body, headers=headers)

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(create, range(10)))

    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
