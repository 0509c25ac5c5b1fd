"""Orders is killed (SIGKILL) in the middle of a burst of pays, and restarted. Each client
does what the README tells it: it retries pay with its same Idempotency-Key on a connection
error, a 503 or a 409 `idempotency_request_in_progress` (and after a 202 `paid`, which says
license was too slow to mint just then, reads the order until the relay has fulfilled it).
Every client ends with 200 and its order completed, never a refusal, and the sandbox's ledger
shows every payment settled once, one per order.

Runs with short settings (system.py): the relay resumes a dead pay's payment after 1 s, and a
pay's key is held 2 s; every wait has a deadline.
"""

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from harness.processes import ServiceProcess
from services.orders.db.models import PaymentRow, SandboxPaymentRow
from shared.db import Database
from tests.catalog.factories import plan_body, product_body
from tests.conftest import TestKeys, run_sync
from tests.e2e.system import System, running_system

PARTNER = "crash-partner"
CUSTOMERS = 30
RETRY_ON = {"idempotency_request_in_progress", "payment_provider_unavailable", "unavailable"}
CLIENT_DEADLINE_SECONDS = 150.0


@pytest.fixture
def system(database_url: Callable[[str], str], keys: TestKeys, tmp_path: Path) -> Iterator[System]:
    with running_system(database_url, keys, tmp_path) as running:
        yield running


def ok(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    assert response.status_code in (statuses or (200,)), response.text
    return dict(response.json())


def live_plan(system: System) -> tuple[str, str]:
    """A product with one plan, approved through review (no acceptance needed)."""
    partner = system.headers("partner", PARTNER)
    reviewer = system.headers("reviewer", "crash-rita")
    with system.client("catalog") as catalog, system.client("review") as review:
        body = product_body(name="Crash Fleet", requires_acceptance=False)
        product = ok(catalog.post("/v1/products", json=body, headers=partner), 201)
        draft = f"/v1/products/{product['id']}/draft"
        plan = ok(catalog.post(f"{draft}/plans", json=plan_body(), headers=partner), 201)
        submission = ok(
            review.post("/v1/submissions", json={"product_id": product["id"]}, headers=partner),
            201,
        )
        ok(review.post(f"/v1/submissions/{submission['id']}/claim", headers=reviewer))
        ok(review.post(f"/v1/submissions/{submission['id']}/approve", headers=reviewer))
    return product["id"], plan["id"]


@dataclass
class Customer:
    """One client: its order, and what its pays with one key met on the way."""

    headers: dict[str, str]
    order_id: str
    key: str
    connection_errors: int = 0
    retried_answers: int = 0
    paid_first: bool = False  # answered 202 `paid` (fulfilment to follow) before 200
    answer: httpx.Response | None = None


def pay_until_answered(system: System, customer: Customer, answered: threading.Semaphore) -> None:
    """Pay with the same key until an answer that is not "try again", as the README says."""
    deadline = time.monotonic() + CLIENT_DEADLINE_SECONDS
    headers = {**customer.headers, "Idempotency-Key": customer.key}
    while time.monotonic() < deadline:
        try:
            with httpx.Client(base_url=system.url("orders"), timeout=15.0) as client:
                response = client.post(f"/v1/orders/{customer.order_id}/pay", headers=headers)
        except httpx.TransportError:
            customer.connection_errors += 1  # orders is down (or died under this request)
            time.sleep(0.2)
            continue
        code = response.json().get("code") if response.status_code >= 400 else None
        if response.status_code in (409, 503) and code in RETRY_ON:
            customer.retried_answers += 1
            time.sleep(0.2)
            continue
        if response.status_code == 202 and response.json()["status"] == "paid":
            # Paid, but license was too slow to mint just then: the relay fulfils it.
            customer.paid_first = True
            response = wait_until_completed(client_url=system.url("orders"), customer=customer)
        customer.answer = response
        answered.release()
        return


def wait_until_completed(client_url: str, customer: Customer) -> httpx.Response:
    deadline = time.monotonic() + CLIENT_DEADLINE_SECONDS
    with httpx.Client(base_url=client_url, timeout=15.0) as client:
        while True:
            response = client.get(f"/v1/orders/{customer.order_id}", headers=customer.headers)
            if response.json()["status"] != "paid" or time.monotonic() > deadline:
                return response
            time.sleep(0.2)


def restart(system: System, killed: ServiceProcess) -> None:
    """Start orders again on the same port; on a loaded machine its start may take a while
    (the clients keep retrying meanwhile)."""
    again = ServiceProcess(
        f"{killed.name}-again", killed.app, log_dir=killed.log_path.parent, port=killed.port
    )
    system.started.append(again)
    system.replicas["orders"][0] = again
    again.start(system.envs["orders"][0])
    again.wait_ready(timeout=90)


def ledger(url: str) -> tuple[list[SandboxPaymentRow], list[PaymentRow]]:
    async def read() -> tuple[list[SandboxPaymentRow], list[PaymentRow]]:
        db = Database(url)
        try:
            async with db.sessionmaker() as session:
                settled = list((await session.execute(select(SandboxPaymentRow))).scalars())
                payments = list((await session.execute(select(PaymentRow))).scalars())
        finally:
            await db.dispose()
        return settled, payments

    return run_sync(read())


def test_pays_retried_with_their_keys_across_a_sigkill_all_end_200_and_settle_once(
    system: System, database_url: Callable[[str], str]
) -> None:
    product_id, plan_id = live_plan(system)
    body = {
        "type": "new",
        "product_id": product_id,
        "plan_id": plan_id,
        "cycle": {"unit": "month", "count": 1},
    }
    customers = []
    with system.client("orders") as orders:
        for i in range(CUSTOMERS):
            headers = system.headers("customer", f"crash-customer-{i}")
            order = ok(orders.post("/v1/orders", json=body, headers=headers), 201)
            customers.append(Customer(headers, order["id"], key=f"pay-{order['id']}"))

    answered = threading.Semaphore(0)
    with ThreadPoolExecutor(max_workers=CUSTOMERS) as pool:
        clients = [pool.submit(pay_until_answered, system, c, answered) for c in customers]
        # Kill orders once a few pays went through: the others are in flight or queued.
        for _ in range(3):
            assert answered.acquire(timeout=30), "no pay went through before the kill"
        killed = system.replicas["orders"][0]
        killed.kill()
        restart(system, killed)
        for client in clients:
            client.result(timeout=CLIENT_DEADLINE_SECONDS + 30)

    unanswered = [c.order_id for c in customers if c.answer is None]
    assert not unanswered, f"clients still without an answer at their deadline: {unanswered}"
    answers = {c.order_id: c.answer for c in customers if c.answer is not None}
    wrong = {o: (a.status_code, a.text) for o, a in answers.items() if a.status_code != 200}
    assert not wrong, f"clients told something else than 200: {wrong}"
    for order_id, answer in answers.items():
        order = answer.json()
        assert order["id"] == order_id
        assert order["status"] == "completed"
        assert order["payment"]["status"] == "settled"
        assert order["license_id"] is not None
    assert any(c.connection_errors for c in customers), "the kill reached no client"

    settled, payments = ledger(database_url("orders"))
    ours = {c.order_id for c in customers}
    by_order: dict[str, list[str]] = {}
    for row in settled:
        if row.order_id in ours:
            by_order.setdefault(row.order_id, []).append(row.payment_id)
    # One settlement per order, for the payment each client was told about.
    assert by_order == {o: [a.json()["payment"]["id"]] for o, a in answers.items()}
    paid_payments = [p for p in payments if p.order_id in ours]
    assert sorted(p.order_id for p in paid_payments) == sorted(ours)  # one payment an order
    assert {p.status for p in paid_payments} == {"settled"}
    with system.client("license") as license:
        for customer in customers:
            instance_id = answers[customer.order_id].json()["instance_id"]
            licenses = ok(
                license.get(f"/v1/instances/{instance_id}/licenses", headers=customer.headers)
            )["items"]
            assert [lic["order_id"] for lic in licenses] == [customer.order_id]
