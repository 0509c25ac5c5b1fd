"""Fixtures for the OpenAPI tests: the four services running in-process, with a story in them.

`system` starts catalog, review, license and orders (tests/openapi/system.py) and fills them
with one of everything, so that generated requests can name objects that exist: `seeded`
holds their ids.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from services.catalog.settings import CatalogSettings
from services.license.settings import LicenseSettings
from services.orders.settings import OrdersSettings
from services.review.settings import ReviewSettings
from tests.catalog.factories import CatalogDriver
from tests.conftest import TestKeys
from tests.openapi.system import InProcessSystem, SystemSettings, in_process_system
from tests.orders.factories import PARTNER, OrdersDriver, new_order, publish

REVIEWER = "rita"


@dataclass(frozen=True)
class Seeded:
    """Ids of objects that exist, in consistent sets (one product with its own plan, ...)."""

    live: dict[str, str]  # a live product, its plan and add-on, revision 1
    draft: dict[str, str]  # a product never submitted: its draft is editable
    submitted: dict[str, str]  # a product with a pending submission
    bought: dict[str, str]  # a paid order, its instance and its license
    pending: dict[str, str]  # an order waiting for payment

    def all(self) -> list[dict[str, str]]:
        return [self.live, self.draft, self.submitted, self.bought, self.pending]


@pytest.fixture
def system_settings(
    catalog_settings: CatalogSettings,
    review_settings: ReviewSettings,
    orders_license_settings: LicenseSettings,
    orders_settings: OrdersSettings,
) -> SystemSettings:
    return SystemSettings(
        catalog=catalog_settings,
        review=review_settings,
        license=orders_license_settings,
        orders=orders_settings,
    )


@pytest.fixture
def system(system_settings: SystemSettings) -> Iterator[InProcessSystem]:
    with in_process_system(system_settings) as running:
        yield running


async def _seed(system: InProcessSystem, keys: TestKeys) -> Seeded:
    catalog = CatalogDriver(system.clients["catalog"], keys)
    listing = await publish(catalog)
    draft, draft_plan, draft_addon = await catalog.listing(name="FleetOTA Draft")
    submitted, _, _ = await catalog.listing(name="FleetOTA Next")
    uploaded = await system.clients["catalog"].post(
        "/v1/documents",
        files={"file": ("sla.txt", b"Support: 24/7, first answer within 4 hours.\n")},
        headers=keys.headers("partner", PARTNER),
    )
    assert uploaded.status_code == 201, uploaded.text
    response = await system.clients["review"].post(
        "/v1/submissions",
        json={"product_id": submitted["id"], "note": "First listing"},
        headers=keys.headers("partner", PARTNER),
    )
    assert response.status_code == 201, response.text
    submission = response.json()

    shop = OrdersDriver(system.clients["orders"], keys)
    paid = await shop.buy_instance(listing)
    waiting = await shop.placed(new_order(listing.product_id, listing.plan_id))
    return Seeded(
        live={
            "product_id": listing.product_id,
            "plan_id": listing.plan_id,
            "addon_id": listing.addon_id,
            "number": "1",
        },
        draft={
            "product_id": draft["id"],
            "plan_id": draft_plan["id"],
            "addon_id": draft_addon["id"],
            "number": "1",
            "document_id": uploaded.json()["id"],
        },
        submitted={"product_id": submitted["id"], "submission_id": submission["id"]},
        bought={
            "order_id": paid["id"],
            "instance_id": paid["instance_id"],
            "license_id": paid["license_id"],
        },
        pending={"order_id": waiting["id"]},
    )


@pytest.fixture
def seeded(system: InProcessSystem, keys: TestKeys) -> Seeded:
    return system.run(_seed, system, keys)
