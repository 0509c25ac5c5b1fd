"""The submission state machine.

    pending --claim--> in_review --approve--> approved
       |                   \\--reject---> rejected
       \\--withdraw--> withdrawn

`freezing` is internal: the submission exists while the catalog freezes the draft, and is
never shown; nor is `expired`, what a `freezing` submission becomes when its submit died
(its id is never used again, so a late freeze for it can't be mistaken for a live one).

The database applies each move as a conditional update from `ALLOWED_FROM`, so two racing
moves (a claim and a withdrawal) can't both win; `refusal` names why one lost.
"""

from enum import StrEnum

from services.review.errors import (
    AlreadyClaimedError,
    NotClaimantError,
    NotClaimedError,
    ReviewInProgressError,
    SubmissionClosedError,
)
from shared.problems import ProblemError


class Status(StrEnum):
    freezing = "freezing"
    expired = "expired"
    pending = "pending"
    in_review = "in_review"
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"


class Action(StrEnum):
    withdraw = "withdraw"
    claim = "claim"
    approve = "approve"
    reject = "reject"


OPEN = frozenset({Status.freezing, Status.pending, Status.in_review})
VISIBLE = frozenset(Status) - {Status.freezing, Status.expired}

ALLOWED_FROM: dict[Action, Status] = {
    Action.withdraw: Status.pending,
    Action.claim: Status.pending,
    Action.approve: Status.in_review,
    Action.reject: Status.in_review,
}

RESULT: dict[Action, Status] = {
    Action.withdraw: Status.withdrawn,
    Action.claim: Status.in_review,
    Action.approve: Status.approved,
    Action.reject: Status.rejected,
}


def refusal(action: Action, status: Status, *, claimant: bool = True) -> ProblemError:
    """Why `action` can't happen to a submission in `status`.

    `claimant` tells, for a decision on a claimed submission, whether the caller claimed it.
    """
    if status not in OPEN:
        return SubmissionClosedError(f"The submission is {status.value}.")
    if action is Action.withdraw:
        return ReviewInProgressError("Ask the reviewer, or wait for the decision.")
    if action is Action.claim:
        return AlreadyClaimedError("Another reviewer is on it.")
    if status is Status.pending:
        return NotClaimedError("POST …/claim first.")
    if not claimant:
        return NotClaimantError("Another reviewer claimed this submission.")
    return SubmissionClosedError(f"The submission is {status.value}.")
