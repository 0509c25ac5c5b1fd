"""Partner tooling can rely on the documents: clients generated from them work.

openapi-python-client (installed with the dev extras, so no download at run time) generates a
Python package from each service's `/openapi.json`; the story then runs through those
packages against the in-process apps (each client gets an ASGI transport through
`httpx_args`): a partner lists a product with the catalog client and submits it with the review
client, a reviewer approves it, a customer buys it with the orders client and reads its
entitlement with the license client. Typed models all the way.
"""

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from shared.auth import Role
from tests.conftest import TestKeys
from tests.openapi.specs import SERVICES, operations, spec_of
from tests.orders.factories import CUSTOMER, PARTNER
from tests.plugins.orders import CATALOG_URL, LICENSE_URL, ORDERS_URL

REVIEW_URL = "http://review.test"
REVIEWER = "rita"
GENERATOR = Path(sys.executable).parent / "openapi-python-client"


class Generated:
    """The generated package of one service: `api("plans.add_plan")`, `models.Plan`, ..."""

    def __init__(self, package: str) -> None:
        self.package = package
        self.models: Any = importlib.import_module(f"{package}.models")
        self.client: Any = importlib.import_module(f"{package}.client")

    def api(self, name: str) -> Any:
        return importlib.import_module(f"{self.package}.api.{name}")

    def as_(self, keys: TestKeys, role: Role, sub: str, app: FastAPI, base_url: str) -> Any:
        """An authenticated client that reaches `app` in-process."""
        return self.client.AuthenticatedClient(
            base_url=base_url,
            token=keys.token(role, sub),
            httpx_args={"transport": httpx.ASGITransport(app=app)},
            raise_on_unexpected_status=True,
        )


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Generated]]:
    """Each service's client package, generated once per session and importable."""
    folder = tmp_path_factory.mktemp("generated")
    config = folder / "config.yaml"
    config.write_text("post_hooks: []\n")  # no formatting pass: nothing to run, nothing to fetch
    for service in SERVICES:
        document = folder / f"{service}.json"
        document.write_text(json.dumps(spec_of(service)))
        result = subprocess.run(
            [
                str(GENERATOR),
                "generate",
                "--path",
                str(document),
                "--output-path",
                str(folder / f"market_{service}_client"),
                "--meta",
                "none",
                "--config",
                str(config),
                "--fail-on-warning",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(folder))
    try:
        yield {service: Generated(f"market_{service}_client") for service in SERVICES}
    finally:
        sys.path.remove(str(folder))
        for name in list(sys.modules):
            if name.split(".")[0] in {f"market_{service}_client" for service in SERVICES}:
                del sys.modules[name]


def _module_name(operation_id: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation_id)


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_becomes_a_typed_function(
    generated: dict[str, Generated], service: str
) -> None:
    spec = spec_of(service)

    for _, _, operation in operations(spec):
        tag = operation["tags"][0]
        module = generated[service].api(f"{tag}.{_module_name(operation['operationId'])}")
        assert callable(module.asyncio_detailed)
        assert callable(module.sync_detailed)


async def test_the_story_through_generated_clients(
    generated: dict[str, Generated],
    keys: TestKeys,
    catalog_app: FastAPI,
    review_app: FastAPI,
    orders_app: FastAPI,
    orders_license_app: FastAPI,
) -> None:
    catalog, review, orders, license = (generated[s] for s in SERVICES)
    cm, rm, om, lm = catalog.models, review.models, orders.models, license.models

    # A partner lists a product: a plan and an add-on, then reads the draft back.
    async with catalog.as_(keys, Role.partner, PARTNER, catalog_app, CATALOG_URL) as partner:
        product = await catalog.api("products.create_product").asyncio(
            client=partner,
            body=cm.ProductCreate(
                product_type=cm.ProductType.MARKETPLACE,
                name="FleetOTA",
                category="automotive",
                description="Over-the-air updates for connected vehicles.",
                billing_mode=cm.BillingMode.ONLINE,
                requires_acceptance=True,
                acceptance_days=14,
            ),
        )
        assert isinstance(product, cm.ProductView)
        plan = await catalog.api("plans.add_plan").asyncio(
            product.id,
            client=partner,
            body=cm.Configuration.from_dict(
                {
                    "name": "Standard",
                    "subscription_method": "subscription",
                    "cycles": [
                        {
                            "unit": "month",
                            "count": 1,
                            "price": {"amount_minor": 4900, "currency": "EUR"},
                        }
                    ],
                    "entitlements": {"devices": 100},
                }
            ),
        )
        assert isinstance(plan, cm.Plan)
        addon = await catalog.api("addons.add_addon").asyncio(
            product.id,
            client=partner,
            body=cm.AddonSpec.from_dict(
                {
                    "name": "+100 devices",
                    "subscription_method": "subscription",
                    "cycles": [
                        {
                            "unit": "month",
                            "count": 1,
                            "price": {"amount_minor": 1900, "currency": "EUR"},
                        }
                    ],
                    "entitlements": {"devices": 100},
                    "max_per_instance": 10,
                }
            ),
        )
        assert isinstance(addon, cm.Addon)
        draft = await catalog.api("drafts.get_draft").asyncio(product.id, client=partner)
        assert isinstance(draft, cm.ProductView)
        assert [p.name for p in draft.draft.plans] == ["Standard"]
        assert draft.draft.addons[0].entitlements["devices"] == 100
        assert draft.draft.plans[0].cycles[0].unit is cm.CycleUnit.MONTH
        assert draft.live_revision is None
        assert not draft.locked

    # The partner submits it; a reviewer claims and approves it: live.
    async with review.as_(keys, Role.partner, PARTNER, review_app, REVIEW_URL) as partner:
        submission = await review.api("submissions.create_submission").asyncio(
            client=partner, body=rm.SubmissionCreate(product_id=product.id, note="First listing")
        )
        assert isinstance(submission, rm.SubmissionView)
        assert submission.status is rm.Status.PENDING
    async with review.as_(keys, Role.reviewer, REVIEWER, review_app, REVIEW_URL) as reviewer:
        await review.api("submissions.claim_submission").asyncio(submission.id, client=reviewer)
        approved = await review.api("submissions.approve_submission").asyncio(
            submission.id, client=reviewer
        )
        assert approved.status is rm.Status.APPROVED

    # A customer prices the plan, orders it and pays: an instance with its license.
    async with orders.as_(keys, Role.customer, CUSTOMER, orders_app, ORDERS_URL) as customer:
        new_order = om.NewOrderCreate.from_dict(
            {
                "type": "new",
                "product_id": product.id,
                "plan_id": plan.id,
                "cycle": {"unit": "month", "count": 1},
            }
        )
        quote = await orders.api("orders.create_order").asyncio(
            client=customer, body=new_order, dry_run=True
        )
        assert isinstance(quote, om.OrderQuoteView)
        assert quote.amount.amount_minor == 4900
        order = await orders.api("orders.create_order").asyncio(
            client=customer, body=new_order, idempotency_key="generated-client-1"
        )
        assert isinstance(order, om.OrderView)
        assert order.status is om.OrderStatus.PENDING_PAYMENT
        paid = await orders.api("orders.pay_order").asyncio(order.id, client=customer)
        assert isinstance(paid, om.OrderView)
        assert paid.status is om.OrderStatus.FULFILLED
        instance = await orders.api("instances.get_instance").asyncio(
            paid.instance_id, client=customer
        )
        assert isinstance(instance, om.InstanceView)
        assert instance.entitlement["devices"] == 100

    # The installed application reads its entitlement from the license service.
    async with license.as_(
        keys, Role.customer, CUSTOMER, orders_license_app, LICENSE_URL
    ) as customer:
        entitlement = await license.api("instances.get_entitlement").asyncio(
            instance.id, client=customer
        )
        assert isinstance(entitlement, lm.EntitlementView)
        assert entitlement.entitlements["devices"] == 100
        assert entitlement.licenses == [paid.license_id]
