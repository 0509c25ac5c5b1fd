"""The bench's setup, outside the timed part: a product listed through the real review flow,
customers who bought base instances and an add-on pack each, and their licenses."""

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.system import BenchService, Keys
from shared.auth import Role

PARTNER = "bench-partner"
REVIEWER = "bench-reviewer"


@dataclass
class Fixture:
    """What the scenarios need: the live product, the instances, their tokens and licenses."""

    product_id: str
    plan_id: str
    addon_id: str
    customers: list[str] = field(default_factory=list)
    customer_tokens: list[str] = field(default_factory=list)
    # Per customer, the instances it owns.
    instances: list[list[str]] = field(default_factory=list)
    license_tokens: list[str] = field(default_factory=list)


def _ok(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    if response.status_code not in (statuses or (200,)):
        raise RuntimeError(
            f"{response.request.method} {response.request.url} answered "
            f"{response.status_code}: {response.text[:500]}"
        )
    return dict(response.json())


def list_product(processes: dict[str, BenchService], keys: Keys) -> tuple[str, str, str]:
    """A live product (a plan, an add-on of up to 1000 packs) through the real review flow."""
    partner = keys.headers(Role.partner, PARTNER)
    reviewer = keys.headers(Role.reviewer, REVIEWER)
    with (
        httpx.Client(base_url=processes["catalog"].base_url, timeout=30) as catalog,
        httpx.Client(base_url=processes["review"].base_url, timeout=30) as review,
    ):
        product = _ok(
            catalog.post(
                "/v1/products",
                headers=partner,
                json={
                    "product_type": "marketplace",
                    "name": "FleetOTA",
                    "category": "automotive",
                    "description": "Over-the-air updates for connected vehicles.",
                    "billing_mode": "online",
                    "requires_acceptance": False,
                },
            ),
            201,
        )
        draft = f"/v1/products/{product['id']}/draft"
        monthly = {"unit": "month", "count": 1}
        plan = _ok(
            catalog.post(
                f"{draft}/plans",
                headers=partner,
                json={
                    "name": "Standard",
                    "subscription_method": "subscription",
                    "cycles": [
                        {**monthly, "price": {"amount_minor": 4900, "currency": "EUR"}},
                        {
                            "unit": "year",
                            "count": 1,
                            "price": {"amount_minor": 49000, "currency": "EUR"},
                        },
                    ],
                    "entitlements": {"devices": 100},
                },
            ),
            201,
        )
        addon = _ok(
            catalog.post(
                f"{draft}/addons",
                headers=partner,
                json={
                    "name": "+100 devices",
                    "subscription_method": "subscription",
                    "cycles": [{**monthly, "price": {"amount_minor": 1900, "currency": "EUR"}}],
                    "entitlements": {"devices": 100},
                    "max_per_instance": 1000,
                },
            ),
            201,
        )
        submission = _ok(
            review.post("/v1/submissions", headers=partner, json={"product_id": product["id"]}),
            201,
        )
        _ok(review.post(f"/v1/submissions/{submission['id']}/claim", headers=reviewer))
        approved = _ok(review.post(f"/v1/submissions/{submission['id']}/approve", headers=reviewer))
        if approved["publication"]["state"] != "live":
            raise RuntimeError(f"the approved revision is not live: {approved['publication']}")
        _ok(catalog.get(f"/v1/products/{product['id']}"))
    return str(product["id"]), str(plan["id"]), str(addon["id"])


async def _buy(
    orders: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    key = {"Idempotency-Key": uuid.uuid4().hex}
    order = _ok(await orders.post("/v1/orders", headers={**headers, **key}, json=body), 201)
    key = {"Idempotency-Key": uuid.uuid4().hex}
    paid = _ok(await orders.post(f"/v1/orders/{order['id']}/pay", headers={**headers, **key}))
    if not paid.get("license_id"):
        raise RuntimeError(f"pay answered without a license: {paid}")
    return paid


async def _populate(
    processes: dict[str, BenchService], keys: Keys, fixture: Fixture, clients: int, per_client: int
) -> None:
    """Each customer buys `per_client` base instances, and one add-on pack for each."""
    monthly = {"unit": "month", "count": 1}
    limit = asyncio.Semaphore(16)
    async with (
        httpx.AsyncClient(base_url=processes["orders"].base_url, timeout=60) as orders,
        httpx.AsyncClient(base_url=processes["license"].base_url, timeout=60) as license,
    ):

        async def instance_of(customer: int) -> tuple[int, str, str, str]:
            headers = {"Authorization": f"Bearer {fixture.customer_tokens[customer]}"}
            async with limit:
                base = await _buy(
                    orders,
                    headers,
                    {
                        "type": "new",
                        "product_id": fixture.product_id,
                        "plan_id": fixture.plan_id,
                        "cycle": monthly,
                    },
                )
                pack = await _buy(
                    orders,
                    headers,
                    {
                        "type": "addon",
                        "instance_id": base["instance_id"],
                        "addon_id": fixture.addon_id,
                        "cycle": monthly,
                        "quantity": 1,
                    },
                )
                tokens = []
                for license_id in (base["license_id"], pack["license_id"]):
                    found = _ok(await license.get(f"/v1/licenses/{license_id}", headers=headers))
                    tokens.append(str(found["token"]))
            return customer, str(base["instance_id"]), *tokens  # type: ignore[return-value]

        made = await asyncio.gather(
            *(instance_of(c) for c in range(clients) for _ in range(per_client))
        )
    fixture.instances = [[] for _ in range(clients)]
    for customer, instance_id, base_token, pack_token in made:
        fixture.instances[customer].append(instance_id)
        fixture.license_tokens += [base_token, pack_token]


def prepare(
    processes: dict[str, BenchService], keys: Keys, clients: int, per_client: int
) -> Fixture:
    """List the product and populate the instances (outside the timed part)."""
    product_id, plan_id, addon_id = list_product(processes, keys)
    fixture = Fixture(product_id, plan_id, addon_id)
    fixture.customers = [f"bench-customer-{n:02d}" for n in range(clients)]
    fixture.customer_tokens = [keys.token(Role.customer, c) for c in fixture.customers]
    asyncio.run(_populate(processes, keys, fixture, clients, per_client))
    return fixture
