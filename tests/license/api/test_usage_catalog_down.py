"""Usage reporting does not depend on the catalog: when it is down, suggestions are missing."""

from tests.license.factories import LicenseDriver


async def test_usage_is_answered_without_suggestions_when_catalog_is_down(
    lic: LicenseDriver,
) -> None:
    base = await lic.base()

    response = await lic.client.post(
        f"/v1/instances/{base['instance_id']}/usage",
        json={"metric": "devices", "value": 130},
        headers=lic.partner,
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["limit"], body["exceeded"]) == (100, True)
    assert body["suggestions"] == []
    assert body["suggestions_available"] is False
