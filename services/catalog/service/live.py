"""Live products: the public listing, and the per-process memory of their renderings."""

from collections.abc import Callable
from datetime import datetime

from services.catalog.db.models import LiveProductRow
from services.catalog.db.repositories import LIVE_PRODUCT_CHANNEL, LiveProductRepository
from services.catalog.db.uow import CatalogUnitOfWork
from services.catalog.errors import ProductNotFoundError
from services.catalog.service.common import CatalogUnits, UseCases
from shared.db import Database
from shared.freshness import (
    Freshness,
    Notified,
    SQLiteChangeCounter,
    Unwatched,
    sqlite_file,
)
from shared.notifications import NotificationListener, asyncpg_connect_args
from shared.pagination import PageRequest
from shared.uow import UnitsOfWork


class LiveProductUseCases(UseCases):
    """Reading the public catalog: what customers see."""

    async def get_live(self, product_id: str) -> LiveProductRow:
        """The live revision of a product; 404 while nothing is live."""
        return await live_product(self.uow, product_id)

    async def search_live(
        self, page: PageRequest, *, category: str | None, partner_id: str | None, query: str | None
    ) -> list[LiveProductRow]:
        """Live products matching the filters, in listing order."""
        async with self.uow(read=True) as uow:
            return await uow.live.search(
                page, category=category, partner_id=partner_id, query=query
            )


async def live_product(units: CatalogUnits, product_id: str) -> LiveProductRow:
    """The live revision of a product, read in a transaction of its own; 404 while none is."""
    async with units(read=True) as uow:
        row = await uow.live.get(product_id)
    if row is None:
        raise ProductNotFoundError(f"No live product {product_id}.")
    return row


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
    (`RevisionUseCases.publish`), so it never answers with the older revision. A read that raced
    an invalidation, or (on SQLite) a commit, does not keep what it read (`_generation`). "Not
    found" is never kept. At most `size` products are kept; the memory is cleared when full.
    One object per process.
    """

    def __init__(
        self, db: Database, render: Callable[[LiveProductRow], bytes], *, size: int = 1000
    ) -> None:
        self._db = db
        self._uow = UnitsOfWork(db, CatalogUnitOfWork)
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
        row = await live_product(self._uow, product_id)
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
