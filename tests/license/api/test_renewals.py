"""Renewals (DESIGN.md §5) through the typed client orders uses: a new version of the same
license with a later term, valid at once, once per order and once per term."""

import asyncio
from datetime import datetime, timedelta

import jwt
import pytest

from services.license.client import (
    ACCEPTANCE_PENDING,
    LICENSE_NOT_FOUND,
    LICENSE_NOT_RENEWABLE,
    NOT_RENEWABLE,
    ORDER_LICENSE_CONFLICT,
    TERM_MISMATCH,
    LicenseClient,
    LicenseView,
    RenewalRequest,
    UpstreamProblem,
)
from shared.ids import new_id
from tests.conftest import TestKeys
from tests.license.factories import LicenseDriver, now

MONTH = timedelta(days=30)


def renewal(license_: LicenseView, order_id: str | None = None) -> RenewalRequest:
    """The next term of `license_`: one month on from where its term ends."""
    assert license_.valid_until is not None
    return RenewalRequest(
        order_id=order_id or new_id("ord"),
        term_end=license_.valid_until,
        valid_until=license_.valid_until + MONTH,
    )


async def minted(lic: LicenseDriver, **overrides: object) -> LicenseView:
    return LicenseView.model_validate(await lic.base(**overrides))


async def refusal(call: object) -> tuple[int, str]:
    assert asyncio.iscoroutine(call)
    with pytest.raises(UpstreamProblem) as refused:
        await call
    return refused.value.upstream_status, refused.value.upstream_code


async def test_a_renewal_is_a_new_version_of_the_same_license(
    orders: LicenseClient, lic: LicenseDriver
) -> None:
    base = await minted(lic)
    request = renewal(base)

    renewed = await orders.renew(base.id, request)

    assert (renewed.id, renewed.version, renewed.status) == (base.id, 2, "active")
    assert renewed.valid_until == request.valid_until
    assert renewed.valid_from == base.valid_from
    claims = jwt.decode(renewed.token, options={"verify_signature": False})
    assert claims["exp"] == int(request.valid_until.timestamp())
    assert claims["jti"] == f"{base.id}.2"
    assert claims["lic"]["version"] == 2
    assert claims["lic"]["plan"] == base.plan_id
    assert claims["lic"]["entitlements"] == base.entitlements
    history = (await lic.get(base.id)).json()["history"]
    assert [(v["version"], v["change"], v["order_id"]) for v in history] == [
        (1, "minted", None),
        (2, "renewal", request.order_id),
    ]
    assert (await lic.verify(renewed.token))["code"] == "VALID"
    assert (await lic.verify(base.token))["code"] == "SUPERSEDED"


async def test_an_expired_license_renews_from_where_its_term_ended(
    orders: LicenseClient, lic: LicenseDriver
) -> None:
    start = now() - timedelta(days=40)
    base = await minted(lic, valid_from=start.isoformat(), valid_until=(start + MONTH).isoformat())
    assert base.status == "expired"

    renewed = await orders.renew(base.id, renewal(base))

    assert renewed.status == "active"
    assert renewed.valid_until == start + 2 * MONTH
    entitlement = await orders.get_instance_entitlement(base.instance_id)
    assert entitlement.entitlements == {"devices": 100}


async def test_an_addon_renews_on_its_own_term(orders: LicenseClient, lic: LicenseDriver) -> None:
    base = await minted(lic)
    pack = LicenseView.model_validate(await lic.addon(base.instance_id))

    renewed = await orders.renew(pack.id, renewal(pack))

    assert (renewed.id, renewed.version, renewed.level) == (pack.id, 2, "addon")
    assert (await lic.get(base.id)).json()["version"] == 1


async def test_a_retry_answers_the_same_version_and_another_body_is_refused(
    orders: LicenseClient, lic: LicenseDriver
) -> None:
    base = await minted(lic)
    other = await minted(lic)
    request = renewal(base)
    first = await orders.renew(base.id, request)

    again = await lic.client.post(
        f"/v1/internal/licenses/{base.id}/renewals",
        json=request.model_dump(mode="json"),
        headers=lic.service,
    )
    longer = request.model_copy(update={"valid_until": request.valid_until + MONTH})

    assert again.status_code == 200
    assert LicenseView.model_validate(again.json()) == first
    assert await refusal(orders.renew(base.id, longer)) == (409, ORDER_LICENSE_CONFLICT)
    assert await refusal(orders.renew(other.id, renewal(other, request.order_id))) == (
        409,
        ORDER_LICENSE_CONFLICT,
    )


async def test_a_term_is_renewed_by_one_order(orders: LicenseClient, lic: LicenseDriver) -> None:
    base = await minted(lic)
    await orders.renew(base.id, renewal(base))

    assert await refusal(orders.renew(base.id, renewal(base))) == (409, TERM_MISMATCH)


async def test_refusals(orders: LicenseClient, lic: LicenseDriver) -> None:
    permanent = await minted(lic, valid_until=None)
    pending = await minted(lic, requires_acceptance=True)
    revoked = await minted(lic)
    await lic.revoke(revoked.order_id)
    term = RenewalRequest(order_id=new_id("ord"), term_end=now(), valid_until=now() + MONTH)

    assert await refusal(orders.renew(permanent.id, term)) == (422, NOT_RENEWABLE)
    assert await refusal(orders.renew(pending.id, renewal(pending))) == (409, ACCEPTANCE_PENDING)
    assert await refusal(orders.renew(revoked.id, renewal(revoked))) == (
        409,
        LICENSE_NOT_RENEWABLE,
    )
    assert await refusal(orders.renew("lic_nothere000000000000000", term)) == (
        404,
        LICENSE_NOT_FOUND,
    )


async def test_bad_bodies_are_422_and_only_orders_may_call(
    lic: LicenseDriver, keys: TestKeys
) -> None:
    base = await lic.base()
    path = f"/v1/internal/licenses/{base['id']}/renewals"
    end = datetime.fromisoformat(base["valid_until"])
    body = {"order_id": new_id("ord"), "term_end": end.isoformat()}

    backwards = await lic.client.post(
        path, json={**body, "valid_until": (end - MONTH).isoformat()}, headers=lic.service
    )
    naive = await lic.client.post(
        path, json={**body, "valid_until": "2030-01-01T00:00:00"}, headers=lic.service
    )
    customer = await lic.client.post(
        path, json={**body, "valid_until": (end + MONTH).isoformat()}, headers=lic.customer
    )
    review = await lic.client.post(
        path,
        json={**body, "valid_until": (end + MONTH).isoformat()},
        headers=keys.headers("service", "review", to="license"),
    )

    assert (backwards.status_code, naive.status_code) == (422, 422)
    assert backwards.json()["code"] == "validation_error"
    assert (customer.status_code, review.status_code) == (403, 401)


async def test_concurrent_calls_with_one_order_make_one_version(
    orders: LicenseClient, lic: LicenseDriver
) -> None:
    base = await minted(lic)
    request = renewal(base)

    answers = await asyncio.gather(*(orders.renew(base.id, request) for _ in range(6)))

    assert {(a.version, a.valid_until) for a in answers} == {(2, request.valid_until)}
    history = (await lic.get(base.id)).json()["history"]
    assert [v["version"] for v in history] == [1, 2]


async def test_concurrent_orders_for_one_term_renew_it_once(
    orders: LicenseClient, lic: LicenseDriver
) -> None:
    base = await minted(lic)

    answers = await asyncio.gather(
        *(orders.renew(base.id, renewal(base)) for _ in range(6)), return_exceptions=True
    )

    renewed = [a for a in answers if isinstance(a, LicenseView)]
    refused = [a for a in answers if isinstance(a, UpstreamProblem)]
    assert len(renewed) == 1
    assert {r.upstream_code for r in refused} == {TERM_MISMATCH}
    assert len(refused) == 5
