"""The catalog's unit of work: one transaction and the repositories that share it."""

from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.db.repositories import (
    DocumentRepository,
    LiveProductRepository,
    ProductRepository,
    RevisionRepository,
)
from shared.outbox import Outbox
from shared.uow import UnitOfWork


class CatalogUnitOfWork(UnitOfWork):
    """The catalog's repositories, all on this unit's session (the catalog has no outbox)."""

    def __init__(self, session: AsyncSession, outbox: Outbox | None = None) -> None:
        super().__init__(session, outbox)
        self.products = ProductRepository(session)
        self.revisions = RevisionRepository(session)
        self.live = LiveProductRepository(session)
        self.documents = DocumentRepository(session)
