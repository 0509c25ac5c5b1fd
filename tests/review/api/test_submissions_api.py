"""The listing review over the API: submit, withdraw, claim, approve, reject, against the
real catalog app in-process."""

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from services.review.api.deps import runtime_of
from services.review.db.models import outbox
from shared.auth import Principal, Role
from shared.clock import utcnow
from tests.catalog.factories import CatalogDriver
from tests.plugins.review import CatalogLink
from tests.review.factories import ReviewDriver


async def test_submit_freezes_the_draft_and_lists_the_changes(
    catalog_driver: CatalogDriver, review_driver: ReviewDriver, catalog: httpx.AsyncClient
) -> None:
    product, plan, addon = await catalog_driver.listing()

    submission = await review_driver.submitted(product["id"])

    assert submission["id"].startswith("sub_")
    assert submission["status"] == "pending"
    assert submission["revision"] == 1
    paths = {c["path"] for c in submission["changes"]}
    assert {"product", f"plans/{plan['id']}", f"addons/{addon['id']}"} <= paths
    edit = await catalog.patch(
        f"/v1/products/{product['id']}/draft", json={"name": "Other"}, headers=catalog_driver.auth
    )
    assert edit.status_code == 409
    assert edit.json()["code"] == "draft_locked"


async def test_submission_detail_has_snapshot_and_timeline(
    catalog_driver: CatalogDriver, review_driver: ReviewDriver, review: httpx.AsyncClient
) -> None:
    product, _, _ = await catalog_driver.listing()
    submission = await review_driver.submitted(product["id"])

    detail = (
        await review.get(f"/v1/submissions/{submission['id']}", headers=review_driver.as_partner())
    ).json()

    assert detail["snapshot"]["product_id"] == product["id"]
    assert [e["kind"] for e in detail["timeline"]] == ["submitted"]
    assert detail["timeline"][0]["actor_id"] == "acme"


async def test_invalid_draft_returns_every_problem_and_leaves_no_submission(
    catalog_driver: CatalogDriver,
    review_driver: ReviewDriver,
    review: httpx.AsyncClient,
    catalog: httpx.AsyncClient,
) -> None:
    product = await catalog_driver.product(product_type="saas")
    await catalog_driver.addon(product["id"], entitlements={"seats": 5})

    response = await review_driver.submit(product["id"])

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "submission_invalid"
    types = {e["type"] for e in body["errors"]}
    assert {"no_plan", "agreement_missing", "unknown_dimension"} <= types
    listed = await review.get("/v1/submissions", headers=review_driver.as_partner())
    assert listed.json()["items"] == []
    draft = await catalog.get(f"/v1/products/{product['id']}/draft", headers=catalog_driver.auth)
    assert draft.json()["locked"] is False


async def test_unknown_or_foreign_product_is_refused(
    catalog_driver: CatalogDriver, review_driver: ReviewDriver, review: httpx.AsyncClient
) -> None:
    product, _, _ = await catalog_driver.listing()

    foreign = await review.post(
        "/v1/submissions",
        json={"product_id": product["id"]},
        headers=review_driver.as_partner("globex"),
    )
    unknown = await review_driver.submit("prd_doesnotexist")

    assert (foreign.status_code, foreign.json()["code"]) == (422, "unknown_product")
    assert (unknown.status_code, unknown.json()["code"]) == (422, "unknown_product")
    # The owner is not blocked by the foreign attempt.
    assert (await review_driver.submit(product["id"])).status_code == 201


async def test_one_open_submission_per_product(
    catalog_driver: CatalogDriver, review_driver: ReviewDriver
) -> None:
    product, _, _ = await catalog_driver.listing()
    await review_driver.submitted(product["id"])

    again = await review_driver.submit(product["id"])

    assert again.status_code == 409
    assert again.json()["code"] == "submission_open"


async def test_withdraw_unlocks_and_resubmission_makes_the_next_revision(
    catalog_driver: CatalogDriver,
    review_driver: ReviewDriver,
    catalog: httpx.AsyncClient,
) -> None:
    product, _, _ = await catalog_driver.listing()
    first = await review_driver.submitted(product["id"])

    withdrawn = await review_driver.withdraw(first["id"])

    assert withdrawn.status_code == 200
    assert withdrawn.json()["status"] == "withdrawn"
    edit = await catalog.patch(
        f"/v1/products/{product['id']}/draft",
        json={"name": "FleetOTA+"},
        headers=catalog_driver.auth,
    )
    assert edit.status_code == 200
    second = await review_driver.submitted(product["id"])
    assert second["revision"] == 2
    assert (await review_driver.withdraw(first["id"])).json()["code"] == "submission_closed"


async def test_claimed_submission_cannot_be_withdrawn(
    catalog_driver: CatalogDriver, review_driver: ReviewDriver
) -> None:
    product, _, _ = await catalog_driver.listing()
    submission = await review_driver.submitted(product["id"])
    assert (await review_driver.claim(submission["id"])).json()["status"] == "in_review"

    response = await review_driver.withdraw(submission["id"])

    assert response.status_code == 409
    assert response.json()["code"] == "review_in_progress"


async def test_approval_makes_the_product_live_at_once(
    catalog_driver: CatalogDriver,
    review_driver: ReviewDriver,
    catalog: httpx.AsyncClient,
    review: httpx.AsyncClient,
) -> None:
    product, _, addon = await catalog_driver.listing()
    submission = await review_driver.submitted(product["id"])
    await review_driver.claim(submission["id"])

    approved = await review_driver.approve(submission["id"])

    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert approved.json()["publication"]["state"] == "live"
    live = await catalog.get(f"/v1/products/{product['id']}")
    assert live.status_code == 200
    assert live.json()["addons"][0]["id"] == addon["id"]
    draft = await catalog.get(f"/v1/products/{product['id']}/draft", headers=catalog_driver.auth)
    assert draft.json()["locked"] is False
    timeline = (
        await review.get(f"/v1/submissions/{submission['id']}", headers=review_driver.as_reviewer())
    ).json()["timeline"]
    assert [e["kind"] for e in timeline] == ["submitted", "claimed", "approved", "published"]


async def test_only_the_claiming_reviewer_decides(
    catalog_driver: CatalogDriver, review_driver: ReviewDriver
) -> None:
    product, _, _ = await catalog_driver.listing()
    submission = await review_driver.submitted(product["id"])

    unclaimed = await review_driver.approve(submission["id"])
    await review_driver.claim(submission["id"], "rita")
    other_claim = await review_driver.claim(submission["id"], "sam")
    other_decision = await review_driver.approve(submission["id"], "sam")

    assert (unclaimed.status_code, unclaimed.json()["code"]) == (409, "not_claimed")
    assert (other_claim.status_code, other_claim.json()["code"]) == (409, "already_claimed")
    assert (other_decision.status_code, other_decision.json()["code"]) == (403, "not_claimant")
    assert (await review_driver.approve(submission["id"], "rita")).status_code == 200
    again = await review_driver.approve(submission["id"], "rita")
    assert (again.status_code, again.json()["code"]) == (409, "submission_closed")


async def test_rejection_unlocks_and_shows_reason_and_notes_to_the_partner(
    catalog_driver: CatalogDriver,
    review_driver: ReviewDriver,
    review: httpx.AsyncClient,
    catalog: httpx.AsyncClient,
) -> None:
    product, _, addon = await catalog_driver.listing()
    submission = await review_driver.submitted(product["id"])
    await review_driver.claim(submission["id"])
    notes = [{"field": f"addons/{addon['id']}/name", "message": "Say what a pack adds."}]

    rejected = await review_driver.act(
        submission["id"],
        "reject",
        review_driver.as_reviewer(),
        reason="Unclear add-on",
        notes=notes,
    )

    assert rejected.status_code == 200
    seen = (
        await review.get(f"/v1/submissions/{submission['id']}", headers=review_driver.as_partner())
    ).json()
    assert seen["status"] == "rejected"
    assert seen["reason"] == "Unclear add-on"
    assert seen["notes"] == notes
    draft = await catalog.get(f"/v1/products/{product['id']}/draft", headers=catalog_driver.auth)
    assert draft.json()["locked"] is False
    assert (await catalog.get(f"/v1/products/{product['id']}")).status_code == 404


async def test_roles_and_visibility(
    catalog_driver: CatalogDriver, review_driver: ReviewDriver, review: httpx.AsyncClient
) -> None:
    product, _, _ = await catalog_driver.listing()
    submission = await review_driver.submitted(product["id"])
    path = f"/v1/submissions/{submission['id']}"

    assert (await review.get(path)).status_code == 401
    assert (await review.get(path, headers=review_driver.as_partner("globex"))).status_code == 404
    customer = review_driver.keys.headers("customer", "cu_1")
    assert (await review.get(path, headers=customer)).status_code == 403
    for action in ("claim", "approve"):
        as_partner = await review_driver.act(submission["id"], action, review_driver.as_partner())
        assert as_partner.status_code == 403
    reject = await review_driver.act(submission["id"], "reject", customer, reason="x", notes=[])
    assert reject.status_code == 403
    foreign_withdraw = await review_driver.act(
        submission["id"], "withdraw", review_driver.as_partner("globex")
    )
    assert foreign_withdraw.status_code == 404
    own = await review.get("/v1/submissions", headers=review_driver.as_partner("globex"))
    assert own.json()["items"] == []


async def test_reviewer_queue_is_pending_oldest_first(
    catalog_driver: CatalogDriver, review_driver: ReviewDriver, review: httpx.AsyncClient
) -> None:
    ids = []
    for name in ("A", "B", "C"):
        product, _, _ = await catalog_driver.listing(name=name)
        ids.append((await review_driver.submitted(product["id"]))["id"])
    await review_driver.claim(ids[1])

    queue = await review.get(
        "/v1/submissions",
        params={"status": "pending", "limit": 1},
        headers=review_driver.as_reviewer(),
    )
    first_page = queue.json()
    second_page = (
        await review.get(
            "/v1/submissions",
            params={"status": "pending", "limit": 1, "cursor": first_page["next_cursor"]},
            headers=review_driver.as_reviewer(),
        )
    ).json()

    assert [s["id"] for s in first_page["items"] + second_page["items"]] == [ids[0], ids[2]]
    assert second_page["next_cursor"] is None


async def test_idempotency_key_replays_and_refuses_reuse(
    catalog_driver: CatalogDriver, review_driver: ReviewDriver
) -> None:
    product, _, _ = await catalog_driver.listing()
    other, _, _ = await catalog_driver.listing(name="Other")

    first = await review_driver.submit(product["id"], key="k-1")
    replay = await review_driver.submit(product["id"], key="k-1")
    reused = await review_driver.submit(other["id"], key="k-1")

    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")


async def test_concurrent_duplicates_with_one_key_make_one_submission(
    catalog_driver: CatalogDriver, review_driver: ReviewDriver, review: httpx.AsyncClient
) -> None:
    product, _, _ = await catalog_driver.listing()

    responses = await asyncio.gather(
        *(review_driver.submit(product["id"], key="same") for _ in range(8))
    )

    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    listed = await review.get("/v1/submissions", headers=review_driver.as_partner())
    assert len(listed.json()["items"]) == 1


async def test_claim_and_withdraw_race_has_exactly_one_winner(
    catalog_driver: CatalogDriver, review_driver: ReviewDriver
) -> None:
    product, _, _ = await catalog_driver.listing()
    for _ in range(15):
        submission = await review_driver.submitted(product["id"])

        claim, withdraw = await asyncio.gather(
            review_driver.claim(submission["id"]), review_driver.withdraw(submission["id"])
        )

        assert sorted([claim.status_code, withdraw.status_code]) == [200, 409]
        if claim.status_code == 200:
            assert withdraw.json()["code"] == "review_in_progress"
            assert (await review_driver.approve(submission["id"])).status_code == 200
        else:
            assert claim.json()["code"] == "submission_closed"


async def test_approval_while_catalog_is_down_goes_live_when_it_is_back(
    catalog_driver: CatalogDriver,
    review_driver: ReviewDriver,
    catalog_link: CatalogLink,
    review_app: FastAPI,
    catalog: httpx.AsyncClient,
) -> None:
    product, _, _ = await catalog_driver.listing()
    submission = await review_driver.submitted(product["id"])
    await review_driver.claim(submission["id"])
    catalog_link.up = False

    approved = await review_driver.approve(submission["id"])

    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert approved.json()["publication"]["state"] == "pending"
    assert (await catalog.get(f"/v1/products/{product['id']}")).status_code == 404
    catalog_link.up = True
    runtime_of(review_app).outbox.base_delay = 0
    for _ in range(50):
        await runtime_of(review_app).outbox.run_once()
        if (await catalog.get(f"/v1/products/{product['id']}")).status_code == 200:
            break
        await _expire_backoff(review_app)
    assert (await catalog.get(f"/v1/products/{product['id']}")).status_code == 200
    assert await runtime_of(review_app).outbox.pending_count() == 0


async def test_submit_while_catalog_is_down_is_503_and_can_be_retried(
    catalog_driver: CatalogDriver, review_driver: ReviewDriver, catalog_link: CatalogLink
) -> None:
    product, _, _ = await catalog_driver.listing()
    catalog_link.up = False

    down = await review_driver.submit(product["id"])

    assert (down.status_code, down.json()["code"]) == (503, "upstream_unavailable")
    catalog_link.up = True
    assert (await review_driver.submit(product["id"])).status_code == 201


async def test_unfinished_submission_expires_and_unlocks_the_draft(
    catalog_driver: CatalogDriver,
    review_driver: ReviewDriver,
    review_app: FastAPI,
    catalog: httpx.AsyncClient,
) -> None:
    product, _, _ = await catalog_driver.listing()
    # A submit that froze the draft in the catalog and then died before recording it:
    service = runtime_of(review_app).review
    service.freeze_grace_seconds = 0
    reserved = await service._reserve(  # the first half of submit
        _partner("acme"), product["id"], None, "sub_crashed"
    )
    frozen = await catalog_driver.freeze(product["id"], reserved.id)
    assert frozen.status_code == 200

    await runtime_of(review_app).outbox.run_once()

    draft = await catalog.get(f"/v1/products/{product['id']}/draft", headers=catalog_driver.auth)
    assert draft.json()["locked"] is False
    assert (await review_driver.submit(product["id"])).status_code == 201


def _partner(sub: str) -> Principal:
    return Principal(sub=sub, role=Role.partner)


async def _expire_backoff(app: FastAPI) -> None:
    """Make every waiting outbox entry due now (the test plays the passing of time)."""
    async with runtime_of(app).db.sessionmaker() as session, session.begin():
        await session.execute(
            update(outbox).where(outbox.c.delivered_at.is_(None)).values(available_at=utcnow())
        )


async def test_a_freeze_that_lands_after_expiry_is_undone(
    catalog_driver: CatalogDriver,
    review_driver: ReviewDriver,
    review_app: FastAPI,
    catalog: httpx.AsyncClient,
) -> None:
    product, _, _ = await catalog_driver.listing()
    service = runtime_of(review_app).review
    service.freeze_grace_seconds = 0
    real_freeze = service.catalog.freeze

    async def slow_freeze(*args: Any, **kwargs: Any) -> Any:
        await runtime_of(review_app).outbox.run_once()  # the grace runs out while the call is slow
        return await real_freeze(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(service.catalog, "freeze", slow_freeze)
        late = await review_driver.submit(product["id"], key="slow")
    service.freeze_grace_seconds = 60

    assert (late.status_code, late.json()["code"]) == (503, "submission_expired")
    draft = await catalog.get(f"/v1/products/{product['id']}/draft", headers=catalog_driver.auth)
    assert draft.json()["locked"] is False
    retry = await review_driver.submit(product["id"], key="slow")
    assert retry.status_code == 201
    assert retry.json()["status"] == "pending"
