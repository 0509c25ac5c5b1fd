"""Acceptance mode: the deadline, its extension by the partner, acceptance by orders."""

from datetime import datetime, timedelta

import jwt

from tests.license.factories import LicenseDriver, addon_body, base_body, now


def deadline_of(license_: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(license_["acceptance_deadline"]))


async def test_a_product_with_acceptance_mints_in_acceptance_mode(lic: LicenseDriver) -> None:
    body = base_body(requires_acceptance=True, acceptance_days=14)

    minted = await lic.mint(body)

    start = datetime.fromisoformat(body["valid_from"])
    assert minted["mode"] == "acceptance"
    assert deadline_of(minted) == start + timedelta(days=14)
    claims = jwt.decode(minted["token"], options={"verify_signature": False})
    assert claims["exp"] == int((start + timedelta(days=14)).timestamp())
    assert claims["lic"]["mode"] == "acceptance"
    assert claims["lic"]["acceptance_deadline"] == claims["exp"]


async def test_addon_licenses_start_in_acceptance_too(lic: LicenseDriver) -> None:
    base = await lic.base(requires_acceptance=True)

    addon = await lic.addon(base["instance_id"], requires_acceptance=True)

    assert addon["mode"] == "acceptance"


async def test_the_partner_extends_the_deadline_as_a_new_version(lic: LicenseDriver) -> None:
    minted = await lic.base(requires_acceptance=True, acceptance_days=14)
    until = deadline_of(minted) + timedelta(days=10)

    response = await lic.extend(minted["id"], until, reason="Test rig delayed")

    assert response.status_code == 201, response.text
    extended = response.json()
    assert extended["version"] == 2
    assert deadline_of(extended) == until
    assert extended["original_acceptance_deadline"] == minted["acceptance_deadline"]
    assert extended["token"] != minted["token"]
    assert [(v["version"], v["change"], v["reason"]) for v in extended["history"]] == [
        (1, "minted", None),
        (2, "extended", "Test rig delayed"),
    ]
    assert extended["history"][1]["details"]["from"] == minted["acceptance_deadline"].replace(
        "Z", "+00:00"
    )
    assert (await lic.verify(extended["token"]))["code"] == "VALID"
    assert (await lic.verify(minted["token"]))["code"] == "SUPERSEDED"


async def test_an_addon_deadline_can_be_extended_too(lic: LicenseDriver) -> None:
    base = await lic.base(requires_acceptance=True)
    addon = await lic.addon(base["instance_id"], requires_acceptance=True)

    response = await lic.extend(addon["id"], deadline_of(addon) + timedelta(days=1))

    assert response.status_code == 201
    assert (await lic.get(base["id"])).json()["version"] == 1


async def test_the_deadline_only_moves_later(lic: LicenseDriver) -> None:
    minted = await lic.base(requires_acceptance=True)

    response = await lic.extend(minted["id"], deadline_of(minted) - timedelta(hours=1))

    assert response.status_code == 422
    assert response.json()["code"] == "extension_not_later"


async def test_at_most_90_days_past_the_original_deadline(lic: LicenseDriver) -> None:
    minted = await lic.base(requires_acceptance=True, valid_until=None)
    original = deadline_of(minted)
    await lic.extend(minted["id"], original + timedelta(days=60))

    at_limit = await lic.extend(minted["id"], original + timedelta(days=90))
    beyond = await lic.extend(minted["id"], original + timedelta(days=90, seconds=1))

    assert at_limit.status_code == 201
    assert beyond.status_code == 422
    assert beyond.json()["code"] == "extension_too_long"


async def test_only_the_owning_partner_extends(lic: LicenseDriver) -> None:
    minted = await lic.base(requires_acceptance=True)
    until = deadline_of(minted) + timedelta(days=1)

    customer = await lic.extend(minted["id"], until, **lic.customer)
    stranger = await lic.extend(minted["id"], until, **lic.as_("partner", "umbrella"))

    assert customer.status_code == 403
    assert stranger.status_code == 404


async def test_no_extension_once_accepted_revoked_or_expired(lic: LicenseDriver) -> None:
    accepted = await lic.base(requires_acceptance=True)
    await lic.accept(accepted["order_id"])
    revoked = await lic.base(requires_acceptance=True)
    await lic.revoke(revoked["order_id"])
    past = now() - timedelta(days=3)
    expired = await lic.base(
        requires_acceptance=True, acceptance_days=1, valid_from=past.isoformat()
    )
    later = now() + timedelta(days=30)

    codes = [
        (await lic.extend(x["id"], later)).json()["code"] for x in (accepted, revoked, expired)
    ]

    assert codes == ["not_in_acceptance", "license_revoked", "license_expired"]


async def test_an_unknown_field_or_naive_time_is_422(lic: LicenseDriver) -> None:
    minted = await lic.base(requires_acceptance=True)

    naive = await lic.client.post(
        f"/v1/licenses/{minted['id']}/acceptance-extensions",
        json={"until": "2030-01-01T00:00:00", "reason": "x"},
        headers=lic.partner,
    )
    blank_reason = await lic.client.post(
        f"/v1/licenses/{minted['id']}/acceptance-extensions",
        json={"until": "2030-01-01T00:00:00Z", "reason": "   "},
        headers=lic.partner,
    )

    assert (naive.status_code, blank_reason.status_code) == (422, 422)


async def test_acceptance_moves_to_the_paid_mode(lic: LicenseDriver) -> None:
    subscription = await lic.base(requires_acceptance=True)
    one_time = await lic.base(requires_acceptance=True, valid_until=None)

    accepted_sub = (await lic.accept(subscription["order_id"])).json()
    accepted_once = (await lic.accept(one_time["order_id"])).json()

    assert (accepted_sub["mode"], accepted_sub["version"]) == ("subscription", 2)
    assert accepted_sub["acceptance_deadline"] is not None
    assert accepted_sub["accepted_at"] is not None
    assert accepted_sub["expires_at"] == subscription["valid_until"]
    assert (accepted_once["mode"], accepted_once["expires_at"]) == ("permanent", None)
    claims = jwt.decode(accepted_once["token"], options={"verify_signature": False})
    assert "exp" not in claims
    assert claims["lic"]["acceptance_deadline"] is None
    assert (await lic.verify(one_time["token"]))["code"] == "SUPERSEDED"


async def test_acceptance_is_idempotent(lic: LicenseDriver) -> None:
    minted = await lic.base(requires_acceptance=True)

    first = await lic.accept(minted["order_id"])
    again = await lic.accept(minted["order_id"])

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()


async def test_a_late_acceptance_is_refused_unless_it_was_made_in_time(lic: LicenseDriver) -> None:
    start = now() - timedelta(days=3)
    late = await lic.base(requires_acceptance=True, acceptance_days=1, valid_from=start.isoformat())
    in_time = await lic.base(
        requires_acceptance=True, acceptance_days=1, valid_from=start.isoformat()
    )

    refused = await lic.accept(late["order_id"])
    delivered_late = await lic.accept(
        in_time["order_id"], accepted_at=(start + timedelta(hours=20)).isoformat()
    )

    assert refused.status_code == 409
    assert refused.json()["code"] == "acceptance_deadline_passed"
    assert delivered_late.status_code == 200
    assert delivered_late.json()["mode"] == "subscription"
    assert delivered_late.json()["status"] == "active"


async def test_a_license_in_acceptance_expires_at_its_deadline(lic: LicenseDriver) -> None:
    start = now() - timedelta(days=3)
    minted = await lic.base(
        requires_acceptance=True, acceptance_days=1, valid_from=start.isoformat()
    )

    assert (await lic.get(minted["id"])).json()["status"] == "expired"
    assert (await lic.verify(minted["token"]))["code"] == "EXPIRED"
    assert (await lic.entitlement(minted["instance_id"])).json()["entitlements"] == {}


async def test_revocation_is_immediate_and_idempotent(lic: LicenseDriver) -> None:
    base = await lic.base()
    addon = await lic.mint(addon_body(base["instance_id"]))

    first = await lic.revoke(addon["order_id"], "refund")
    again = await lic.revoke(addon["order_id"], "another reason")

    assert first.status_code == again.status_code == 200
    assert again.json()["status"] == "revoked"
    assert again.json()["revocation_reason"] == "refund"
    assert again.json()["token"] == addon["token"]
    assert (await lic.verify(addon["token"]))["code"] == "REVOKED"
    assert (await lic.get(base["id"])).json()["status"] == "active"


async def test_accepting_a_revoked_license_is_refused(lic: LicenseDriver) -> None:
    minted = await lic.base(requires_acceptance=True)
    await lic.revoke(minted["order_id"])

    response = await lic.accept(minted["order_id"])

    assert response.status_code == 409
    assert response.json()["code"] == "license_revoked"


async def test_unknown_orders_are_404(lic: LicenseDriver) -> None:
    assert (await lic.accept("ord_nope")).json()["code"] == "license_not_found"
    assert (await lic.revoke("ord_nope")).status_code == 404
