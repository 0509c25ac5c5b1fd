"""Helpers for tests of a database that can't be reached: assertions and real outages."""

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.problems import assert_problem


def assert_unavailable(response: httpx.Response, caplog: pytest.LogCaptureFixture) -> None:
    """503 `unavailable` with a Retry-After, logged as such (not as an unhandled error)."""
    body = assert_problem(response, 503, "unavailable")
    assert "database" in body["detail"]
    assert int(response.headers["retry-after"]) > 0
    logged = [r for r in caplog.records if r.name == "market.db"]
    assert logged, [r.getMessage() for r in caplog.records]
    assert logged[-1].levelno == logging.ERROR
    assert not [r for r in caplog.records if r.name == "market.error"]


@contextmanager
def watching_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Let `caplog` see the database and error logs even after an app's lifespan has
    replaced the root logger's handlers with its JSON one (`configure_logging`)."""
    loggers = [logging.getLogger(name) for name in ("market.db", "market.error")]
    for logger in loggers:
        logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO):
            yield
    finally:
        for logger in loggers:
            logger.removeHandler(caplog.handler)


async def terminate_backend(url: str, pid: int) -> None:
    """End server session `pid` of the PostgreSQL server at `url`, as an administrator would."""
    server = make_url(url)
    admin = await asyncpg.connect(
        host=server.host, port=server.port or 5432, user=server.username, database="postgres"
    )
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1, 5000)", pid)
    finally:
        await admin.close()


def _aiosqlite_threads() -> int:
    return sum(1 for t in threading.enumerate() if "_connection_worker_thread" in t.name)


@asynccontextmanager
async def failing_sqlite_connects() -> AsyncIterator[None]:
    """Around requests whose aiosqlite connections fail to open: wait for their threads.

    aiosqlite ends the thread of a connection that failed to open with a call into the event
    loop; were the test's loop closed first, that call would fail in the thread.
    """
    before = _aiosqlite_threads()
    yield
    for _ in range(100):
        if _aiosqlite_threads() <= before:
            return
        await asyncio.sleep(0.01)
