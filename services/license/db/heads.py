"""One-row reads on the hot paths: an instance's head (entitlement) and a license's (verify).

Every entitlement read starts with the instance's `version` and owners, and every online
verification with the license's version and revocation; while the cached bundle is still the
right one, that read is all the database work a request does. Through a pooled SQLAlchemy
session on SQLite it costs half a dozen hand-offs to aiosqlite's thread (checkout,
`BEGIN IMMEDIATE`, execute, fetch, commit, reset), which dominates the request. So on SQLite
these reads use one dedicated read-only aiosqlite connection outside any transaction (WAL mode:
each statement reads the latest committed state and never waits for a writer), one hand-off
per read. When a bundle must be (re)built, its read-only transaction runs on a SQLite engine
of its own that begins with a deferred `BEGIN`: readers then never queue for the write lock
(nor sleep in SQLite's busy handler) behind each other.

On PostgreSQL the same read through the engine costs a pool checkout, an implicit `BEGIN`, the
`SELECT` and a `ROLLBACK` (three round trips) and SQLAlchemy's adapter around each: about ten
times the client CPU of the statement itself. So heads are read through a small asyncpg pool
of the reader's own (the engine's connection arguments), one prepared statement per read and
no transaction: a single statement sees one committed snapshot, so a commit is seen by the
very next read, by every replica. As the pool only ever runs these two `SELECT`s, a connection
goes back to it without asyncpg's session reset (one more round trip). Bundles are still
(re)built in a session on the service's engine.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import aiosqlite
import asyncpg
from sqlalchemy import Select, bindparam, event, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.sql import ClauseElement

from services.license.db.models import InstanceRow, LicenseRow
from shared.db import Database
from shared.notifications import asyncpg_connect_args

# Connections of the PostgreSQL head pool. A head read holds one for a primary-key lookup
# (a fraction of a millisecond), so a few serve far more reads than one process can answer.
HEAD_POOL_SIZE = 10
# How long a head read waits for a free connection: what SQLAlchemy's pool waits by default.
HEAD_POOL_TIMEOUT_SECONDS = 30.0
HEAD_POOL_APPLICATION_NAME = "market-license-heads"
# How long `close()` lets reads in flight finish before it cuts their connections.
CLOSE_TIMEOUT_SECONDS = 5.0

log = logging.getLogger("market.license")


@dataclass(frozen=True, slots=True)
class InstanceHead:
    """What an entitlement read needs first: who may read it, and its version."""

    id: str
    version: int
    customer_id: str
    partner_id: str
    product_id: str
    plan_id: str


@dataclass(frozen=True, slots=True)
class LicenseHead:
    """What online verification needs from the database."""

    id: str
    version: int
    instance_id: str
    product_id: str
    revoked: bool


class HeadReader(Protocol):
    async def instance(self, instance_id: str) -> InstanceHead | None: ...

    async def license(self, license_id: str) -> LicenseHead | None: ...

    def read_session(self) -> AbstractAsyncContextManager[AsyncSession]: ...

    async def close(self) -> None: ...


def _instance_query() -> Select[str, int, str, str, str, str]:
    return select(
        InstanceRow.id,
        InstanceRow.version,
        InstanceRow.customer_id,
        InstanceRow.partner_id,
        InstanceRow.product_id,
        InstanceRow.plan_id,
    )


def _license_query() -> Select[str, int, str, str, bool]:
    return select(
        LicenseRow.id,
        LicenseRow.version,
        LicenseRow.instance_id,
        LicenseRow.product_id,
        LicenseRow.revoked_at.is_not(None),
    )


class SessionHeadReader:
    """Heads through the service's engine (an in-memory SQLite database, other drivers)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def instance(self, instance_id: str) -> InstanceHead | None:
        async with self._db.engine.connect() as conn:
            row = (
                await conn.execute(_instance_query().where(InstanceRow.id == instance_id))
            ).first()
        return _instance_head(tuple(row)) if row else None

    async def license(self, license_id: str) -> LicenseHead | None:
        async with self._db.engine.connect() as conn:
            row = (await conn.execute(_license_query().where(LicenseRow.id == license_id))).first()
        return _license_head(tuple(row)) if row else None

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction, for reads only."""
        async with self._db.sessionmaker() as session, session.begin():
            yield session

    async def close(self) -> None:
        return None


class _DriverHeadReader:
    """Heads read by one SQL statement each, straight through a driver (`_one`)."""

    _instance_sql: str
    _license_sql: str

    async def instance(self, instance_id: str) -> InstanceHead | None:
        row = await self._one(self._instance_sql, instance_id)
        return _instance_head(row) if row else None

    async def license(self, license_id: str) -> LicenseHead | None:
        row = await self._one(self._license_sql, license_id)
        return _license_head(row) if row else None

    async def _one(self, sql: str, key: str) -> tuple[Any, ...] | None:
        raise NotImplementedError


class SQLiteHeadReader(_DriverHeadReader):
    """Heads through one read-only aiosqlite connection, opened on first use."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._conn: aiosqlite.Connection | None = None
        self._opening = asyncio.Lock()
        self._engine = _read_only_engine(path)
        key: Any = bindparam("key")
        self._instance_sql = _sql(_instance_query().where(InstanceRow.id == key), sqlite.dialect())
        self._license_sql = _sql(_license_query().where(LicenseRow.id == key), sqlite.dialect())

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        """A session in a deferred (reading) transaction on the read-only engine."""
        async with AsyncSession(self._engine, expire_on_commit=False) as session, session.begin():
            yield session

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
        await self._engine.dispose()

    async def _one(self, sql: str, key: str) -> tuple[Any, ...] | None:
        conn = self._conn or await self._open()
        rows = list(await conn.execute_fetchall(sql, (key,)))
        return tuple(rows[0]) if rows else None

    async def _open(self) -> aiosqlite.Connection:
        async with self._opening:
            if self._conn is None:
                # Autocommit (no isolation level): each read sees the newest committed state
                # and no transaction is ever held open.
                conn = await aiosqlite.connect(
                    f"file:{self._path}?mode=ro", uri=True, timeout=30, isolation_level=None
                )
                await conn.execute("PRAGMA query_only=1")
                self._conn = conn
            return self._conn


class PostgresHeadReader(_DriverHeadReader):
    """Heads through an asyncpg pool of its own (see the module docstring), opened on first use.

    Opening it on first use keeps the service's start independent of the database, as the
    engine's is; a read that can't reach the database raises the driver's error, as the engine
    would (the app answers it 503 `unavailable`, see `shared.db.database_unavailable`), and the
    next read tries again. A pooled connection the server closed while it sat
    idle (a restart, `idle_session_timeout`, `pg_terminate_backend`) is replaced when a read
    takes it; one lost in the middle of a read fails that read, as through the engine.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._connect_args = asyncpg_connect_args(db.engine)
        # Named, so that `pg_stat_activity` tells these connections from the engine's.
        server_settings = dict(self._connect_args.get("server_settings") or {})
        server_settings.setdefault("application_name", HEAD_POOL_APPLICATION_NAME)
        self._connect_args["server_settings"] = server_settings
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()
        key: Any = bindparam("key")
        dialect = db.engine.dialect
        self._instance_sql = _sql(_instance_query().where(InstanceRow.id == key), dialect)
        self._license_sql = _sql(_license_query().where(LicenseRow.id == key), dialect)

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction on the service's engine, for reads only."""
        async with self._db.read_sessionmaker() as session, session.begin():
            yield session

    async def close(self) -> None:
        async with self._opening:
            pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            await asyncio.wait_for(pool.close(), CLOSE_TIMEOUT_SECONDS)
        except TimeoutError:
            # A read still holds a connection; the app is going away regardless.
            log.warning("head pool did not close in time; terminating its connections")
            pool.terminate()
        except BaseException:
            pool.terminate()
            raise

    async def _one(self, sql: str, key: str) -> tuple[Any, ...] | None:
        pool = self._pool or await self._open()
        # asyncio.timeout, not `acquire(timeout=)`: that one runs each acquire as a new task.
        async with asyncio.timeout(HEAD_POOL_TIMEOUT_SECONDS):
            conn = await pool.acquire()
        try:
            row = await conn.fetchrow(sql, key)
        finally:
            await pool.release(conn)
        return tuple(row) if row is not None else None

    async def _open(self) -> asyncpg.Pool:
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    min_size=1,
                    max_size=HEAD_POOL_SIZE,
                    reset=_keep_session,
                    **self._connect_args,
                )
            return self._pool


async def _keep_session(_connection: asyncpg.Connection) -> None:
    # The head pool runs nothing but single SELECTs: no session state to reset (asyncpg rolls
    # back a transaction left open before it calls this).
    return None


def _read_only_engine(path: str) -> AsyncEngine:
    engine = create_async_engine(
        f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true", connect_args={"timeout": 30}
    )

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA query_only=1")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


def _instance_head(row: tuple[Any, ...]) -> InstanceHead:
    id_, version, customer_id, partner_id, product_id, plan_id = row
    return InstanceHead(
        str(id_), int(version), str(customer_id), str(partner_id), str(product_id), str(plan_id)
    )


def _license_head(row: tuple[Any, ...]) -> LicenseHead:
    id_, version, instance_id, product_id, revoked = row
    return LicenseHead(str(id_), int(version), str(instance_id), str(product_id), bool(revoked))


def _sql(query: ClauseElement, dialect: Dialect) -> str:
    # The one bound key becomes the first positional parameter: `?` on SQLite (qmark), `$1` on
    # asyncpg (numeric_dollar).
    return str(query.compile(dialect=dialect))


def head_reader(db: Database) -> HeadReader:
    """The fastest reader for this database (see the module docstring)."""
    url = make_url(db.url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return SQLiteHeadReader(url.database)
    if url.get_backend_name() == "postgresql" and url.get_driver_name() == "asyncpg":
        return PostgresHeadReader(db)
    return SessionHeadReader(db)
