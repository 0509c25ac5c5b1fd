"""Minting: one license per order, idempotent even under concurrency; add-ons leave the base
license exactly as it was."""

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from services.license.db.models import InstanceRow, LicenseRow, LicenseVersionRow
from services.license.db.repositories import LicenseRepository
from shared.app import service_state
from tests.license.factories import LicenseDriver, addon_body, base_body


async def test_minting_a_base_license(lic: LicenseDriver) -> None:
    body = base_body()

    minted = await lic.mint(body)

    assert minted["id"].startswith("lic_")
    assert minted["level"] == "base"
    assert minted["parent_id"] is None
    assert minted["plan_id"] == body["plan_id"]
    assert minted["mode"] == "subscription"
    assert minted["status"] == "active"
    assert minted["version"] == 1
    assert minted["token"].count(".") == 2


async def test_minting_again_returns_the_same_license(lic: LicenseDriver) -> None:
    body = base_body()
    first = await lic.mint(body)

    again = await lic.mint_response(body)

    assert again.status_code == 200
    assert again.json() == first


async def test_concurrent_duplicates_mint_one_license(
    lic: LicenseDriver, license_app: FastAPI
) -> None:
    body = base_body()

    responses = await asyncio.gather(*(lic.mint_response(body) for _ in range(6)))

    assert sorted(r.status_code for r in responses) == [200] * 5 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert len({r.json()["token"] for r in responses}) == 1
    async with service_state(license_app).db.sessionmaker() as session:
        rows = (await session.execute(select(LicenseRow))).scalars().all()
    assert len(rows) == 1


@pytest.mark.parametrize("level", ["base", "addon"])
async def test_a_mint_that_loses_the_race_reads_the_winner(
    lic: LicenseDriver, monkeypatch: pytest.MonkeyPatch, level: str
) -> None:
    body = base_body()
    if level == "addon":
        body = addon_body((await lic.mint(body))["instance_id"])
    winner = await lic.mint(body)
    original = LicenseRepository.get_for_order
    calls = 0

    async def blind_first_look(self: LicenseRepository, order_id: str, **kwargs: bool):
        # The first look misses the winner, as it would in a race on PostgreSQL: the insert
        # then hits the unique constraint.
        nonlocal calls
        calls += 1
        return None if calls == 1 else await original(self, order_id, **kwargs)

    monkeypatch.setattr(LicenseRepository, "get_for_order", blind_first_look)
    loser = await lic.mint_response(body)

    assert loser.status_code == 200, loser.text
    assert loser.json()["id"] == winner["id"]


async def test_concurrent_addon_mints_each_get_a_license(lic: LicenseDriver) -> None:
    base = await lic.base()
    bodies = [addon_body(base["instance_id"]) for _ in range(4)]

    responses = await asyncio.gather(*(lic.mint_response(b) for b in bodies))

    assert [r.status_code for r in responses] == [201] * 4
    entitlement = (await lic.entitlement(base["instance_id"])).json()
    assert entitlement["entitlements"] == {"devices": 100 + 4 * 200}


async def test_an_addon_license_names_the_base_as_parent(lic: LicenseDriver) -> None:
    base = await lic.base()

    addon = await lic.addon(base["instance_id"])

    assert addon["level"] == "addon"
    assert addon["parent_id"] == base["id"]
    assert addon["addon_id"].startswith("add_")
    assert addon["plan_id"] is None
    assert addon["quantity"] == 2
    assert addon["entitlements"] == {"devices": 200}


async def test_buying_addons_leaves_the_base_license_byte_identical(
    lic: LicenseDriver, license_app: FastAPI
) -> None:
    base = await lic.base()
    before = await lic.get(base["id"])
    async with service_state(license_app).db.sessionmaker() as session:
        row_before = await _columns(session, LicenseRow, base["id"])
        versions_before = await _versions(session, base["id"])

    await lic.addon(base["instance_id"])
    await lic.addon(base["instance_id"], addon_id="add_hours000000000000000001")

    after = await lic.get(base["id"])
    assert after.content == before.content
    assert after.json()["token"] == base["token"]
    async with service_state(license_app).db.sessionmaker() as session:
        assert await _columns(session, LicenseRow, base["id"]) == row_before
        assert await _versions(session, base["id"]) == versions_before
        instance = await session.get(InstanceRow, base["instance_id"])
        assert instance is not None
        assert instance.version == 3


async def test_an_addon_needs_a_base_license(lic: LicenseDriver) -> None:
    response = await lic.mint_response(addon_body("ins_unknown"))

    assert response.status_code == 409
    assert response.json()["code"] == "base_license_missing"


async def test_an_addon_on_a_revoked_base_is_refused(lic: LicenseDriver) -> None:
    base = await lic.base()
    await lic.revoke(base["order_id"])

    response = await lic.mint_response(addon_body(base["instance_id"]))

    assert response.status_code == 409
    assert response.json()["code"] == "base_license_revoked"


async def test_an_instance_has_one_base_license(lic: LicenseDriver) -> None:
    base = await lic.base()

    response = await lic.mint_response(base_body(instance_id=base["instance_id"]))

    assert response.status_code == 409
    assert response.json()["code"] == "base_license_exists"


@pytest.mark.parametrize(
    "change", [{"product_id": "prd_other"}, {"customer_id": "initech"}, {"partner_id": "umbrella"}]
)
async def test_an_addon_must_match_the_instance(lic: LicenseDriver, change: dict[str, str]) -> None:
    base = await lic.base()

    response = await lic.mint_response(addon_body(base["instance_id"], **change))

    assert response.status_code == 409
    assert response.json()["code"] == "instance_mismatch"


async def test_the_same_order_with_other_terms_is_a_conflict(lic: LicenseDriver) -> None:
    body = base_body()
    await lic.mint(body)

    response = await lic.mint_response({**body, "plan_id": "pln_other"})

    assert response.status_code == 409
    assert response.json()["code"] == "order_license_conflict"


@pytest.mark.parametrize(
    "change",
    [
        {"addon_id": "add_1"},
        {"plan_id": None},
        {"quantity": 2},
        {"valid_until": "2000-01-01T00:00:00Z"},
        {"valid_from": "2026-11-26T08:00:00"},
        {"entitlements": {"Devices!": 1}},
        {"entitlements": {"devices": -1}},
        {"acceptance_days": 91},
        {"level": "gold"},
        {"unknown": 1},
    ],
)
async def test_bad_mint_requests_are_422(lic: LicenseDriver, change: dict[str, object]) -> None:
    response = await lic.mint_response(base_body(**change))

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "validation_error"


async def test_an_addon_request_must_name_an_addon_and_no_plan(lic: LicenseDriver) -> None:
    base = await lic.base()

    with_plan = await lic.mint_response(addon_body(base["instance_id"], plan_id="pln_1"))
    without_addon = await lic.mint_response(addon_body(base["instance_id"], addon_id=None))

    assert (with_plan.status_code, without_addon.status_code) == (422, 422)


@pytest.mark.parametrize("role", ["customer", "partner", "reviewer"])
async def test_only_services_mint(lic: LicenseDriver, role: str) -> None:
    response = await lic.client.post(
        "/v1/internal/licenses", json=base_body(), headers=lic.as_(role, "acme")
    )

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


async def test_minting_needs_a_token(license_client: httpx.AsyncClient) -> None:
    response = await license_client.post("/v1/internal/licenses", json=base_body())

    assert response.status_code == 401


async def _columns(session, model, key) -> dict[str, object]:
    row = await session.get(model, key)
    return {c.key: getattr(row, c.key) for c in model.__table__.columns}


async def _versions(session, license_id: str) -> list[tuple[int, str]]:
    result = await session.execute(
        select(LicenseVersionRow.version, LicenseVersionRow.token).where(
            LicenseVersionRow.license_id == license_id
        )
    )
    return [(v, t) for v, t in result.all()]


@pytest.mark.parametrize(
    "change",
    [
        {"order_id": "ord_\u0000"},
        {"customer_id": "globex\u0000"},
        {"valid_from": "9999-12-31T00:00:00Z", "valid_until": None, "requires_acceptance": True},
        {"valid_from": "0001-01-01T00:00:00Z"},
    ],
)
async def test_odd_input_is_422_on_every_database(
    lic: LicenseDriver, change: dict[str, object]
) -> None:
    response = await lic.mint_response(base_body(**change))

    assert response.status_code == 422, response.text


async def test_odd_ids_in_paths_are_422(lic: LicenseDriver) -> None:
    responses = [
        await lic.get("lic_%00"),
        await lic.entitlement("ins%20x"),
        await lic.accept("ord_%00"),
    ]

    assert [r.status_code for r in responses] == [422, 422, 422]
