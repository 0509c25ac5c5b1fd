"""Each service's OpenAPI document as its running app serves it, and what each one must show.

The checks every document passes are parametrized over the services; the codes and examples
particular to one service's routes follow, one test per service.
"""

from typing import Any

import httpx
import pytest

from services.catalog.main import MIGRATIONS as CATALOG_MIGRATIONS
from services.license.main import MIGRATIONS as LICENSE_MIGRATIONS
from services.orders.main import MIGRATIONS as ORDERS_MIGRATIONS
from services.review.main import MIGRATIONS as REVIEW_MIGRATIONS
from shared.db import head_revision
from shared.problems import PROBLEM_MEDIA_TYPE
from tests.openapi.specs import operations, spec_of

# Each service's client fixture (tests/plugins): its app running on a migrated database.
CLIENTS = {
    "catalog": "catalog",
    "review": "review",
    "orders": "orders",
    "license": "orders_license",
}
MIGRATIONS = {
    "catalog": CATALOG_MIGRATIONS,
    "review": REVIEW_MIGRATIONS,
    "orders": ORDERS_MIGRATIONS,
    "license": LICENSE_MIGRATIONS,
}
# The fewest operations each document has (its health probes included).
MIN_OPERATIONS = {"catalog": 19, "review": 7, "orders": 13, "license": 15}


@pytest.fixture(params=list(CLIENTS))
def running(request: pytest.FixtureRequest) -> tuple[str, httpx.AsyncClient]:
    """A service's name and a client of its running app (one test per service)."""
    client: httpx.AsyncClient = request.getfixturevalue(CLIENTS[request.param])
    return request.param, client


async def test_every_operation_has_a_summary_id_tag_and_problem_errors(
    running: tuple[str, httpx.AsyncClient],
) -> None:
    service, client = running
    schema = (await client.get("/openapi.json")).json()

    found = [operation for _, _, operation in operations(schema)]
    assert len(found) >= MIN_OPERATIONS[service]
    for operation in found:
        assert operation.get("summary"), operation
        assert operation.get("operationId"), operation
        assert operation.get("tags"), operation
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert list(response["content"]) == [PROBLEM_MEDIA_TYPE], (operation, status)


async def test_ready_when_the_schema_is_at_head(running: tuple[str, httpx.AsyncClient]) -> None:
    service, client = running
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["schema_revision"] == head_revision(MIGRATIONS[service])


def _problem_codes(responses: dict[str, Any], status: str) -> set[str]:
    return set(responses[status]["content"][PROBLEM_MEDIA_TYPE]["examples"])


def test_catalog_edit_routes_document_the_lock_and_their_own_codes() -> None:
    paths = spec_of("catalog")["paths"]

    delete_plan = paths["/v1/products/{product_id}/draft/plans/{plan_id}"]["delete"]["responses"]
    assert {"draft_locked", "live_plan_not_deletable", "plan_in_use"} <= _problem_codes(
        delete_plan, "409"
    )
    upload = paths["/v1/documents"]["post"]["responses"]
    assert {"201", "401", "403", "413", "415", "422"} <= set(upload)
    freeze = paths["/v1/internal/products/{product_id}/freeze"]["post"]["responses"]
    assert "draft_invalid" in _problem_codes(freeze, "422")


def test_license_mint_documents_the_base_license_problems() -> None:
    mint = spec_of("license")["paths"]["/v1/internal/licenses"]["post"]["responses"]

    assert {"base_license_missing", "base_license_revoked", "base_license_exists"} <= (
        _problem_codes(mint, "409")
    )
    assert {"200", "201"} <= set(mint)


def test_orders_create_pay_and_refund_have_examples_and_their_codes() -> None:
    paths = spec_of("orders")["paths"]
    create = paths["/v1/orders"]["post"]
    pay = paths["/v1/orders/{order_id}/pay"]["post"]
    refund = paths["/v1/orders/{order_id}/refund"]["post"]
    webhook = paths["/v1/payments/webhook"]["post"]

    assert {"new", "addon", "one_time"} <= set(
        create["requestBody"]["content"]["application/json"]["examples"]
    )
    assert set(refund["requestBody"]["content"]["application/json"]["examples"]) == {
        "full",
        "partial",
    }
    header = next(p for p in pay["parameters"] if p["name"] == "Idempotency-Key")
    assert header["examples"]
    assert webhook["requestBody"]["content"]["application/json"]["examples"]
    assert {
        "instance_ended",
        "plan_retired",
        "addon_retired",
        "addon_incompatible",
        "max_per_instance_exceeded",
    } <= _problem_codes(create["responses"], "409")
    assert {"200", "201"} <= set(create["responses"])
    assert {"200", "202"} <= set(pay["responses"])
    assert "401" in webhook["responses"]
    assert "security" not in webhook
