"""The OpenAPI document is part of the product: every route summarised and its errors shown."""

import httpx

from services.license.main import MIGRATIONS
from shared.db import head_revision
from shared.problems import PROBLEM_MEDIA_TYPE


async def test_every_operation_has_a_summary_id_tag_and_problem_errors(
    license_client: httpx.AsyncClient,
) -> None:
    schema = (await license_client.get("/openapi.json")).json()

    operations = [op for path in schema["paths"].values() for op in path.values()]
    assert len(operations) >= 15
    for operation in operations:
        assert operation.get("summary"), operation
        assert operation.get("operationId"), operation
        assert operation.get("tags"), operation
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert list(response["content"]) == [PROBLEM_MEDIA_TYPE], (operation, status)


async def test_documented_codes_include_the_license_problems(
    license_client: httpx.AsyncClient,
) -> None:
    schema = (await license_client.get("/openapi.json")).json()
    mint = schema["paths"]["/v1/internal/licenses"]["post"]["responses"]

    examples = mint["409"]["content"][PROBLEM_MEDIA_TYPE]["examples"]
    assert {"base_license_missing", "base_license_revoked", "base_license_exists"} <= set(examples)
    assert {"200", "201"} <= set(mint)


async def test_ready_when_the_schema_is_at_head(license_client: httpx.AsyncClient) -> None:
    response = await license_client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["schema_revision"] == head_revision(MIGRATIONS)
