"""Only orders mints, accepts and revokes licenses, with orders' own key (issue 10, finding 6).

A token from the user issuer can't pass as a service (whoever holds the issuer key could mint
licenses); review's service key can't mint; a token orders got for catalog can't be replayed
here; and orders' token opens the internal routes only.
"""

import pytest

from shared.auth import Role, issue_access_token
from shared.settings import API_AUDIENCE, DEV_ISSUER
from tests.conftest import TestKeys
from tests.license.factories import LicenseDriver, base_body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_orders_own_token_mints(lic: LicenseDriver) -> None:
    response = await lic.client.post("/v1/internal/licenses", json=base_body(), headers=lic.service)

    assert response.status_code == 201


async def test_a_user_issuer_token_claiming_the_service_role_is_refused(
    lic: LicenseDriver, keys: TestKeys
) -> None:
    forged = issue_access_token(
        keys.private, issuer=DEV_ISSUER, audience=API_AUDIENCE, sub="orders", role=Role.service
    )

    response = await lic.client.post(
        "/v1/internal/licenses", json=base_body(), headers=bearer(forged)
    )

    assert (response.status_code, response.json()["code"]) == (401, "invalid_token")


@pytest.mark.parametrize(
    ("caller", "to"), [("review", "license"), ("review", "catalog"), ("orders", "catalog")]
)
async def test_other_service_tokens_are_refused(
    lic: LicenseDriver, keys: TestKeys, caller: str, to: str
) -> None:
    response = await lic.client.post(
        "/v1/internal/licenses", json=base_body(), headers=keys.headers("service", caller, to=to)
    )

    assert (response.status_code, response.json()["code"]) == (401, "invalid_token")


@pytest.mark.parametrize("role", ["partner", "customer", "reviewer"])
async def test_user_tokens_are_refused_on_internal_routes(lic: LicenseDriver, role: str) -> None:
    base = await lic.base()
    headers = lic.as_(role, "acme")

    responses = [
        await lic.client.post("/v1/internal/licenses", json=base_body(), headers=headers),
        await lic.client.post(
            f"/v1/internal/orders/{base['order_id']}/license/revoke",
            json={"reason": "Refund."},
            headers=headers,
        ),
        await lic.client.get(
            f"/v1/internal/instances/{base['instance_id']}/entitlement", headers=headers
        ),
    ]

    assert [r.status_code for r in responses] == [403] * 3
