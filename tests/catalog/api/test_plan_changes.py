"""The partner's plan-change policy: `changes_to` edited in the draft, checked at freeze,
shown in the public product and carried by the catalog client."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from services.catalog.client import CatalogClient
from tests.catalog.factories import CatalogDriver, plan_body
from tests.problems import assert_problem


@pytest.fixture
async def catalog_client(catalog_app: FastAPI) -> AsyncIterator[CatalogClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=catalog_app)) as http:
        yield CatalogClient(http, "http://catalog.test", None)


async def two_plans(catalog_driver: CatalogDriver) -> tuple[str, str, str]:
    """A product with an add-on and the plans Basic and Pro: its id and theirs."""
    product, basic, _ = await catalog_driver.listing()
    pro = await catalog_driver.plan(product["id"], name="Pro", changes_to=[basic["id"]])
    return product["id"], basic["id"], pro["id"]


async def test_changes_to_is_set_at_create_and_patch_and_read_back_in_the_draft(
    catalog_driver: CatalogDriver,
) -> None:
    product_id, basic, pro = await two_plans(catalog_driver)

    patched = await catalog_driver.client.patch(
        f"/v1/products/{product_id}/draft/plans/{basic}",
        json={"changes_to": [pro]},
        headers=catalog_driver.auth,
    )

    assert patched.status_code == 200, patched.text
    assert patched.json()["changes_to"] == [pro]
    draft = await catalog_driver.client.get(
        f"/v1/products/{product_id}/draft", headers=catalog_driver.auth
    )
    policy = {p["id"]: p["changes_to"] for p in draft.json()["draft"]["plans"]}
    assert policy == {basic: [pro], pro: [basic]}


async def test_a_plan_changes_to_nothing_unless_told(catalog_driver: CatalogDriver) -> None:
    product = await catalog_driver.product()

    plan = await catalog_driver.plan(product["id"])

    assert plan["changes_to"] == []


async def test_changes_to_must_hold_plan_ids(catalog_driver: CatalogDriver) -> None:
    product = await catalog_driver.product()

    response = await catalog_driver.client.post(
        f"/v1/products/{product['id']}/draft/plans",
        json=plan_body(changes_to=["not an id"]),
        headers=catalog_driver.auth,
    )

    body = assert_problem(response, 422, "validation_error")
    assert body["errors"][0]["loc"][-2:] == ["changes_to", 0]


async def test_the_public_product_and_the_client_show_the_policy(
    catalog_driver: CatalogDriver, catalog_client: CatalogClient
) -> None:
    product_id, basic, pro = await two_plans(catalog_driver)
    await catalog_driver.go_live(product_id)

    public = await catalog_driver.client.get(f"/v1/products/{product_id}")
    live = await catalog_client.get_live_product(product_id)

    assert {p["id"]: p["changes_to"] for p in public.json()["plans"]} == {basic: [], pro: [basic]}
    assert [(p.id, p.changes_to) for p in live.plans] == [(basic, []), (pro, [basic])]
    assert live.may_change(pro, basic)
    assert not live.may_change(basic, pro)
    assert not live.may_change("pln_unknown", basic)


async def test_freeze_refuses_every_bad_target_at_once(catalog_driver: CatalogDriver) -> None:
    product_id, basic, pro = await two_plans(catalog_driver)
    gone = await catalog_driver.plan(product_id, name="Gone")
    await catalog_driver.client.patch(
        f"/v1/products/{product_id}/draft/plans/{basic}",
        json={"changes_to": [gone["id"], basic, pro, pro]},
        headers=catalog_driver.auth,
    )
    # Deleting a plan another plan names is allowed; the submission then refuses the name.
    deleted = await catalog_driver.client.delete(
        f"/v1/products/{product_id}/draft/plans/{gone['id']}", headers=catalog_driver.auth
    )
    assert deleted.status_code == 204
    twin = await catalog_driver.plan(product_id, name="pro")  # a duplicate name, reported too

    response = await catalog_driver.freeze(product_id)

    body = assert_problem(response, 422, "draft_invalid")
    assert sorted((e["type"], tuple(e["loc"])) for e in body["errors"]) == sorted(
        [
            ("unknown_plan", ("plans", basic, "changes_to", 0)),
            ("self_change", ("plans", basic, "changes_to", 1)),
            ("duplicate_plan", ("plans", basic, "changes_to", 3)),
            ("duplicate_name", ("plans", twin["id"], "name")),
        ]
    )


async def test_a_changed_policy_is_listed_in_the_revisions_changes(
    catalog_driver: CatalogDriver,
) -> None:
    product_id, basic, pro = await two_plans(catalog_driver)
    await catalog_driver.go_live(product_id)
    await catalog_driver.client.patch(
        f"/v1/products/{product_id}/draft/plans/{basic}",
        json={"changes_to": [pro]},
        headers=catalog_driver.auth,
    )

    response = await catalog_driver.freeze(product_id, "sub_2")

    assert response.status_code == 200, response.text
    changes = [(c["path"], c["field"], c["after"]) for c in response.json()["changes"]]
    assert changes == [(f"plans/{basic}", "changes_to", [pro])]


async def test_a_live_plans_policy_may_change_in_a_later_revision(
    catalog_driver: CatalogDriver,
) -> None:
    product_id, _, pro = await two_plans(catalog_driver)
    await catalog_driver.go_live(product_id)
    await catalog_driver.client.patch(
        f"/v1/products/{product_id}/draft/plans/{pro}",
        json={"changes_to": []},
        headers=catalog_driver.auth,
    )

    await catalog_driver.go_live(product_id, "sub_2")

    public: httpx.Response = await catalog_driver.client.get(f"/v1/products/{product_id}")
    assert public.json()["revision"] == 2
    assert all(p["changes_to"] == [] for p in public.json()["plans"])
