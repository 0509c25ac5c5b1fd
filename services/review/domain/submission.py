"""The submission state machine.

    pending --claim--> in_review --approve--> approved
       |                   \\--reject---> rejected
       \\--withdraw--> withdrawn

`freezing` is internal: the submission exists while the catalog freezes the draft, and is
never shown; nor is `expired`, what a `freezing` submission becomes when its submit died
(its id is never used again, so a late freeze for it can't be mistaken for a live one).

Who may do what: the partner who owns a submission withdraws it; a reviewer claims it; only
the reviewer who claimed it decides it (approves or rejects). Partners see their own
submissions, reviewers and services every one (`may_see`).

`transition` is the machine itself. The database applies each move as a conditional update
from `ALLOWED_FROM` as well, so two racing moves (a claim and a withdrawal) can't both win;
`refusal` names why one lost.
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
    """Where a submission is in its review."""

    freezing = "freezing"
    expired = "expired"
    pending = "pending"
    in_review = "in_review"
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"


class Action(StrEnum):
    """A move someone makes on a submission."""

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


# What each move writes on the submission's timeline.
EVENT: dict[Action, str] = {
    Action.withdraw: "withdrawn",
    Action.claim: "claimed",
    Action.approve: "approved",
    Action.reject: "rejected",
}

# The moves only the submission's owner may make (to anyone else it does not exist).
OWNER_MOVES = frozenset({Action.withdraw})
# The moves only the reviewer who claimed the submission may make.
CLAIMANT_MOVES = frozenset({Action.approve, Action.reject})


def transition(action: Action, status: Status, *, claimant: bool = True) -> Status:
    """The status `action` takes a submission in `status` to; raises `refusal` if it can't.

    `claimant` tells, for a decision, whether the one deciding claimed the submission.
    """
    if status != ALLOWED_FROM[action] or (action in CLAIMANT_MOVES and not claimant):
        raise refusal(action, status, claimant=claimant)
    return RESULT[action]


def may_see(status: Status, owner_id: str, *, viewer_role: str, viewer_id: str) -> bool:
    """Whether a viewer (by role and id) may see a submission: its owner, reviewers, services.

    A submission still `freezing`, or `expired`, is seen by no one.
    """
    if status not in VISIBLE:
        return False
    if viewer_role == "partner":
        return owner_id == viewer_id
    return viewer_role in ("reviewer", "service")


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
