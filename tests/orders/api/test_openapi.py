"""The orders OpenAPI document: every route summarised, tagged, its errors documented."""

import httpx

from services.orders.main import MIGRATIONS
from shared.db import head_revision
from shared.problems import PROBLEM_MEDIA_TYPE


async def test_every_operation_has_a_summary_id_tag_and_problem_errors(
    orders: httpx.AsyncClient,
) -> None:
    schema = (await orders.get("/openapi.json")).json()

    operations = [op for path in schema["paths"].values() for op in path.values()]
    assert len(operations) >= 13
    for operation in operations:
        assert operation.get("summary"), operation
        assert operation.get("operationId"), operation
        assert operation.get("tags"), operation
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert list(response["content"]) == [PROBLEM_MEDIA_TYPE], (operation, status)


async def test_create_pay_and_refund_have_examples_and_their_codes(
    orders: httpx.AsyncClient,
) -> None:
    paths = (await orders.get("/openapi.json")).json()["paths"]
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
    conflicts = create["responses"]["409"]["content"][PROBLEM_MEDIA_TYPE]["examples"]
    assert {
        "instance_ended",
        "plan_retired",
        "addon_retired",
        "addon_incompatible",
        "max_per_instance_exceeded",
    } <= set(conflicts)
    assert {"200", "201"} <= set(create["responses"])
    assert {"200", "202"} <= set(pay["responses"])
    assert "401" in webhook["responses"]
    assert "security" not in webhook


async def test_ready_when_the_schema_is_at_head(orders: httpx.AsyncClient) -> None:
    response = await orders.get("/readyz")

    assert response.status_code == 200
    assert response.json()["schema_revision"] == head_revision(MIGRATIONS)
