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
(nor sleep in SQLite's busy handler) behind each other. On PostgreSQL all of these go through
the service's engine like every other query.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import aiosqlite
from sqlalchemy import Select, bindparam, event, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.sql import ClauseElement

from services.license.db.models import InstanceRow, LicenseRow
from shared.db import Database


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
    """Heads through the service's engine (PostgreSQL, or an in-memory SQLite database)."""

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


class SQLiteHeadReader:
    """Heads through one read-only aiosqlite connection, opened on first use."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._conn: aiosqlite.Connection | None = None
        self._opening = asyncio.Lock()
        self._engine = _read_only_engine(path)
        key: Any = bindparam("key")
        self._instance_sql = _sqlite_sql(_instance_query().where(InstanceRow.id == key))
        self._license_sql = _sqlite_sql(_license_query().where(LicenseRow.id == key))

    async def instance(self, instance_id: str) -> InstanceHead | None:
        row = await self._one(self._instance_sql, instance_id)
        return _instance_head(row) if row else None

    async def license(self, license_id: str) -> LicenseHead | None:
        row = await self._one(self._license_sql, license_id)
        return _license_head(row) if row else None

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


def _sqlite_sql(query: ClauseElement) -> str:
    # SQLite's paramstyle is qmark: the one bound key becomes a single `?`.
    return str(query.compile(dialect=sqlite.dialect()))


def head_reader(db: Database) -> HeadReader:
    """The fastest reader for this database (see the module docstring)."""
    url = make_url(db.url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return SQLiteHeadReader(url.database)
    return SessionHeadReader(db)
