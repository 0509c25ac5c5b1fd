"""Plan changes (DESIGN.md §5) through the typed client orders uses: a new version of the base
license on the target plan for the same term; the instance's entitlement follows at once."""

import asyncio

import jwt
import pytest

from services.license.client import (
    ACCEPTANCE_PENDING,
    LICENSE_NOT_FOUND,
    LICENSE_REVOKED,
    NOT_A_BASE_LICENSE,
    ORDER_LICENSE_CONFLICT,
    LicenseClient,
    LicenseView,
    PlanChangeRequest,
    UpstreamProblem,
)
from shared.ids import new_id
from tests.license.factories import PLAN, LicenseDriver

PREMIUM = "pln_premium00000000000000001"


def to_premium(order_id: str | None = None) -> PlanChangeRequest:
    return PlanChangeRequest(
        order_id=order_id or new_id("ord"), plan_id=PREMIUM, entitlements={"devices": 500}
    )


async def refusal(call: object) -> tuple[int, str]:
    assert asyncio.iscoroutine(call)
    with pytest.raises(UpstreamProblem) as refused:
        await call
    return refused.value.upstream_status, refused.value.upstream_code


async def test_the_base_license_moves_to_the_plan_for_the_same_term(
    orders: LicenseClient, lic: LicenseDriver
) -> None:
    base = LicenseView.model_validate(await lic.base())
    pack = LicenseView.model_validate(await lic.addon(base.instance_id))
    before = await orders.get_instance_entitlement(base.instance_id)
    request = to_premium()

    changed = await orders.change_plan(base.id, request)

    assert (changed.id, changed.version, changed.plan_id) == (base.id, 2, PREMIUM)
    assert changed.entitlements == {"devices": 500}
    assert (changed.valid_from, changed.valid_until) == (base.valid_from, base.valid_until)
    claims = jwt.decode(changed.token, options={"verify_signature": False})
    assert claims["lic"]["plan"] == PREMIUM
    assert claims["lic"]["entitlements"] == {"devices": 500}
    assert claims["lic"]["version"] == 2
    assert base.valid_until is not None
    assert claims["exp"] == int(base.valid_until.timestamp())
    history = (await lic.get(base.id)).json()["history"]
    assert [(v["version"], v["change"], v["order_id"]) for v in history] == [
        (1, "minted", None),
        (2, "plan_change", request.order_id),
    ]
    assert history[1]["details"]["from"] == {"plan_id": PLAN, "entitlements": {"devices": 100}}
    assert (await lic.verify(base.token))["code"] == "SUPERSEDED"
    assert (await lic.verify(changed.token))["code"] == "VALID"
    assert (before.plan_id, before.entitlements) == (PLAN, {"devices": 300})
    after = await orders.get_instance_entitlement(base.instance_id)
    assert (after.plan_id, after.entitlements) == (PREMIUM, {"devices": 700})
    assert after.licenses == [base.id, pack.id]
    assert (await lic.get(pack.id)).json()["version"] == 1


async def test_a_retry_answers_the_same_version_and_another_body_is_refused(
    orders: LicenseClient, lic: LicenseDriver
) -> None:
    base = LicenseView.model_validate(await lic.base())
    request = to_premium()
    first = await orders.change_plan(base.id, request)

    again = await lic.client.post(
        f"/v1/internal/licenses/{base.id}/plan-changes",
        json=request.model_dump(mode="json"),
        headers=lic.service,
    )
    bigger = request.model_copy(update={"entitlements": {"devices": 900}})

    assert again.status_code == 200
    assert LicenseView.model_validate(again.json()) == first
    assert await refusal(orders.change_plan(base.id, bigger)) == (409, ORDER_LICENSE_CONFLICT)


async def test_refusals(orders: LicenseClient, lic: LicenseDriver) -> None:
    base = await lic.base()
    pack = await lic.addon(base["instance_id"])
    pending = await lic.base(requires_acceptance=True)
    revoked = await lic.base()
    await lic.revoke(revoked["order_id"])

    assert await refusal(orders.change_plan(pack["id"], to_premium())) == (
        422,
        NOT_A_BASE_LICENSE,
    )
    assert await refusal(orders.change_plan(pending["id"], to_premium())) == (
        409,
        ACCEPTANCE_PENDING,
    )
    assert await refusal(orders.change_plan(revoked["id"], to_premium())) == (
        409,
        LICENSE_REVOKED,
    )
    assert await refusal(orders.change_plan("lic_nothere000000000000000", to_premium())) == (
        404,
        LICENSE_NOT_FOUND,
    )


async def test_bad_bodies_are_422_and_only_orders_may_call(lic: LicenseDriver) -> None:
    base = await lic.base()
    path = f"/v1/internal/licenses/{base['id']}/plan-changes"
    body = to_premium().model_dump(mode="json")

    negative = await lic.client.post(
        path, json={**body, "entitlements": {"devices": -1}}, headers=lic.service
    )
    unknown = await lic.client.post(path, json={**body, "extra": 1}, headers=lic.service)
    partner = await lic.client.post(path, json=body, headers=lic.partner)

    assert (negative.status_code, unknown.status_code, partner.status_code) == (422, 422, 403)


async def test_concurrent_calls_with_one_order_make_one_version(
    orders: LicenseClient, lic: LicenseDriver
) -> None:
    base = LicenseView.model_validate(await lic.base())
    request = to_premium()

    answers = await asyncio.gather(*(orders.change_plan(base.id, request) for _ in range(6)))

    assert {(a.version, a.plan_id) for a in answers} == {(2, PREMIUM)}
    history = (await lic.get(base.id)).json()["history"]
    assert [v["version"] for v in history] == [1, 2]
