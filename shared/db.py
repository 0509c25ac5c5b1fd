"""Async SQLAlchemy plumbing: engines, sessions, portable column types, Alembic helpers.

SQLite is the embedded default and PostgreSQL the production database; both behave alike here:
on SQLite every transaction starts with `BEGIN IMMEDIATE`, so a transaction that reads and then
writes never fails to upgrade its lock, and writers queue on `busy_timeout` instead of erroring.
A transaction that only reads may use `Database.read_sessionmaker` (or `read_engine`): on SQLite
it begins with a deferred `BEGIN`, so readers neither take the write lock nor queue for it (in
WAL mode they see the last committed state). On PostgreSQL it sends no `BEGIN`/`COMMIT` at all
(autocommit): under READ COMMITTED every statement takes its own snapshot even inside a
transaction, so for reads that take no locks this changes nothing but two round trips.

On PostgreSQL a pooled connection that sat idle for a while is pinged before it is handed out
(one dropped by a database restart or an idle timeout is replaced, not given to a request); one
returned moments ago is not. Pinging every checkout (`pool_pre_ping`) costs three round trips
per transaction, as much as a short transaction itself; and should a connection die under load
anyway, the first error on it invalidates the whole pool.

`database_unavailable` tells an error that means "the database can't be reached now" (refused
or lost connections, a server shutting down, an exhausted pool, a SQLite file that can't be
opened) from every other database error; `shared.app` answers the first kind with 503
`unavailable` and lets the rest (an IntegrityError nobody handled, a typo in SQL) be the 500s
they are. Drivers used directly (asyncpg, aiosqlite) raise the same kinds of errors, so the
rule covers them too.
"""

import asyncio
import socket
import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import JSON, DateTime, MetaData, event, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as sa_create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from shared.private_files import private_sqlite_file

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONDocument = JSON().with_variant(JSONB(), "postgresql")

# A pooled connection idle for longer than this is pinged before use (see the module docstring).
PING_IDLE_AFTER_SECONDS = 5.0
# The execution option that marks a read-only engine (see `Database.read_sessionmaker`).
READ_ONLY_OPTION = "market_read_only"

# Where `database_unavailable` looks: the errors a database access may raise, wrapped or not.
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    SQLAlchemyError,
    OSError,
    asyncpg.PostgresError,
    sqlite3.Error,
)
# SQLSTATEs (prefixes) of a server that can't serve the session: connection exceptions (08),
# insufficient resources (53: too many connections, disk full), operator intervention (57P:
# shutting down, starting up), and, at connect, an unknown database or a refused login.
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P", "3D000", "28")
# SQLite's primary result codes for the same: BUSY (locked past busy_timeout), IOERR, FULL,
# CANTOPEN (the file or its folder is gone or unreadable).
_UNAVAILABLE_SQLITE_CODES = frozenset({5, 10, 13, 14})


def database_unavailable(error: BaseException) -> bool:
    """Whether `error` means the database can't be reached now, rather than a bug.

    It looks at the error and at what it wraps (`orig`, `__cause__`): a connection SQLAlchemy
    invalidated, a pool checkout that timed out, a refused, reset or timed-out connection, a
    PostgreSQL SQLSTATE of the kinds above, a SQLite file that can't be opened or is locked.
    An IntegrityError, a syntax error or a missing table is not unavailability.
    """
    pending: list[BaseException] = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if _means_unavailable(current):
            return True
        orig = getattr(current, "orig", None)
        if isinstance(orig, BaseException):
            pending.append(orig)
        if current.__cause__ is not None:
            pending.append(current.__cause__)
    return False


def _means_unavailable(error: BaseException) -> bool:
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, (PoolTimeoutError, DisconnectionError)):
        return True
    if isinstance(error, (ConnectionError, TimeoutError, socket.gaierror)):
        return True
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
        return True
    if isinstance(error, sqlite3.Error):
        return getattr(error, "sqlite_errorcode", 0) & 0xFF in _UNAVAILABLE_SQLITE_CODES
    return False


def new_metadata() -> MetaData:
    """A MetaData with the shared constraint naming convention (stable migration names)."""
    return MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use shared.clock.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An async engine for `url`, with the SQLite settings described in the module docstring."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            # The file is made owner-only before SQLite creates it 0644 (shared.private_files).
            private_sqlite_file(Path(database))
        engine = sa_create_async_engine(url, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    engine = sa_create_async_engine(url, pool_size=pool_size, max_overflow=pool_size)
    _ping_idle_connections(engine)
    return engine


def _ping_idle_connections(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "checkin")
    def on_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def on_checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_IDLE_AFTER_SECONDS:
            return
        try:
            dbapi_connection.ping()
        except Exception as exc:
            # The pool discards this connection and checks out another (a fresh one if need be).
            raise DisconnectionError(f"a pooled connection failed its ping: {exc}") from exc


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver; the "begin" hook below issues BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY_OPTION, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


class Database:
    """One service's engine and session factory, built in the app's lifespan."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.engine = create_engine(url, pool_size=pool_size)
        self.sessionmaker = create_sessionmaker(self.engine)
        # Same pool; only how a transaction begins differs (see the module docstring).
        read_options: dict[str, Any] = {READ_ONLY_OPTION: True}
        if self.engine.dialect.name == "postgresql":
            read_options["isolation_level"] = "AUTOCOMMIT"
        self.read_engine = self.engine.execution_options(**read_options)
        self.read_sessionmaker = create_sessionmaker(self.read_engine)

    async def session(self) -> AsyncIterator[AsyncSession]:
        """Yield a session; the use case that receives it opens and ends the transaction."""
        async with self.sessionmaker() as session:
            yield session

    async def current_revision(self) -> str | None:
        """The Alembic revision the database is at (None before the first migration)."""
        async with self.engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )

    async def ping(self) -> None:
        """Raise if the database can't be reached."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def alembic_config(script_location: Path, url: str) -> Config:
    """An Alembic config for one service's migrations, built in code (no alembic.ini)."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision(script_location: Path) -> str | None:
    """The head revision of a service's migrations."""
    return ScriptDirectory.from_config(
        alembic_config(script_location, "sqlite://")
    ).get_current_head()


async def upgrade(script_location: Path, url: str, revision: str = "head") -> None:
    """Run a service's migrations up to `revision` on the database at `url`."""
    config = alembic_config(script_location, url)
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run_upgrade, config, revision)
    finally:
        await engine.dispose()


def _run_upgrade(connection: Connection, config: Config, revision: str) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def run_migrations_from_env(config: Config, target_metadata: MetaData) -> None:
    """The body of every service's `migrations/env.py`, online mode only.

    `upgrade()` passes an open connection in `config.attributes`; the plain `alembic` command
    passes none, and then an engine is made from the configured URL.
    """
    from alembic import context

    def run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return

    async def run_async() -> None:
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
        try:
            async with engine.begin() as conn:
                await conn.run_sync(run)
        finally:
            await engine.dispose()

    asyncio.run(run_async())
