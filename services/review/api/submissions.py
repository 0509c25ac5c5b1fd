"""Routes for submissions: submit, list, read, withdraw, claim, approve, reject."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from services.review.api.deps import Idempotency, Review
from services.review.api.schemas import (
    RejectRequest,
    SubmissionCreate,
    SubmissionDetailView,
    SubmissionView,
)
from services.review.domain.submission import Status
from services.review.errors import (
    AlreadyClaimedError,
    NotClaimantError,
    NotClaimedError,
    ReviewInProgressError,
    SubmissionClosedError,
    SubmissionInvalidError,
    SubmissionNotFoundError,
    SubmissionOpenError,
    UnknownProductError,
)
from shared.auth import Principal, Role
from shared.http import UpstreamUnavailableError
from shared.idempotency import (
    IdempotencyInProgressError,
    IdempotencyKey,
    IdempotencyKeyReusedError,
    idempotent_response,
)
from shared.ids import new_id
from shared.pagination import Page, PageRequest, build_page, page_request
from shared.problems import InvalidCursorError, ValidationProblem, problem_responses
from shared.security import AUTH_ERRORS, Partner, Reviewer, require

router = APIRouter(prefix="/v1/submissions", tags=["submissions"])

SubmissionId = Annotated[str, Path(max_length=64)]
PartnerOrReviewer = Annotated[Principal, Depends(require(Role.partner, Role.reviewer))]
DECISION_ERRORS = (
    *AUTH_ERRORS,
    SubmissionNotFoundError,
    NotClaimantError,
    NotClaimedError,
    SubmissionClosedError,
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Submit a product's draft for review",
    description="Freezes the draft into the next revision and locks it until the submission "
    "is withdrawn, rejected or approved. `changes` lists what differs from the live "
    "revision. Every validation problem comes back at once (422 `submission_invalid`). "
    "Send an `Idempotency-Key` to retry safely.",
    operation_id="createSubmission",
    response_model=SubmissionView,
    responses=problem_responses(
        *AUTH_ERRORS,
        ValidationProblem,
        UnknownProductError,
        SubmissionInvalidError,
        IdempotencyKeyReusedError,
        SubmissionOpenError,
        IdempotencyInProgressError,
        UpstreamUnavailableError,
    ),
)
async def create_submission(
    body: SubmissionCreate,
    partner: Partner,
    review: Review,
    idempotency: Idempotency,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    async def work(submission_id: str) -> SubmissionView:
        row = await review.submit(partner, body.product_id, body.note, submission_id)
        return SubmissionView.of(row)

    return await idempotent_response(
        idempotency,
        caller=partner,
        key=idempotency_key,
        request=("POST", "/v1/submissions", body.model_dump(mode="json")),
        new_resource_id=new_id("sub"),
        status_code=status.HTTP_201_CREATED,
        work=work,
    )


@router.get(
    "",
    summary="List submissions, oldest first",
    description="A partner sees their own; a reviewer sees all. `status=pending` is the "
    "reviewers' queue.",
    operation_id="listSubmissions",
    responses=problem_responses(*AUTH_ERRORS, ValidationProblem, InvalidCursorError),
)
async def list_submissions(
    principal: PartnerOrReviewer,
    review: Review,
    page: Annotated[PageRequest, Depends(page_request)],
    status_: Annotated[Status | None, Query(alias="status")] = None,
    product_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[SubmissionView]:
    if status_ is Status.freezing:
        return Page(items=[], next_cursor=None)
    rows = await review.search(principal, page, status=status_, product_id=product_id)
    items, cursor = build_page(rows, page, lambda r: (r.submitted_at, r.id))
    return Page(items=[SubmissionView.of(r) for r in items], next_cursor=cursor)


@router.get(
    "/{submission_id}",
    summary="Read a submission with its frozen snapshot and timeline",
    description="A partner reads the submissions of its own products, a reviewer any (others "
    "get 404). `snapshot` is the revision as submitted, `timeline` every event (submitted, "
    "claimed, approved, …) with who and when, `publication` whether an approval is live yet.",
    operation_id="getSubmission",
    responses=problem_responses(*AUTH_ERRORS, SubmissionNotFoundError),
)
async def get_submission(
    submission_id: SubmissionId, principal: PartnerOrReviewer, review: Review
) -> SubmissionDetailView:
    row, events = await review.get(principal, submission_id)
    return SubmissionDetailView.full(row, events)


@router.post(
    "/{submission_id}/withdraw",
    summary="Withdraw a pending submission (partner)",
    description="Only while no reviewer has claimed it (409 `review_in_progress` after). "
    "The draft unlocks.",
    operation_id="withdrawSubmission",
    responses=problem_responses(
        *AUTH_ERRORS, SubmissionNotFoundError, ReviewInProgressError, SubmissionClosedError
    ),
)
async def withdraw(submission_id: SubmissionId, partner: Partner, review: Review) -> SubmissionView:
    decision = await review.withdraw(partner, submission_id)
    return SubmissionView.of(decision.submission)


@router.post(
    "/{submission_id}/claim",
    summary="Claim a pending submission for review (reviewer)",
    description="From now on only this reviewer decides it and the partner can't withdraw it.",
    operation_id="claimSubmission",
    responses=problem_responses(
        *AUTH_ERRORS, SubmissionNotFoundError, AlreadyClaimedError, SubmissionClosedError
    ),
)
async def claim(submission_id: SubmissionId, reviewer: Reviewer, review: Review) -> SubmissionView:
    return SubmissionView.of(await review.claim(reviewer, submission_id))


@router.post(
    "/{submission_id}/approve",
    summary="Approve a claimed submission: the revision goes live at once",
    description="`publication.state` is `live` when the catalog published it during this "
    "call, `pending` if the catalog was unreachable: the decision is recorded and the "
    "revision is published as soon as the catalog answers.",
    operation_id="approveSubmission",
    responses=problem_responses(*DECISION_ERRORS),
)
async def approve(
    submission_id: SubmissionId, reviewer: Reviewer, review: Review
) -> SubmissionView:
    decision = await review.approve(reviewer, submission_id)
    return SubmissionView.of(decision.submission)


@router.post(
    "/{submission_id}/reject",
    summary="Reject a claimed submission with a reason and per-field notes",
    description="The draft unlocks; the partner sees the reason and notes on the submission.",
    operation_id="rejectSubmission",
    responses=problem_responses(*DECISION_ERRORS, ValidationProblem),
)
async def reject(
    submission_id: SubmissionId, body: RejectRequest, reviewer: Reviewer, review: Review
) -> SubmissionView:
    notes = [n.model_dump() for n in body.notes]
    decision = await review.reject(reviewer, submission_id, body.reason, notes)
    return SubmissionView.of(decision.submission)
