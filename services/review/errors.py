"""The review service's problems: each with its HTTP status and stable `code`."""

from shared.problems import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ServiceUnavailableError,
    ValidationProblem,
)


class SubmissionNotFoundError(NotFoundError):
    code = "submission_not_found"
    title = "Submission not found"


class UnknownProductError(ValidationProblem):
    code = "unknown_product"
    title = "No product of yours has this id"


class SubmissionInvalidError(ValidationProblem):
    code = "submission_invalid"
    title = "The draft can't be submitted; see `errors`"


class SubmissionOpenError(ConflictError):
    code = "submission_open"
    title = "The product already has an open submission"


class ReviewInProgressError(ConflictError):
    code = "review_in_progress"
    title = "A reviewer has claimed the submission; it can't be withdrawn"


class AlreadyClaimedError(ConflictError):
    code = "already_claimed"
    title = "Another reviewer has claimed the submission"


class NotClaimedError(ConflictError):
    code = "not_claimed"
    title = "Claim the submission before deciding it"


class SubmissionClosedError(ConflictError):
    code = "submission_closed"
    title = "The submission is already decided or withdrawn"


class NotClaimantError(ForbiddenError):
    code = "not_claimant"
    title = "Only the reviewer who claimed the submission decides it"


class SubmissionExpiredError(ServiceUnavailableError):
    code = "submission_expired"
    title = "The submission was given up while the catalog froze it; submit again"
