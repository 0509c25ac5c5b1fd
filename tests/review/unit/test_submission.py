"""The submission state machine and who may act on a submission, without any I/O."""

import pytest

from services.review.domain.submission import (
    EVENT,
    OPEN,
    VISIBLE,
    Action,
    Status,
    may_see,
    transition,
)
from services.review.errors import (
    AlreadyClaimedError,
    NotClaimantError,
    NotClaimedError,
    ReviewInProgressError,
    SubmissionClosedError,
)
from shared.problems import ProblemError

CLOSED = [Status.approved, Status.rejected, Status.withdrawn, Status.expired]


@pytest.mark.parametrize(
    ("action", "before", "after"),
    [
        (Action.claim, Status.pending, Status.in_review),
        (Action.withdraw, Status.pending, Status.withdrawn),
        (Action.approve, Status.in_review, Status.approved),
        (Action.reject, Status.in_review, Status.rejected),
    ],
)
def test_the_moves_the_machine_allows(action: Action, before: Status, after: Status) -> None:
    assert transition(action, before) is after


@pytest.mark.parametrize(
    ("action", "status", "refused"),
    [
        (Action.withdraw, Status.in_review, ReviewInProgressError),
        (Action.claim, Status.in_review, AlreadyClaimedError),
        (Action.approve, Status.pending, NotClaimedError),
        (Action.reject, Status.pending, NotClaimedError),
    ],
)
def test_an_open_submission_refuses_a_move_out_of_turn(
    action: Action, status: Status, refused: type[ProblemError]
) -> None:
    with pytest.raises(refused):
        transition(action, status)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("status", CLOSED)
def test_a_closed_submission_refuses_every_move(action: Action, status: Status) -> None:
    with pytest.raises(SubmissionClosedError) as refused:
        transition(action, status)

    assert refused.value.code == "submission_closed"


@pytest.mark.parametrize("action", [Action.approve, Action.reject])
def test_only_the_reviewer_who_claimed_a_submission_decides_it(action: Action) -> None:
    with pytest.raises(NotClaimantError) as refused:
        transition(action, Status.in_review, claimant=False)

    assert refused.value.status == 403
    assert transition(action, Status.in_review, claimant=True) in {
        Status.approved,
        Status.rejected,
    }


@pytest.mark.parametrize("action", [Action.claim, Action.withdraw])
def test_claiming_and_withdrawing_do_not_depend_on_a_claim(action: Action) -> None:
    assert transition(action, Status.pending, claimant=False) is not Status.pending


def test_every_move_names_its_timeline_event() -> None:
    assert {
        Action.withdraw: "withdrawn",
        Action.claim: "claimed",
        Action.approve: "approved",
        Action.reject: "rejected",
    } == EVENT


def test_freezing_holds_the_open_slot_unseen_and_expired_neither() -> None:
    assert Status.freezing not in VISIBLE
    assert Status.expired not in VISIBLE
    assert Status.freezing in OPEN
    assert Status.expired not in OPEN


@pytest.mark.parametrize("status", sorted(VISIBLE))
def test_a_partner_sees_only_their_own_submissions(status: Status) -> None:
    assert may_see(status, "acme", viewer_role="partner", viewer_id="acme")
    assert not may_see(status, "acme", viewer_role="partner", viewer_id="globex")
    assert not may_see(status, "acme", viewer_role="customer", viewer_id="acme")


@pytest.mark.parametrize("role", ["reviewer", "service"])
def test_reviewers_and_services_see_every_visible_submission(role: str) -> None:
    assert may_see(Status.pending, "acme", viewer_role=role, viewer_id="rev")


@pytest.mark.parametrize("status", [Status.freezing, Status.expired])
@pytest.mark.parametrize("role", ["partner", "reviewer", "service"])
def test_no_one_sees_a_submission_being_frozen_or_given_up(status: Status, role: str) -> None:
    assert not may_see(status, "acme", viewer_role=role, viewer_id="acme")
