"""Inputs schemathesis found that broke a service, kept as plain regression tests."""

import httpx
import pytest

from tests.conftest import TestKeys
from tests.orders.factories import CUSTOMER, PARTNER
from tests.problems import assert_problem

ODD_IDS = ["prd_x\nyz", "prd_x/draft", "../internal", "prd_%0A", "prd x", "prd_\u00e9"]


@pytest.mark.parametrize("product_id", ODD_IDS)
async def test_a_submission_for_an_odd_product_id_is_refused(
    review: httpx.AsyncClient, keys: TestKeys, product_id: str
) -> None:
    response = await review.post(
        "/v1/submissions",
        json={"product_id": product_id},
        headers=keys.headers("partner", PARTNER),
    )

    assert_problem(response, 422, "validation_error")


@pytest.mark.parametrize("product_id", ODD_IDS)
async def test_an_order_for_an_odd_product_id_is_refused(
    orders: httpx.AsyncClient, keys: TestKeys, product_id: str
) -> None:
    response = await orders.post(
        "/v1/orders",
        json={"type": "new", "product_id": product_id, "plan_id": "pln_x"},
        headers=keys.headers("customer", CUSTOMER),
    )

    assert_problem(response, 422, "validation_error")
