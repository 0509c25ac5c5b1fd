"""The catalog's OpenAPI document: the codes its edit routes document (tests/openapi checks
what every service's document must have)."""

import httpx

from shared.problems import PROBLEM_MEDIA_TYPE


async def test_edit_routes_document_the_lock_and_their_own_codes(
    catalog: httpx.AsyncClient,
) -> None:
    paths = (await catalog.get("/openapi.json")).json()["paths"]

    delete_plan = paths["/v1/products/{product_id}/draft/plans/{plan_id}"]["delete"]["responses"]
    conflicts = set(delete_plan["409"]["content"][PROBLEM_MEDIA_TYPE]["examples"])
    assert {"draft_locked", "live_plan_not_deletable", "plan_in_use"} <= conflicts
    upload = paths["/v1/documents"]["post"]["responses"]
    assert {"201", "401", "403", "413", "415", "422"} <= set(upload)
    freeze = paths["/v1/internal/products/{product_id}/freeze"]["post"]["responses"]
    assert "draft_invalid" in freeze["422"]["content"][PROBLEM_MEDIA_TYPE]["examples"]
