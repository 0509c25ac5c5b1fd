"""Revisions: reading them, and the internal moves review makes (freeze, publish, unlock)."""

from services.catalog.db.models import LiveProductRow, ProductRow, RevisionRow
from services.catalog.domain import rules
from services.catalog.domain.changes import diff
from services.catalog.domain.model import Draft, ProductType, Snapshot
from services.catalog.errors import (
    DraftInvalidError,
    DraftLockedError,
    ProductNotFoundError,
    RevisionNotFoundError,
    RevisionNotPublishableError,
)
from services.catalog.service.common import (
    Frozen,
    Published,
    RevisionState,
    UseCases,
    frozen,
    live_snapshot,
    owned,
)
from shared.auth import Principal
from shared.clock import utcnow


class RevisionUseCases(UseCases):
    """A product's revisions, one per submission, and their publication."""

    async def list_revisions(
        self, partner: Principal, product_id: str
    ) -> tuple[int | None, list[RevisionRow]]:
        """The live revision number and every revision of an owned product, newest first."""
        async with self.uow(read=True) as uow:
            row = await owned(uow, partner, product_id)
            return row.live_revision, await uow.revisions.list(product_id)

    async def get_revision(
        self, partner: Principal, product_id: str, number: int
    ) -> tuple[int | None, RevisionRow]:
        """The live revision number and one revision of an owned product."""
        async with self.uow(read=True) as uow:
            row = await owned(uow, partner, product_id)
            revision = await uow.revisions.get(product_id, number)
        if revision is None:
            raise RevisionNotFoundError(f"Product {product_id} has no revision {number}.")
        return row.live_revision, revision

    async def freeze(self, product_id: str, partner_id: str, submission_id: str) -> Frozen:
        """Freeze the draft into the next revision for a submission and lock the draft.

        Idempotent per submission: freezing again for the submission that holds the lock
        returns the same revision. Every problem is reported at once (422 `draft_invalid`).
        """
        async with self.uow() as uow:
            row = await uow.products.get(product_id, for_update=True)
            if row is None or row.partner_id != partner_id:
                raise ProductNotFoundError(f"Partner {partner_id} has no product {product_id}.")
            if row.locked_submission_id == submission_id:
                existing = await uow.revisions.get(product_id, row.last_revision)
                assert existing is not None
                return frozen(existing)
            if row.locked_submission_id is not None:
                raise DraftLockedError(
                    f"Submission {row.locked_submission_id} is open for this product.",
                    submission_id=row.locked_submission_id,
                )
            draft = Draft.model_validate(row.draft)
            snapshot = rules.freeze(
                draft,
                product_id=row.id,
                partner_id=row.partner_id,
                product_type=ProductType(row.product_type),
            )
            live = await live_snapshot(uow, row)
            wanted = {a.agreement.document_id for a in snapshot.addons if a.agreement}
            owned_ids = await uow.documents.owned_ids(row.partner_id, {d for d in wanted if d})
            problems = rules.submission_problems(snapshot, live, owned_ids.__contains__)
            if problems:
                raise DraftInvalidError(
                    f"The draft has {len(problems)} problem(s); see `errors`.", errors=problems
                )
            now = utcnow()
            revision = RevisionRow(
                product_id=row.id,
                number=row.last_revision + 1,
                submission_id=submission_id,
                snapshot=snapshot.model_dump(mode="json"),
                changes=[c.model_dump(mode="json") for c in diff(live, snapshot)],
                state=RevisionState.submitted,
                created_at=now,
                published_at=None,
            )
            await uow.revisions.add(revision)
            row.last_revision = revision.number
            row.locked_submission_id = submission_id
            row.updated_at = now
        return frozen(revision)

    async def publish(self, product_id: str, number: int) -> Published:
        """Make revision `number` live and unlock the draft. Idempotent.

        Every catalog process learns of it once the transaction commits (NOTIFY on PostgreSQL,
        SQLite's change counter; see `LiveProductReads`); this process forgets its rendering at
        once, so it never answers with the older one.
        """
        try:
            return await self._publish(product_id, number)
        finally:
            if self.live_reads is not None:
                self.live_reads.forget(product_id)

    async def _publish(self, product_id: str, number: int) -> Published:
        async with self.uow() as uow:
            row = await uow.products.get(product_id, for_update=True)
            if row is None:
                raise ProductNotFoundError(f"No product {product_id}.")
            revision = await uow.revisions.get(product_id, number)
            if revision is None:
                raise RevisionNotFoundError(f"Product {product_id} has no revision {number}.")
            if revision.state == RevisionState.published:
                assert revision.published_at is not None
                return Published(number, revision.published_at)
            if row.locked_submission_id != revision.submission_id:
                raise RevisionNotPublishableError(
                    f"Revision {number} is not under an open submission."
                )
            now = utcnow()
            revision.state = RevisionState.published
            revision.published_at = now
            row.live_revision = number
            row.locked_submission_id = None
            row.updated_at = now
            snapshot = Snapshot.model_validate(revision.snapshot)
            existing = await uow.live.get(product_id)
            await uow.live.save(
                LiveProductRow(
                    product_id=product_id,
                    partner_id=row.partner_id,
                    category_key=snapshot.details.category.casefold(),
                    search_text=" ".join(
                        (
                            snapshot.details.name,
                            snapshot.details.category,
                            snapshot.details.description,
                        )
                    ).casefold(),
                    revision=number,
                    snapshot=revision.snapshot,
                    listed_at=existing.listed_at if existing else now,
                    published_at=now,
                )
            )
            await uow.documents.publish(
                {
                    a.agreement.document_id
                    for a in snapshot.addons
                    if a.agreement and a.agreement.document_id
                }
            )
            await uow.live.announce_change(product_id)
        return Published(number, now)

    async def unlock(self, product_id: str, submission_id: str) -> ProductRow:
        """Unlock the draft held by `submission_id` (rejected or withdrawn). Idempotent."""
        async with self.uow() as uow:
            row = await uow.products.get(product_id, for_update=True)
            if row is None:
                raise ProductNotFoundError(f"No product {product_id}.")
            if row.locked_submission_id == submission_id:
                revision = await uow.revisions.get(product_id, row.last_revision)
                if revision is not None and revision.state == RevisionState.submitted:
                    revision.state = RevisionState.discarded
                row.locked_submission_id = None
                row.updated_at = utcnow()
        return row
