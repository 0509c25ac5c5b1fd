"""Review's text fields follow shared.text: notes and reasons are text, field paths labels."""

from typing import Any

from tests.catalog.factories import CatalogDriver
from tests.problems import assert_problem
from tests.review.factories import ReviewDriver


async def test_a_rejection_keeps_line_breaks_and_refuses_bidi_overrides(
    catalog_driver: CatalogDriver, review_driver: ReviewDriver
) -> None:
    product, _, _ = await catalog_driver.listing()
    submission = await review_driver.submitted(product["id"])
    assert (await review_driver.claim(submission["id"])).status_code == 200
    reviewer = review_driver.as_reviewer()

    refusals: list[dict[str, Any]] = [
        {"reason": "Looks fine \u202eenod"},
        {"reason": "ok", "notes": [{"field": "name\u200b", "message": "Rename it."}]},
        {"reason": "ok", "notes": [{"field": "name", "message": "Use \u2066this\u2069."}]},
        {"reason": "bell \x07"},
    ]
    for body in refusals:
        response = await review_driver.act(submission["id"], "reject", reviewer, **body)
        assert_problem(response, 422, "validation_error")

    reason = "The SLA is missing.\r\nSee the template:\tsection 3."
    response = await review_driver.act(
        submission["id"],
        "reject",
        reviewer,
        reason=reason,
        notes=[{"field": "addons/add_x/agreement", "message": "Add the SLA.\nThanks"}],
    )
    assert response.status_code == 200, response.text
    assert response.json()["reason"] == reason


async def test_a_submission_note_with_a_bidi_override_is_refused(
    catalog_driver: CatalogDriver, review_driver: ReviewDriver
) -> None:
    product, _, _ = await catalog_driver.listing()

    response = await review_driver.submit(product["id"], note="First \u202elisting")

    assert_problem(response, 422, "validation_error")
    assert (await review_driver.submit(product["id"], note="First\nlisting")).status_code == 201


async def test_a_token_whose_subject_holds_a_bidi_override_is_refused(
    catalog_driver: CatalogDriver, review_driver: ReviewDriver
) -> None:
    response = await catalog_driver.client.post(
        "/v1/products",
        json={"product_type": "saas", "name": "X", "category": "x", "billing_mode": "free"},
        headers=catalog_driver.keys.headers("partner", "acme\u202eevil"),
    )

    assert_problem(response, 401, "invalid_token")
