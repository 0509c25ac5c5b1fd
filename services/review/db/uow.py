"""The review service's unit of work: one transaction, its repositories and the outbox."""

from sqlalchemy.ext.asyncio import AsyncSession

from services.review.db.repositories import EventRepository, SubmissionRepository
from shared.outbox import Outbox
from shared.uow import UnitOfWork


class ReviewUnitOfWork(UnitOfWork):
    """Submissions and their timeline, on this unit's session; `outbox` writes in it too."""

    def __init__(self, session: AsyncSession, outbox: Outbox | None = None) -> None:
        super().__init__(session, outbox)
        self.submissions = SubmissionRepository(session)
        self.events = EventRepository(session)
