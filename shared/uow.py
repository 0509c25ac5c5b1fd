"""The unit of work: one transaction and everything that takes part in it.

Every service's use cases open their transactions the same way:

    async with self.uow() as uow:            # writes: commits on success, rolls back on error
        order = await uow.orders.get(order_id, for_update=True)
        ...
        await uow.outbox.add(FULFIL, {"order_id": order.id})

    async with self.uow(read=True) as uow:   # reads only (see `shared.db`: no write lock on
        ...                                  # SQLite, autocommit on PostgreSQL)

A service subclasses `UnitOfWork` to name its repositories (built on the unit's session, so
they never commit), and its use-case object holds one `UnitsOfWork` for the process. The
choice of read or write session is made here, once, not by each caller or route.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database
from shared.outbox import Outbox


class BoundOutbox:
    """The outbox as seen from inside one unit of work: entries join its transaction."""

    def __init__(self, outbox: Outbox, session: AsyncSession) -> None:
        self._outbox = outbox
        self._session = session

    async def add(
        self, topic: str, payload: dict[str, Any], *, delay_seconds: float | None = None
    ) -> str:
        """Add an entry that commits with this unit of work; its id."""
        return await self._outbox.add(self._session, topic, payload, delay_seconds=delay_seconds)

    async def discard(self, entry_id: str) -> None:
        """Drop an entry that became pointless, in this unit of work."""
        await self._outbox.discard(self._session, entry_id)


class UnitOfWork:
    """One open transaction. Subclasses add their repositories in `__init__`."""

    def __init__(self, session: AsyncSession, outbox: Outbox | None = None) -> None:
        self.session = session
        self._outbox = outbox

    @property
    def outbox(self) -> BoundOutbox:
        """The service's outbox, writing in this transaction."""
        if self._outbox is None:
            raise RuntimeError("this service has no outbox")
        return BoundOutbox(self._outbox, self.session)


U = TypeVar("U", bound=UnitOfWork)


class UnitsOfWork(Generic[U]):
    """Makes a service's units of work: `async with uow() as u` (write) or `uow(read=True)`."""

    def __init__(
        self,
        db: Database,
        factory: Callable[[AsyncSession, Outbox | None], U],
        outbox: Outbox | None = None,
    ) -> None:
        self.db = db
        self._factory = factory
        self._outbox = outbox

    @asynccontextmanager
    async def __call__(self, *, read: bool = False) -> AsyncIterator[U]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        sessions = self.db.read_sessionmaker if read else self.db.sessionmaker
        async with sessions() as session, session.begin():
            yield self._factory(session, self._outbox)
