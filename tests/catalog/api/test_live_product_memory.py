"""The public product read from memory: when memory is trusted, and how it is kept fresh.

Memory is probed by changing `live_products` behind the service's back (no NOTIFY, no local
invalidation): a read that still shows the old `published_at` came from memory, one that shows
the new value asked the database. On a SQLite file every commit is seen (the change counter),
so there memory is probed by counting the statements a read sends. Waits poll with a deadline,
never a fixed sleep.

The tests marked `postgres` or `on_sqlite_file` run two catalog apps on one database, as two
replicas (or two processes on one machine) would run.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import event, text, update

import shared.notifications
from services.catalog.api.deps import runtime_of
from services.catalog.db.models import LiveProductRow
from services.catalog.main import _render_live, create_app
from services.catalog.service import LiveProductReads
from services.catalog.settings import CatalogSettings
from shared.clock import utcnow
from shared.db import Database
from shared.freshness import Notified, SQLiteChangeCounter, Unwatched
from shared.notifications import NotificationListener
from tests.catalog.factories import CatalogDriver
from tests.conftest import POSTGRES_URL

postgres = pytest.mark.skipif(not POSTGRES_URL, reason="NOTIFY needs PostgreSQL")
on_sqlite_file = pytest.mark.skipif(bool(POSTGRES_URL), reason="the change counter is SQLite's")

DEADLINE_SECONDS = 10.0


class AlwaysFresh:
    """A freshness that always trusts memory and never learns of a change."""

    def catch_up(self) -> bool:
        return True

    async def close(self) -> None:
        pass


async def eventually(check: Callable[[], Awaitable[bool] | bool], what: str) -> float:
    """Poll `check` until it holds; the seconds it took."""
    started = time.monotonic()
    while True:
        result = check()
        if result if isinstance(result, bool) else await result:
            return time.monotonic() - started
        if time.monotonic() - started > DEADLINE_SECONDS:
            raise AssertionError(f"timed out waiting until {what}")
        await asyncio.sleep(0.01)


def reads_of(app: FastAPI) -> LiveProductReads:
    return runtime_of(app).live_reads


def memory_trusted(app: FastAPI) -> bool:
    return reads_of(app).freshness.catch_up()


def listener_of(app: FastAPI) -> NotificationListener:
    freshness = reads_of(app).freshness
    assert isinstance(freshness, Notified)
    return freshness.listener


async def live(client: httpx.AsyncClient, product_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/products/{product_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def next_revision(catalog_driver: CatalogDriver, product_id: str, number: int) -> None:
    """Edit the draft, submit it as revision `number` and publish it."""
    response = await catalog_driver.client.patch(
        f"/v1/products/{product_id}/draft",
        json={"description": f"Revision {number}."},
        headers=catalog_driver.auth,
    )
    assert response.status_code == 200, response.text
    assert await catalog_driver.go_live(product_id, f"sub_{number}") == number


async def change_behind_the_service(db: Database, product_id: str) -> str:
    """Move `published_at` in the database with no notification; the new value, as JSON."""
    moved = utcnow().replace(microsecond=0) + timedelta(days=1)
    async with db.engine.begin() as conn:
        await conn.execute(
            update(LiveProductRow)
            .where(LiveProductRow.product_id == product_id)
            .values(published_at=moved)
        )
    return moved.isoformat().replace("+00:00", "Z")


def same_instant(a: str, b: str) -> bool:
    return datetime.fromisoformat(a) == datetime.fromisoformat(b)


@contextmanager
def statements_sent(db: Database) -> Iterator[list[str]]:
    """The SQL statements sent through `db`'s engine inside the block."""
    sent: list[str] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", on_execute)
    try:
        yield sent
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", on_execute)


def held_reads(db: Database) -> tuple[LiveProductReads, asyncio.Event, asyncio.Event]:
    """Reads whose database read, once done, waits for `release`; `fetched` says it is done."""
    fetched, release = asyncio.Event(), asyncio.Event()

    @asynccontextmanager
    async def held_session() -> AsyncIterator[Any]:
        async with db.read_sessionmaker() as session:
            yield session
        fetched.set()
        await release.wait()

    held_db: Any = SimpleNamespace(
        engine=db.engine, read_engine=db.read_engine, read_sessionmaker=held_session
    )
    return LiveProductReads(held_db, render=_render_live), fetched, release


# -- on every database -------------------------------------------------------------------------


async def test_the_publishing_replica_serves_its_publication_at_once(
    catalog_app: FastAPI, catalog: httpx.AsyncClient, catalog_driver: CatalogDriver
) -> None:
    # Trusted memory that hears no notification: only the publisher's own invalidation helps.
    reads = reads_of(catalog_app)
    await reads.close()
    reads.freshness = AlwaysFresh()
    product, _, _ = await catalog_driver.listing()
    await catalog_driver.go_live(product["id"])
    assert (await live(catalog, product["id"]))["revision"] == 1

    await next_revision(catalog_driver, product["id"], 2)

    assert (await live(catalog, product["id"]))["revision"] == 2


async def test_trusted_memory_answers_without_the_database(
    catalog_app: FastAPI, catalog: httpx.AsyncClient, catalog_driver: CatalogDriver
) -> None:
    reads = reads_of(catalog_app)
    await reads.close()
    reads.freshness = AlwaysFresh()
    product, _, _ = await catalog_driver.listing()
    await catalog_driver.go_live(product["id"])
    before = (await live(catalog, product["id"]))["published_at"]

    await change_behind_the_service(runtime_of(catalog_app).db, product["id"])

    assert (await live(catalog, product["id"]))["published_at"] == before


async def test_without_trusted_memory_every_read_asks_the_database(
    catalog_app: FastAPI, catalog: httpx.AsyncClient, catalog_driver: CatalogDriver
) -> None:
    reads = reads_of(catalog_app)
    await reads.close()  # no listener, no change counter
    assert not memory_trusted(catalog_app)
    product, _, _ = await catalog_driver.listing()
    await catalog_driver.go_live(product["id"])
    await live(catalog, product["id"])

    moved = await change_behind_the_service(runtime_of(catalog_app).db, product["id"])

    assert same_instant((await live(catalog, product["id"]))["published_at"], moved)


async def test_a_read_that_raced_an_invalidation_does_not_keep_what_it_read(
    catalog_app: FastAPI, catalog_driver: CatalogDriver
) -> None:
    product, _, _ = await catalog_driver.listing()
    await catalog_driver.go_live(product["id"])
    reads, fetched, release = held_reads(runtime_of(catalog_app).db)
    reads.freshness = AlwaysFresh()

    # The read has fetched revision 1; revision 2 goes live (and is announced) before it ends.
    racing = asyncio.create_task(reads.get(product["id"]))
    await asyncio.wait_for(fetched.wait(), DEADLINE_SECONDS)
    fetched.clear()
    await next_revision(catalog_driver, product["id"], 2)
    reads.forget(product["id"])
    release.set()
    assert b'"revision":1' in await racing

    assert b'"revision":2' in await reads.get(product["id"])


async def test_an_unpublished_product_is_not_found_and_then_found_once_live(
    catalog_app: FastAPI, catalog: httpx.AsyncClient, catalog_driver: CatalogDriver
) -> None:
    reads = reads_of(catalog_app)
    await reads.close()
    reads.freshness = AlwaysFresh()
    product, _, _ = await catalog_driver.listing()
    assert (await catalog.get(f"/v1/products/{product['id']}")).status_code == 404

    await catalog_driver.go_live(product["id"])

    assert (await live(catalog, product["id"]))["revision"] == 1


# -- two replicas on one database -------------------------------------------------------------


@pytest.fixture
async def replica_b(catalog_settings: CatalogSettings) -> AsyncIterator[FastAPI]:
    """A second catalog app on the same database (`catalog_app` is replica A)."""
    app = create_app(catalog_settings)
    async with LifespanManager(app):
        yield app


@pytest.fixture
async def catalog_b(replica_b: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=replica_b)
    async with httpx.AsyncClient(transport=transport, base_url="http://catalog-b.test") as client:
        yield client


@pytest.fixture
def hold_reconnects(monkeypatch: pytest.MonkeyPatch) -> Iterator[asyncio.Event]:
    """Listeners that lose their connection can't reconnect until the event is set."""
    release = asyncio.Event()
    real_connect = shared.notifications.connect

    async def held_connect(args: dict[str, Any]) -> Any:
        await release.wait()
        return await real_connect(args)

    monkeypatch.setattr(shared.notifications, "connect", held_connect)
    yield release
    release.set()


async def both_trusted(*apps: FastAPI) -> None:
    await eventually(lambda: all(memory_trusted(app) for app in apps), "the listeners are up")


@postgres
async def test_a_publication_through_one_replica_reaches_the_other_through_notify(
    catalog_app: FastAPI,
    replica_b: FastAPI,
    catalog: httpx.AsyncClient,
    catalog_b: httpx.AsyncClient,
    catalog_driver: CatalogDriver,
) -> None:
    await both_trusted(catalog_app, replica_b)
    product, _, _ = await catalog_driver.listing()
    await catalog_driver.go_live(product["id"])
    assert (await live(catalog, product["id"]))["revision"] == 1
    assert (await live(catalog_b, product["id"]))["revision"] == 1

    await next_revision(catalog_driver, product["id"], 2)

    assert (await live(catalog, product["id"]))["revision"] == 2  # the publisher: no wait
    waited = await eventually(
        lambda: _revision_is(catalog_b, product["id"], 2), "replica B serves revision 2"
    )
    assert waited < DEADLINE_SECONDS
    assert memory_trusted(replica_b)


@postgres
async def test_first_publication_is_seen_by_replicas_that_answered_404(
    catalog_app: FastAPI,
    replica_b: FastAPI,
    catalog: httpx.AsyncClient,
    catalog_b: httpx.AsyncClient,
    catalog_driver: CatalogDriver,
) -> None:
    await both_trusted(catalog_app, replica_b)
    product, _, _ = await catalog_driver.listing()
    for client in (catalog, catalog_b):
        assert (await client.get(f"/v1/products/{product['id']}")).status_code == 404

    await catalog_driver.go_live(product["id"])

    assert (await live(catalog, product["id"]))["revision"] == 1  # the publisher: no wait
    await eventually(lambda: _found(catalog_b, product["id"]), "replica B serves the new product")


@postgres
async def test_a_replica_whose_listener_is_killed_asks_the_database_until_it_is_back(
    catalog_app: FastAPI,
    replica_b: FastAPI,
    catalog_b: httpx.AsyncClient,
    catalog_driver: CatalogDriver,
    hold_reconnects: asyncio.Event,
) -> None:
    await both_trusted(catalog_app, replica_b)
    db: Database = runtime_of(catalog_app).db
    read_during_outage = (await catalog_driver.listing())[0]
    untouched_during_outage = (await catalog_driver.listing())[0]
    for product in (read_during_outage, untouched_during_outage):
        await catalog_driver.go_live(product["id"])
        assert (await live(catalog_b, product["id"]))["revision"] == 1

    # B's listener is killed and can't come back yet: B must stop trusting its memory.
    pid = listener_of(replica_b).server_pid
    async with db.engine.connect() as conn:
        assert (
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        ).scalar()
    await eventually(lambda: not memory_trusted(replica_b), "replica B distrusts its memory")

    # Publications through A while B hears nothing: B reads the database, right away.
    for product in (read_during_outage, untouched_during_outage):
        await next_revision(catalog_driver, product["id"], 2)
    assert (await live(catalog_b, read_during_outage["id"]))["revision"] == 2
    moved = await change_behind_the_service(db, read_during_outage["id"])
    assert same_instant((await live(catalog_b, read_during_outage["id"]))["published_at"], moved)
    assert not memory_trusted(replica_b)

    # Back: memory is cleared (what B kept of the other product went stale unheard)...
    hold_reconnects.set()
    await eventually(lambda: memory_trusted(replica_b), "replica B's listener is back")
    assert listener_of(replica_b).server_pid not in (None, pid)
    assert (await live(catalog_b, untouched_during_outage["id"]))["revision"] == 2

    # ...then used again: a change behind the service's back goes unseen...
    kept = (await live(catalog_b, read_during_outage["id"]))["published_at"]
    await change_behind_the_service(db, read_during_outage["id"])
    assert (await live(catalog_b, read_during_outage["id"]))["published_at"] == kept

    # ...and a publication through A reaches B through the new connection.
    await next_revision(catalog_driver, read_during_outage["id"], 3)
    await eventually(
        lambda: _revision_is(catalog_b, read_during_outage["id"], 3), "replica B serves revision 3"
    )


@on_sqlite_file
async def test_on_a_sqlite_file_a_kept_product_is_served_without_a_query(
    catalog_app: FastAPI, catalog: httpx.AsyncClient, catalog_driver: CatalogDriver
) -> None:
    assert isinstance(reads_of(catalog_app).freshness, SQLiteChangeCounter)
    product, _, _ = await catalog_driver.listing()
    await catalog_driver.go_live(product["id"])
    assert (await live(catalog, product["id"]))["revision"] == 1

    with statements_sent(runtime_of(catalog_app).db) as sent:
        assert (await live(catalog, product["id"]))["revision"] == 1

    assert sent == []


@on_sqlite_file
async def test_a_publication_through_one_process_is_served_by_the_other_at_once_on_sqlite(
    catalog_app: FastAPI,
    replica_b: FastAPI,
    catalog_b: httpx.AsyncClient,
    catalog_driver: CatalogDriver,
) -> None:
    product, _, _ = await catalog_driver.listing()
    await catalog_driver.go_live(product["id"])
    assert (await live(catalog_b, product["id"]))["revision"] == 1
    with statements_sent(runtime_of(replica_b).db) as sent:
        assert (await live(catalog_b, product["id"]))["revision"] == 1
    assert sent == []  # B answers from memory...

    await next_revision(catalog_driver, product["id"], 2)  # ...until A commits: no wait, no polling

    assert (await live(catalog_b, product["id"]))["revision"] == 2


@on_sqlite_file
async def test_a_read_that_raced_a_commit_on_sqlite_does_not_keep_what_it_read(
    catalog_app: FastAPI, catalog_driver: CatalogDriver
) -> None:
    product, _, _ = await catalog_driver.listing()
    await catalog_driver.go_live(product["id"])
    # Reads of their own on the same file, which only the change counter tells of commits.
    reads, fetched, release = held_reads(runtime_of(catalog_app).db)
    await reads.start()
    try:
        # The read has fetched revision 1; revision 2 is committed by another connection
        # before the read ends.
        racing = asyncio.create_task(reads.get(product["id"]))
        await asyncio.wait_for(fetched.wait(), DEADLINE_SECONDS)
        fetched.clear()
        await next_revision(catalog_driver, product["id"], 2)
        release.set()
        assert b'"revision":1' in await racing

        assert b'"revision":2' in await reads.get(product["id"])
    finally:
        await reads.close()


@pytest.mark.parametrize("url", ["sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:"])
async def test_an_in_memory_sqlite_database_keeps_the_per_read_check(url: str) -> None:
    # Each connection to `:memory:` is a database of its own: a counter would never move.
    db = Database(url)
    reads = LiveProductReads(db, render=_render_live)
    try:
        await reads.start()
        assert isinstance(reads.freshness, Unwatched)
        assert not reads.freshness.catch_up()
    finally:
        await reads.close()
        await db.dispose()


async def _found(client: httpx.AsyncClient, product_id: str) -> bool:
    return (await client.get(f"/v1/products/{product_id}")).status_code == 200


async def _revision_is(client: httpx.AsyncClient, product_id: str, revision: int) -> bool:
    return bool((await live(client, product_id))["revision"] == revision)
