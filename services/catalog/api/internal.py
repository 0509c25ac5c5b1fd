"""Internal routes that review calls with a service token: freeze, publish, unlock."""

from typing import Annotated

from fastapi import APIRouter, Path

from services.catalog.api.deps import Catalog, FromReview
from services.catalog.api.schemas import (
    FrozenRevisionView,
    PublishedRevisionView,
    UnlockedDraftView,
)
from services.catalog.client import FreezeRequest, UnlockRequest
from services.catalog.errors import (
    DraftInvalidError,
    DraftLockedError,
    ProductNotFoundError,
    RevisionNotFoundError,
    RevisionNotPublishableError,
)
from shared.problems import ValidationProblem, problem_responses
from shared.security import AUTH_ERRORS

router = APIRouter(prefix="/v1/internal/products", tags=["internal"])

ProductId = Annotated[str, Path(max_length=64)]


@router.post(
    "/{product_id}/freeze",
    summary="Freeze the draft into the next revision for a submission",
    description="Runs every validation, the listed-product rules included, and returns all "
    "problems at once (422 `draft_invalid`, each in `errors` with its `loc` and `type`; a "
    "plan's `changes_to` entry at `plans/<id>/changes_to/<index>` as `unknown_plan`, "
    "`self_change` or `duplicate_plan`). On success the draft is locked by the "
    "submission. Idempotent per submission.",
    operation_id="freezeDraft",
    responses=problem_responses(
        *AUTH_ERRORS, ProductNotFoundError, DraftLockedError, DraftInvalidError, ValidationProblem
    ),
)
async def freeze(
    product_id: ProductId, body: FreezeRequest, _review: FromReview, catalog: Catalog
) -> FrozenRevisionView:
    frozen = await catalog.freeze(product_id, body.partner_id, body.submission_id)
    return FrozenRevisionView(
        product_id=product_id,
        revision=frozen.revision,
        snapshot=frozen.snapshot,
        changes=frozen.changes,
        created_at=frozen.created_at,
    )


@router.post(
    "/{product_id}/revisions/{number}/publish",
    summary="Make a revision live and unlock the draft",
    description="Idempotent: publishing a published revision answers as the first time.",
    operation_id="publishRevision",
    responses=problem_responses(
        *AUTH_ERRORS, ProductNotFoundError, RevisionNotFoundError, RevisionNotPublishableError
    ),
)
async def publish(
    product_id: ProductId,
    number: Annotated[int, Path(ge=1, le=1_000_000)],
    _review: FromReview,
    catalog: Catalog,
) -> PublishedRevisionView:
    published = await catalog.publish(product_id, number)
    return PublishedRevisionView(
        product_id=product_id, revision=published.revision, published_at=published.published_at
    )


@router.post(
    "/{product_id}/unlock",
    summary="Unlock the draft held by a rejected or withdrawn submission",
    description="Idempotent; a no-op when another submission (or none) holds the lock.",
    operation_id="unlockDraft",
    responses=problem_responses(*AUTH_ERRORS, ProductNotFoundError, ValidationProblem),
)
async def unlock(
    product_id: ProductId, body: UnlockRequest, _review: FromReview, catalog: Catalog
) -> UnlockedDraftView:
    row = await catalog.unlock(product_id, body.submission_id)
    return UnlockedDraftView(product_id=product_id, locked=row.locked_submission_id is not None)
