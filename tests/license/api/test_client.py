"""The typed client orders uses, against the real app in-process."""

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.license.client import LicenseClient, LicenseView, MintRequest, UpstreamProblem
from services.license.domain.model import Level
from shared.auth import ServiceTokenSource
from tests.conftest import TestKeys
from tests.license.factories import ADDON, CUSTOMER, PARTNER, PLAN, PRODUCT, now


@pytest.fixture
async def client(license_app: FastAPI, keys: TestKeys) -> AsyncIterator[LicenseClient]:
    tokens = ServiceTokenSource(keys.services["orders"].private, service_name="orders")
    transport = httpx.ASGITransport(app=license_app)
    async with httpx.AsyncClient(transport=transport) as http:
        yield LicenseClient(http, "http://license.test", tokens)


async def test_the_orders_journey_through_the_client(client: LicenseClient) -> None:
    start = now()
    common: dict[str, Any] = {
        "instance_id": "ins_client0000000000000001",
        "customer_id": CUSTOMER,
        "partner_id": PARTNER,
        "product_id": PRODUCT,
        "valid_from": start,
        "valid_until": start + timedelta(days=30),
        "requires_acceptance": True,
        "acceptance_days": 14,
    }
    base_request = MintRequest(
        order_id="ord_1", level=Level.base, plan_id=PLAN, entitlements={"devices": 100}, **common
    )
    base = await client.mint(base_request)
    again = await client.mint(base_request)
    pack = await client.mint(
        MintRequest(
            order_id="ord_2",
            level=Level.addon,
            addon_id=ADDON,
            quantity=3,
            entitlements={"devices": 300},
            **common,
        )
    )

    assert again == base
    assert (base.mode, base.status, pack.parent_id) == ("acceptance", "active", base.id)

    accepted = await client.accept("ord_1", accepted_at=start + timedelta(hours=1))
    assert (accepted.mode, accepted.version) == ("subscription", 2)

    entitlement = await client.get_instance_entitlement(base.instance_id)
    assert entitlement.entitlements == {"devices": 400}
    assert entitlement.licenses == [base.id, pack.id]

    revoked = await client.revoke("ord_2", "refund")
    assert revoked.status == "revoked"
    listed = await client.list_instance_licenses(base.instance_id)
    assert [(lic.id, lic.status) for lic in listed] == [(base.id, "active"), (pack.id, "revoked")]


async def test_refusals_carry_the_upstream_code(client: LicenseClient) -> None:
    with pytest.raises(UpstreamProblem) as refused:
        await client.mint(
            MintRequest(
                order_id="ord_9",
                instance_id="ins_none",
                customer_id=CUSTOMER,
                partner_id=PARTNER,
                product_id=PRODUCT,
                level=Level.addon,
                addon_id=ADDON,
                entitlements={"devices": 100},
                valid_from=now(),
                valid_until=None,
            )
        )

    assert refused.value.upstream_status == 409
    assert refused.value.upstream_code == "base_license_missing"


async def test_mint_takes_the_wire_contracts_request(client: LicenseClient) -> None:
    start = now()
    request = MintRequest(
        order_id="ord_3",
        instance_id="ins_client0000000000000003",
        customer_id=CUSTOMER,
        partner_id=PARTNER,
        product_id=PRODUCT,
        level=Level.base,
        plan_id=PLAN,
        entitlements={"devices": 100},
        valid_from=start,
        valid_until=start + timedelta(days=30),
    )

    minted = await client.mint(request)
    again = await client.mint(request)

    assert isinstance(minted, LicenseView)
    assert (minted.level, minted.plan_id, minted.mode) == ("base", PLAN, "subscription")
    assert again == minted
