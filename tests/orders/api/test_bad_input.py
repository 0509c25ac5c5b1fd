"""Bad input gets a problem with a stable code, never a 500."""

import pytest

from tests.orders.factories import OrdersDriver
from tests.problems import assert_problem


@pytest.mark.parametrize(
    "body",
    [
        {"type": "lease", "product_id": "prd_x", "plan_id": "pln_x"},
        {"type": "new", "product_id": "prd_x"},
        {"type": "addon", "instance_id": "ins_x", "addon_id": "add_x", "quantity": 10**6},
        {"type": "new", "product_id": "prd_x", "plan_id": "pln_x", "cycle": {"unit": "week"}},
        {"type": "new", "product_id": "x" * 65, "plan_id": "pln_x"},
        {"type": "addon", "instance_id": "ins_x", "addon_id": "add_x", "price": 1},
        [],
        "new",
    ],
)
async def test_malformed_orders_are_422(shop: OrdersDriver, body: object) -> None:
    response = await shop.client.post("/v1/orders", json=body, headers=shop.as_customer())

    assert_problem(response, 422, "validation_error")


async def test_not_json_and_long_ids(shop: OrdersDriver) -> None:
    garbage = await shop.client.post(
        "/v1/orders",
        content=b"{not json",
        headers={**shop.as_customer(), "Content-Type": "application/json"},
    )
    long_id = await shop.client.get("/v1/orders/" + "o" * 65, headers=shop.as_customer())
    unknown = await shop.client.post("/v1/orders/ord_nothing/pay", headers=shop.as_customer())

    assert_problem(garbage, 422, "validation_error")
    assert_problem(long_id, 422, "validation_error")
    assert_problem(unknown, 404, "order_not_found")


async def test_partners_and_reviewers_cannot_buy(shop: OrdersDriver) -> None:
    body = {"type": "new", "product_id": "prd_x", "plan_id": "pln_x"}

    partner = await shop.client.post("/v1/orders", json=body, headers=shop.as_partner())
    anonymous = await shop.client.post("/v1/orders", json=body)

    assert_problem(partner, 403, "forbidden")
    assert_problem(anonymous, 401, "unauthenticated")
