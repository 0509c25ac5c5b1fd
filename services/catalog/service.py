"""The catalog's use cases. Each opens its own transaction and applies `domain` rules.

Every edit of a draft first locks the product row (`SELECT … FOR UPDATE`; on SQLite the
whole database, through BEGIN IMMEDIATE), so an edit and a freeze never interleave: an edit
either lands before the freeze, and is in the revision, or is refused with `draft_locked`.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.db.models import DocumentRow, LiveProductRow, ProductRow, RevisionRow
from services.catalog.db.repositories import (
    LIVE_PRODUCT_CHANNEL,
    DocumentRepository,
    LiveProductRepository,
    ProductRepository,
    RevisionRepository,
)
from services.catalog.domain import rules
from services.catalog.domain.changes import Change, diff
from services.catalog.domain.documents import MAX_DOCUMENT_BYTES, sniff
from services.catalog.domain.model import (
    Addon,
    AddonSpec,
    Configuration,
    Draft,
    Plan,
    ProductDetails,
    ProductType,
    Snapshot,
)
from services.catalog.errors import (
    DocumentNotFoundError,
    DocumentTooLargeError,
    DraftInvalidError,
    DraftLockedError,
    EmptyDocumentError,
    ProductNotFoundError,
    ProductTypeImmutableError,
    RevisionNotFoundError,
    RevisionNotPublishableError,
    UnknownDocumentError,
    UnsupportedDocumentTypeError,
)
from shared.auth import Principal, Role
from shared.clock import utcnow
from shared.db import Database
from shared.freshness import (
    Freshness,
    Notified,
    SQLiteChangeCounter,
    Unwatched,
    sqlite_file,
)
from shared.ids import new_id
from shared.notifications import NotificationListener, asyncpg_connect_args
from shared.pagination import PageRequest


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
    changes: list[Change]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Published:
    revision: int
    published_at: datetime


class CatalogService:
    """Use cases of the catalog, one transaction each."""

    def __init__(
        self, session: AsyncSession, *, live_reads: "LiveProductReads | None" = None
    ) -> None:
        self.session = session
        self.live_reads = live_reads
        self.products = ProductRepository(session)
        self.revisions = RevisionRepository(session)
        self.live = LiveProductRepository(session)
        self.documents = DocumentRepository(session)

    # -- products and drafts -------------------------------------------------------------

    async def create_product(
        self, partner: Principal, product_type: ProductType, details: ProductDetails
    ) -> ProductState:
        """Create a product with an empty draft owned by `partner`."""
        now = utcnow()
        draft = Draft(details=details)
        row = ProductRow(
            id=new_id("prd"),
            partner_id=partner.sub,
            product_type=product_type.value,
            draft=draft.model_dump(mode="json"),
            locked_submission_id=None,
            live_revision=None,
            last_revision=0,
            created_at=now,
            updated_at=now,
        )
        async with self.session.begin():
            await self.products.add(row)
        return ProductState(row, draft)

    async def get_draft(self, partner: Principal, product_id: str) -> ProductState:
        """The product's draft, for its owner."""
        async with self.session.begin():
            row = await self._owned(partner, product_id)
        return ProductState(row, Draft.model_validate(row.draft))

    async def patch_details(
        self, partner: Principal, product_id: str, changes: dict[str, Any]
    ) -> ProductState:
        """Change product-level fields of the draft; `product_type` can't change."""
        async with self.session.begin():
            row, draft = await self._lock_draft(partner, product_id)
            if changes.pop("product_type", row.product_type) != row.product_type:
                raise ProductTypeImmutableError(
                    f"The product type is {row.product_type} and stays so."
                )
            draft = rules.patch_details(draft, changes)
            self._store_draft(row, draft)
        return ProductState(row, draft)

    async def add_plan(self, partner: Principal, product_id: str, config: Configuration) -> Plan:
        """Add a plan to the draft."""
        plan = Plan(id=new_id("pln"), **config.model_dump())
        async with self.session.begin():
            row, draft = await self._lock_draft(partner, product_id)
            self._store_draft(row, rules.add_plan(draft, plan))
        return plan

    async def update_plan(
        self, partner: Principal, product_id: str, plan_id: str, changes: dict[str, Any]
    ) -> Plan:
        """Change fields of a plan of the draft (retire it, reprice it...)."""
        async with self.session.begin():
            row, draft = await self._lock_draft(partner, product_id)
            draft, plan = rules.update_plan(draft, plan_id, changes)
            self._store_draft(row, draft)
        return plan

    async def delete_plan(self, partner: Principal, product_id: str, plan_id: str) -> None:
        """Delete a plan from the draft; a live one can only be retired."""
        async with self.session.begin():
            row, draft = await self._lock_draft(partner, product_id)
            self._store_draft(row, rules.delete_plan(draft, plan_id, await self._live(row)))

    async def add_addon(self, partner: Principal, product_id: str, spec: AddonSpec) -> Addon:
        """Add an add-on to the draft."""
        addon = Addon(id=new_id("add"), **spec.model_dump())
        async with self.session.begin():
            row, draft = await self._lock_draft(partner, product_id)
            await self._check_agreement(partner, addon)
            self._store_draft(row, rules.add_addon(draft, addon))
        return addon

    async def update_addon(
        self, partner: Principal, product_id: str, addon_id: str, changes: dict[str, Any]
    ) -> Addon:
        """Change fields of an add-on of the draft."""
        async with self.session.begin():
            row, draft = await self._lock_draft(partner, product_id)
            draft, addon = rules.update_addon(draft, addon_id, changes)
            await self._check_agreement(partner, addon)
            self._store_draft(row, draft)
        return addon

    async def delete_addon(self, partner: Principal, product_id: str, addon_id: str) -> None:
        """Delete an add-on from the draft; a live one can only be retired."""
        async with self.session.begin():
            row, draft = await self._lock_draft(partner, product_id)
            self._store_draft(row, rules.delete_addon(draft, addon_id, await self._live(row)))

    # -- revisions and the public view ---------------------------------------------------

    async def list_revisions(
        self, partner: Principal, product_id: str
    ) -> tuple[int | None, list[RevisionRow]]:
        """The live revision number and every revision of an owned product, newest first."""
        async with self.session.begin():
            row = await self._owned(partner, product_id)
            return row.live_revision, await self.revisions.list(product_id)

    async def get_revision(
        self, partner: Principal, product_id: str, number: int
    ) -> tuple[int | None, RevisionRow]:
        """The live revision number and one revision of an owned product."""
        async with self.session.begin():
            row = await self._owned(partner, product_id)
            revision = await self.revisions.get(product_id, number)
        if revision is None:
            raise RevisionNotFoundError(f"Product {product_id} has no revision {number}.")
        return row.live_revision, revision

    async def get_live(self, product_id: str) -> LiveProductRow:
        """The live revision of a product; 404 while nothing is live."""
        async with self.session.begin():
            row = await self.live.get(product_id)
        if row is None:
            raise ProductNotFoundError(f"No live product {product_id}.")
        return row

    async def search_live(
        self, page: PageRequest, *, category: str | None, partner_id: str | None, query: str | None
    ) -> list[LiveProductRow]:
        """Live products matching the filters, in listing order."""
        async with self.session.begin():
            return await self.live.search(
                page, category=category, partner_id=partner_id, query=query
            )

    # -- the internal endpoints review calls ---------------------------------------------

    async def freeze(self, product_id: str, partner_id: str, submission_id: str) -> Frozen:
        """Freeze the draft into the next revision for a submission and lock the draft.

        Idempotent per submission: freezing again for the submission that holds the lock
        returns the same revision. Every problem is reported at once (422 `draft_invalid`).
        """
        async with self.session.begin():
            row = await self.products.get(product_id, for_update=True)
            if row is None or row.partner_id != partner_id:
                raise ProductNotFoundError(f"Partner {partner_id} has no product {product_id}.")
            if row.locked_submission_id == submission_id:
                existing = await self.revisions.get(product_id, row.last_revision)
                assert existing is not None
                return _frozen(existing)
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
            live = await self._live(row)
            wanted = {a.agreement.document_id for a in snapshot.addons if a.agreement}
            owned = await self.documents.owned_ids(row.partner_id, {d for d in wanted if d})
            problems = rules.submission_problems(snapshot, live, owned.__contains__)
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
            await self.revisions.add(revision)
            row.last_revision = revision.number
            row.locked_submission_id = submission_id
            row.updated_at = now
        return _frozen(revision)

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
        async with self.session.begin():
            row = await self.products.get(product_id, for_update=True)
            if row is None:
                raise ProductNotFoundError(f"No product {product_id}.")
            revision = await self.revisions.get(product_id, number)
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
            existing = await self.live.get(product_id)
            await self.live.save(
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
            await self.documents.publish(
                {
                    a.agreement.document_id
                    for a in snapshot.addons
                    if a.agreement and a.agreement.document_id
                }
            )
            await self.live.announce_change(product_id)
        return Published(number, now)

    async def unlock(self, product_id: str, submission_id: str) -> ProductRow:
        """Unlock the draft held by `submission_id` (rejected or withdrawn). Idempotent."""
        async with self.session.begin():
            row = await self.products.get(product_id, for_update=True)
            if row is None:
                raise ProductNotFoundError(f"No product {product_id}.")
            if row.locked_submission_id == submission_id:
                revision = await self.revisions.get(product_id, row.last_revision)
                if revision is not None and revision.state == RevisionState.submitted:
                    revision.state = RevisionState.discarded
                row.locked_submission_id = None
                row.updated_at = utcnow()
        return row

    # -- documents -----------------------------------------------------------------------

    async def upload_document(
        self, partner: Principal, filename: str, content: bytes
    ) -> DocumentRow:
        """Store an agreement document after checking its size and content type."""
        if not content:
            raise EmptyDocumentError("The uploaded file has no content.")
        if len(content) > MAX_DOCUMENT_BYTES:
            raise DocumentTooLargeError(f"The document has {len(content)} bytes; 10 MiB at most.")
        media_type = sniff(content)
        if media_type is None:
            raise UnsupportedDocumentTypeError(
                "The content is not a PDF, a DOCX or UTF-8 plain text."
            )
        row = DocumentRow(
            id=new_id("doc"),
            partner_id=partner.sub,
            filename="".join(ch for ch in filename if ch.isprintable())[:255] or "document",
            media_type=media_type.value,
            size_bytes=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            content=content,
            public=False,
            created_at=utcnow(),
        )
        async with self.session.begin():
            await self.documents.add(row)
        return row

    async def get_document(
        self, principal: Principal | None, document_id: str, *, with_content: bool = False
    ) -> DocumentRow:
        """A document its owner may read, or anyone once a live product uses it."""
        async with self.session.begin():
            row = await self.documents.get(document_id, with_content=with_content)
        visible = row is not None and (
            row.public or (principal is not None and _is_owner(principal, row.partner_id))
        )
        if row is None or not visible:
            raise DocumentNotFoundError(f"No document {document_id} is visible to you.")
        return row

    # -- helpers -------------------------------------------------------------------------

    async def _owned(self, partner: Principal, product_id: str) -> ProductRow:
        row = await self.products.get(product_id)
        if row is None or row.partner_id != partner.sub:
            raise ProductNotFoundError(f"You have no product {product_id}.")
        return row

    async def _lock_draft(self, partner: Principal, product_id: str) -> tuple[ProductRow, Draft]:
        row = await self.products.get(product_id, for_update=True)
        if row is None or row.partner_id != partner.sub:
            raise ProductNotFoundError(f"You have no product {product_id}.")
        if row.locked_submission_id is not None:
            raise DraftLockedError(
                f"Submission {row.locked_submission_id} is open: withdraw it to edit the draft."
            )
        return row, Draft.model_validate(row.draft)

    def _store_draft(self, row: ProductRow, draft: Draft) -> None:
        row.draft = draft.model_dump(mode="json")
        row.updated_at = utcnow()

    async def _live(self, row: ProductRow) -> Snapshot | None:
        if row.live_revision is None:
            return None
        revision = await self.revisions.get(row.id, row.live_revision)
        return Snapshot.model_validate(revision.snapshot) if revision else None

    async def _check_agreement(self, partner: Principal, addon: Addon) -> None:
        document_id = addon.agreement.document_id if addon.agreement else None
        if document_id and not await self.documents.owned_ids(partner.sub, {document_id}):
            raise UnknownDocumentError(f"You have no document {document_id}.")


def _is_owner(principal: Principal, partner_id: str) -> bool:
    """Ownership is the partner principal: a customer or a service with the same id is not it."""
    return principal.role is Role.partner and principal.sub == partner_id


def _frozen(revision: RevisionRow) -> Frozen:
    return Frozen(
        revision=revision.number,
        snapshot=Snapshot.model_validate(revision.snapshot),
        changes=[Change.model_validate(c) for c in revision.changes],
        created_at=revision.created_at,
    )


class LiveProductReads:
    """The public product read, answered from memory while memory is known to be current.

    A published revision never changes, so its rendering (`render`: the API's JSON) is kept per
    product, and served with no query at all while `freshness` (see `shared.freshness`) trusts
    memory. How this process learns of other processes' commits depends on the database:

    - PostgreSQL: every transaction that changes a product's public view (publication) sends
      the product id on `LIVE_PRODUCT_CHANNEL`, delivered on commit; each process LISTENs on a
      connection of its own and forgets that product when told, so a publication made through
      another replica is seen within milliseconds. Memory is trusted only while the listener
      is healthy, and each (re)connection clears it, since notifications may have been missed.
    - SQLite, a database file: every read first reads SQLite's change counter (microseconds, no
      hand-off to aiosqlite's thread) and clears memory if anything was committed since the
      previous read, by any process. Any commit to the catalog's database counts, a draft edit
      too, not only a publication: writes are rare next to reads, and a read after one costs
      one render again.
    - Otherwise (SQLite `:memory:`, or when the listener is down or the counter unusable),
      every read asks the database which revision is live, in one small query outside any ORM
      session, and serves the kept rendering only if it is that revision.

    The process that published forgets the product right after its commit
    (`CatalogService.publish`), so it never answers with the older revision. A read that raced
    an invalidation, or (on SQLite) a commit, does not keep what it read (`_generation`). "Not
    found" is never kept. At most `size` products are kept; the memory is cleared when full.
    One object per process.
    """

    def __init__(
        self, db: Database, render: Callable[[LiveProductRow], bytes], *, size: int = 1000
    ) -> None:
        self._db = db
        self._render = render
        self._size = size
        self._rendered: dict[str, tuple[tuple[int, datetime], bytes]] = {}
        # Bumped by every invalidation: a read that began before one must not keep its result.
        self._generation = 0
        self.freshness: Freshness = Unwatched()

    async def start(self) -> None:
        """Learn of other processes' commits: LISTEN on PostgreSQL, a SQLite file's counter."""
        if not isinstance(self.freshness, Unwatched):
            return
        engine = self._db.engine
        if engine.dialect.driver == "asyncpg":
            listener = NotificationListener(
                asyncpg_connect_args(engine),
                LIVE_PRODUCT_CHANNEL,
                on_notification=self.forget,
                on_listening=self.clear,
            )
            listener.start()
            self.freshness = Notified(listener)
        elif (path := sqlite_file(engine.url)) is not None:
            self.freshness = SQLiteChangeCounter(path, on_change=self.clear)

    async def close(self) -> None:
        """Stop watching; every later read checks the head."""
        freshness, self.freshness = self.freshness, Unwatched()
        await freshness.close()

    def forget(self, product_id: str) -> None:
        """Drop a product's rendering: its public view has changed."""
        self._generation += 1
        self._rendered.pop(product_id, None)

    def clear(self) -> None:
        """Drop every rendering: changes may have gone unheard."""
        self._generation += 1
        self._rendered.clear()

    async def get(self, product_id: str) -> bytes:
        """The live product, rendered; `ProductNotFoundError` while nothing is live."""
        trusted = self.freshness.catch_up()
        # Taken after catching up, which may have cleared the memory.
        generation = self._generation
        if trusted:
            kept = self._rendered.get(product_id)
            if kept is not None:
                return kept[1]
        else:
            async with self._db.read_engine.connect() as conn:
                head = await LiveProductRepository.head(conn, product_id)
            if head is None:
                raise ProductNotFoundError(f"No live product {product_id}.")
            kept = self._rendered.get(product_id)
            if kept is not None and kept[0] == head:
                return kept[1]
        async with self._db.read_sessionmaker() as session:
            row = await CatalogService(session).get_live(product_id)
        body = self._render(row)
        # A commit during this read (SQLite) clears the memory here, bumping the generation:
        # what was read may predate it. The next read would clear it anyway; checking here
        # keeps the rule local: nothing read across a commit is kept.
        self.freshness.catch_up()
        if generation == self._generation:
            if len(self._rendered) >= self._size:
                self._rendered.clear()
            # Kept under what was rendered: a newer revision may have gone live since the head.
            self._rendered[product_id] = ((row.revision, row.published_at), body)
        return body
