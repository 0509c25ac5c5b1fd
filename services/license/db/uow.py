"""License's unit of work: one transaction and the repositories that take part in it."""

from sqlalchemy.ext.asyncio import AsyncSession

from services.license.db.repositories import (
    CounterRepository,
    InstanceRepository,
    LicenseRepository,
    LicenseVersionRepository,
    UsageRepository,
)
from shared.outbox import Outbox
from shared.uow import UnitOfWork


class LicenseUnitOfWork(UnitOfWork):
    """License's repositories, all on this unit's session (none of them commits)."""

    def __init__(self, session: AsyncSession, outbox: Outbox | None = None) -> None:
        super().__init__(session, outbox)
        self.counters = CounterRepository(session)
        self.instances = InstanceRepository(session)
        self.licenses = LicenseRepository(session)
        self.versions = LicenseVersionRepository(session)
        self.usage = UsageRepository(session)
