"""What the catalog's use cases share: their base, result types and draft helpers.

Every edit of a draft first locks the product row (`SELECT … FOR UPDATE`; on SQLite the
whole database, through BEGIN IMMEDIATE), so an edit and a freeze never interleave: an edit
either lands before the freeze, and is in the revision, or is refused with `draft_locked`.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from services.catalog.db.models import ProductRow, RevisionRow
from services.catalog.db.uow import CatalogUnitOfWork
from services.catalog.domain.changes import RevisionChange
from services.catalog.domain.model import Draft, Snapshot
from services.catalog.errors import DraftLockedError, ProductNotFoundError
from shared.auth import Principal, Role
from shared.clock import utcnow
from shared.uow import UnitsOfWork

if TYPE_CHECKING:
    from services.catalog.service.live import LiveProductReads

CatalogUnits = UnitsOfWork[CatalogUnitOfWork]


class RevisionState:
    submitted = "submitted"
    published = "published"
    discarded = "discarded"


@dataclass(frozen=True, slots=True)
class ProductState:
    """A product row with its draft parsed."""

    row: ProductRow
    draft: Draft


@dataclass(frozen=True, slots=True)
class Frozen:
    """The result of freezing a draft: revision number, snapshot and what changed."""

    revision: int
    snapshot: Snapshot
    changes: list[RevisionChange]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Published:
    revision: int
    published_at: datetime


class UseCases:
    """The base of each family of use cases: the process's units of work.

    `live_reads`, when given, is told of every publication this process makes (see
    `RevisionUseCases.publish`).
    """

    def __init__(self, uow: CatalogUnits, *, live_reads: "LiveProductReads | None" = None) -> None:
        self.uow = uow
        self.live_reads = live_reads


async def owned(uow: CatalogUnitOfWork, partner: Principal, product_id: str) -> ProductRow:
    """The product, if `partner` owns it; another partner's product is not found."""
    row = await uow.products.get(product_id)
    if row is None or row.partner_id != partner.sub:
        raise ProductNotFoundError(f"You have no product {product_id}.")
    return row


async def lock_draft(
    uow: CatalogUnitOfWork, partner: Principal, product_id: str
) -> tuple[ProductRow, Draft]:
    """The owned product, locked for this transaction, and its draft; refused while submitted."""
    row = await uow.products.get(product_id, for_update=True)
    if row is None or row.partner_id != partner.sub:
        raise ProductNotFoundError(f"You have no product {product_id}.")
    if row.locked_submission_id is not None:
        raise DraftLockedError(
            f"Submission {row.locked_submission_id} is open: withdraw it to edit the draft."
        )
    return row, Draft.model_validate(row.draft)


def store_draft(row: ProductRow, draft: Draft) -> None:
    """Write `draft` back into its product row."""
    row.draft = draft.model_dump(mode="json")
    row.updated_at = utcnow()


async def live_snapshot(uow: CatalogUnitOfWork, row: ProductRow) -> Snapshot | None:
    """The snapshot of the product's live revision; None while nothing is live."""
    if row.live_revision is None:
        return None
    revision = await uow.revisions.get(row.id, row.live_revision)
    return Snapshot.model_validate(revision.snapshot) if revision else None


def is_owner(principal: Principal, partner_id: str) -> bool:
    """Ownership is the partner principal: a customer or a service with the same id is not it."""
    return principal.role is Role.partner and principal.sub == partner_id


def frozen(revision: RevisionRow) -> Frozen:
    """A stored revision as the result of a freeze."""
    return Frozen(
        revision=revision.number,
        snapshot=Snapshot.model_validate(revision.snapshot),
        changes=[RevisionChange.model_validate(c) for c in revision.changes],
        created_at=revision.created_at,
    )
