"""The review service's use cases.

Submitting freezes the draft in the catalog (an HTTP call) between two short transactions:
the first records the submission as `freezing` (claiming the product's one open slot), the
second makes it `pending` with the frozen revision. A submission left `freezing` by a crash or
an unreachable catalog is resumed by the partner's next submit for that product: freezing is
idempotent per submission id. Decisions are conditional updates (exactly one of two racing
moves wins) committed together with their outbox entry (publish or unlock in the catalog),
which is then delivered at once when the catalog answers, or later by the relay.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.catalog.client import CatalogClient, UpstreamProblem
from services.review.db.models import EventRow, SubmissionRow
from services.review.db.uow import ReviewUnitOfWork
from services.review.domain.submission import (
    ALLOWED_FROM,
    CLAIMANT_MOVES,
    EVENT,
    OWNER_MOVES,
    Action,
    Status,
    may_see,
    refusal,
    transition,
)
from services.review.errors import (
    SubmissionExpiredError,
    SubmissionInvalidError,
    SubmissionNotFoundError,
    SubmissionOpenError,
    UnknownProductError,
)
from shared.auth import Principal, Role
from shared.clock import utcnow
from shared.ids import new_id
from shared.outbox import Outbox
from shared.pagination import PageRequest
from shared.uow import UnitsOfWork

PUBLISH = "catalog.publish"
UNLOCK = "catalog.unlock"
EXPIRE = "submission.expire"
SYSTEM = Principal(sub="review", role=Role.service)


@dataclass(frozen=True, slots=True)
class Decision:
    """A decided submission and whether its effect on the catalog has landed yet."""

    submission: SubmissionRow
    delivered: bool


class ReviewService:
    """Use cases of the review service; each transaction is short and holds no HTTP call."""

    def __init__(
        self,
        uow: UnitsOfWork[ReviewUnitOfWork],
        catalog: CatalogClient,
        outbox: Outbox,
        *,
        freeze_grace_seconds: float = 60.0,
    ) -> None:
        self.uow = uow
        self.catalog = catalog
        # Entries are written through the unit of work; this delivers one at once after commit.
        self.outbox = outbox
        self.freeze_grace_seconds = freeze_grace_seconds

    # -- submitting ----------------------------------------------------------------------

    async def submit(
        self, partner: Principal, product_id: str, note: str | None, submission_id: str
    ) -> SubmissionRow:
        """Submit the product's draft for review as `submission_id` (resumable, idempotent)."""
        submission = await self._reserve(partner, product_id, note, submission_id)
        if submission.status != Status.freezing:
            return submission
        try:
            frozen = await self.catalog.freeze(
                product_id, partner_id=partner.sub, submission_id=submission.id
            )
        except UpstreamProblem as problem:
            await self._abandon(submission.id)
            raise _translate_freeze_problem(problem) from None
        now = utcnow()
        try:
            async with self.uow() as uow:
                row = await uow.submissions.get(submission.id, for_update=True)
                if row is None or row.status == Status.expired:
                    # Our freeze landed after the submission was given up: undo its lock.
                    entry = await uow.outbox.add(
                        UNLOCK, {"submission_id": submission.id, "product_id": product_id}
                    )
                    row = None
                if row is not None and row.status == Status.freezing:
                    row.status = Status.pending
                    row.open_product_id = product_id
                    row.revision = frozen.revision
                    row.snapshot = frozen.snapshot
                    row.changes = [c.model_dump(mode="json") for c in frozen.changes]
                    row.submitted_at = row.updated_at = now
                    await uow.session.flush()
                    await uow.events.add(
                        row.id,
                        "submitted",
                        actor_id=partner.sub,
                        actor_role=partner.role,
                        at=now,
                        details={"revision": frozen.revision, "note": note},
                    )
        except IntegrityError:
            raise SubmissionOpenError("The product already has an open submission.") from None
        if row is None:
            await self.outbox.deliver_now(entry)
            raise SubmissionExpiredError("The submission took too long; submit again.")
        return row

    async def _reserve(
        self, partner: Principal, product_id: str, note: str | None, submission_id: str
    ) -> SubmissionRow:
        """The submission to work on: this id if it exists, the partner's unfinished one for
        the product, or a new one. A new or resumed one gets an expiry entry in the outbox."""
        now = utcnow()
        async with self.uow() as uow:
            repo = uow.submissions
            row = await repo.get(submission_id, for_update=True)
            if row is not None and (row.partner_id != partner.sub or row.product_id != product_id):
                raise SubmissionOpenError("This submission id belongs to another request.")
            if row is not None and row.status == Status.expired:
                # Given up on (see expire_unfinished): its id is never used again.
                row, submission_id = None, new_id("sub")
            if row is None:
                row = await repo.unfinished(partner.sub, product_id)
            if row is not None and row.status != Status.freezing:
                return row
            if row is None:
                row = SubmissionRow(
                    id=submission_id,
                    product_id=product_id,
                    partner_id=partner.sub,
                    status=Status.freezing,
                    note=note,
                    created_at=now,
                    updated_at=now,
                )
                await repo.add(row)
            else:
                row.updated_at = now
            await uow.outbox.add(
                EXPIRE,
                {"submission_id": row.id, "product_id": product_id},
                delay_seconds=self.freeze_grace_seconds,
            )
        return row

    async def _abandon(self, submission_id: str) -> None:
        async with self.uow() as uow:
            row = await uow.submissions.get(submission_id, for_update=True)
            if row is not None and row.status == Status.freezing:
                await uow.submissions.remove(submission_id)

    # -- reading -------------------------------------------------------------------------

    async def get(
        self, principal: Principal, submission_id: str
    ) -> tuple[SubmissionRow, list[EventRow]]:
        """A submission with its timeline; a partner sees only their own."""
        async with self.uow(read=True) as uow:
            row = await uow.submissions.get(submission_id)
            if row is None or not _visible_to(row, principal):
                raise SubmissionNotFoundError(f"No submission {submission_id} is visible to you.")
            return row, await uow.events.timeline(submission_id)

    async def search(
        self,
        principal: Principal,
        page: PageRequest,
        *,
        status: Status | None,
        product_id: str | None,
    ) -> list[SubmissionRow]:
        """Submissions, oldest first: a partner's own, or all for a reviewer."""
        partner_id = principal.sub if principal.role is Role.partner else None
        async with self.uow(read=True) as uow:
            return await uow.submissions.search(
                page, partner_id=partner_id, status=status, product_id=product_id
            )

    # -- moves ---------------------------------------------------------------------------

    async def withdraw(self, partner: Principal, submission_id: str) -> Decision:
        """The partner takes a pending submission back; the draft unlocks."""
        return await self._move(partner, submission_id, Action.withdraw, effect=UNLOCK)

    async def claim(self, reviewer: Principal, submission_id: str) -> SubmissionRow:
        """A reviewer takes a pending submission; from now on it can't be withdrawn."""
        decision = await self._move(reviewer, submission_id, Action.claim)
        return decision.submission

    async def approve(self, reviewer: Principal, submission_id: str) -> Decision:
        """The claiming reviewer approves: the revision goes live at once."""
        return await self._move(reviewer, submission_id, Action.approve, effect=PUBLISH)

    async def reject(
        self,
        reviewer: Principal,
        submission_id: str,
        reason: str,
        notes: list[dict[str, Any]],
    ) -> Decision:
        """The claiming reviewer rejects with a reason and per-field notes; the draft unlocks."""
        return await self._move(
            reviewer,
            submission_id,
            Action.reject,
            effect=UNLOCK,
            extra={"reason": reason, "notes": notes},
        )

    async def _move(
        self,
        actor: Principal,
        submission_id: str,
        action: Action,
        *,
        effect: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Decision:
        now = utcnow()
        entry_id: str | None = None
        async with self.uow() as uow:
            repo = uow.submissions
            row = await repo.get(submission_id)
            if (
                row is None
                or not may_see(
                    Status(row.status), row.partner_id, viewer_role=actor.role, viewer_id=actor.sub
                )
                or (action in OWNER_MOVES and row.partner_id != actor.sub)
            ):
                raise SubmissionNotFoundError(f"No submission {submission_id} is visible to you.")
            # The domain's verdict on what was read; the conditional update below settles races.
            to = transition(action, Status(row.status), claimant=row.reviewer_id == actor.sub)
            values: dict[str, Any] = {"status": to.value, **(extra or {})}
            if action is Action.claim:
                values.update(reviewer_id=actor.sub, claimed_at=now)
            else:
                values.update(decided_at=now, open_product_id=None)
            where = {"reviewer_id": actor.sub} if action in CLAIMANT_MOVES else {}
            if not await repo.move(submission_id, ALLOWED_FROM[action], values, **where):
                await uow.session.refresh(row)
                raise refusal(action, Status(row.status), claimant=row.reviewer_id == actor.sub)
            details = {k: v for k, v in (extra or {}).items()}
            details["revision"] = row.revision
            await uow.events.add(
                submission_id,
                EVENT[action],
                actor_id=actor.sub,
                actor_role=actor.role,
                at=now,
                details=details,
            )
            if effect is not None:
                entry_id = await uow.outbox.add(
                    effect,
                    {
                        "submission_id": submission_id,
                        "product_id": row.product_id,
                        "revision": row.revision,
                    },
                )
            await uow.session.refresh(row)
        delivered = await self.outbox.deliver_now(entry_id) if entry_id else True
        if delivered and effect == PUBLISH:
            async with self.uow(read=True) as uow:
                refreshed = await uow.submissions.get(submission_id)
                assert refreshed is not None
                row = refreshed
        return Decision(row, delivered)

    # -- outbox handlers (run by the relay, outside any transaction) ----------------------

    async def deliver_publish(self, payload: dict[str, Any]) -> None:
        """Publish an approved revision in the catalog, then record that it is live."""
        # A refusal (UpstreamProblem) is left to the outbox to judge: for good, or later.
        published = await self.catalog.publish(payload["product_id"], int(payload["revision"]))
        async with self.uow() as uow:
            row = await uow.submissions.get(payload["submission_id"], for_update=True)
            if row is not None and row.published_at is None:
                row.published_at = published.published_at
                await uow.events.add(
                    row.id,
                    "published",
                    actor_id=SYSTEM.sub,
                    actor_role=SYSTEM.role,
                    at=utcnow(),
                    details={"revision": published.revision},
                )

    async def expire_unfinished(self, payload: dict[str, Any]) -> None:
        """Give up a submission left `freezing` (its submit died or the catalog was down).

        The row becomes `expired` first, then the catalog's lock is released, if this
        submission holds it. A submit that resumed the row in the meantime has touched it
        and is left alone; a freeze for an expired id that lands later is undone by submit.
        """
        submission_id = payload["submission_id"]
        async with self.uow() as uow:
            row = await uow.submissions.get(submission_id, for_update=True)
            if row is not None:
                stale = (utcnow() - row.updated_at).total_seconds() >= self.freeze_grace_seconds
                if row.status != Status.freezing or not stale:
                    return
                row.status = Status.expired
                row.updated_at = utcnow()
        await self.deliver_unlock(payload)

    async def deliver_unlock(self, payload: dict[str, Any]) -> None:
        """Unlock the draft in the catalog after a rejection or withdrawal."""
        await self.catalog.unlock(payload["product_id"], payload["submission_id"])


def _visible_to(row: SubmissionRow, principal: Principal) -> bool:
    return may_see(
        Status(row.status), row.partner_id, viewer_role=principal.role, viewer_id=principal.sub
    )


def _translate_freeze_problem(problem: UpstreamProblem) -> Exception:
    if problem.upstream_code == "product_not_found":
        return UnknownProductError("You have no product with this id.")
    if problem.upstream_code == "draft_invalid":
        return SubmissionInvalidError(
            "The draft has problems; see `errors`.", errors=problem.upstream_errors
        )
    if problem.upstream_code == "draft_locked":
        return SubmissionOpenError("The draft is locked by another submission.")
    return problem
