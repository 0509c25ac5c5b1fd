"""SQLite's change counter as a freshness: every commit by another connection is seen, never
one that didn't happen; a counter that can't be read stops trusting memory and never raises.

These tests make their own database files (any test database is fine: SQLite is always there).
"""

import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from shared.freshness import SQLiteChangeCounter, Unwatched, sqlite_file


class Changes:
    """Counts the counter's `on_change` calls."""

    def __init__(self) -> None:
        self.seen = 0

    def __call__(self) -> None:
        self.seen += 1


def wal_database(path: Path) -> sqlite3.Connection:
    """A database file in WAL mode (as `shared.db` makes them), and a connection that writes."""
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("CREATE TABLE t (x INTEGER)")
    return writer


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = wal_database(tmp_path / "db.sqlite")
    yield connection
    connection.close()


async def test_each_commit_of_another_connection_is_seen_once(
    tmp_path: Path, writer: sqlite3.Connection
) -> None:
    changes = Changes()
    counter = SQLiteChangeCounter(tmp_path / "db.sqlite", on_change=changes)
    try:
        assert counter.catch_up()
        assert changes.seen == 1  # the first reading: whatever was kept before is dropped
        assert counter.catch_up()
        assert changes.seen == 1

        writer.execute("BEGIN")
        writer.execute("INSERT INTO t VALUES (1)")
        assert counter.catch_up()
        assert changes.seen == 1  # not committed yet

        writer.execute("COMMIT")
        assert counter.catch_up()
        assert changes.seen == 2
        assert counter.catch_up()
        assert changes.seen == 2

        # Another process's commit counts the same.
        other = sqlite3.connect(tmp_path / "db.sqlite", isolation_level=None)
        other.execute("INSERT INTO t VALUES (2)")
        other.close()
        assert counter.catch_up()
        assert changes.seen == 3
    finally:
        await counter.close()
    assert not counter.catch_up()


async def test_a_missing_file_is_not_created_and_memory_is_not_trusted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    changes = Changes()
    counter = SQLiteChangeCounter(tmp_path / "absent.sqlite", on_change=changes)

    assert not counter.catch_up()
    assert not (tmp_path / "absent.sqlite").exists()
    assert changes.seen == 0
    assert [r.levelno for r in caplog.records if r.name == "market.freshness"] == [logging.WARNING]


async def test_a_database_not_in_wal_mode_is_not_counted(tmp_path: Path) -> None:
    # Outside WAL mode a reading would wait behind every commit, on the event loop.
    plain = sqlite3.connect(tmp_path / "db.sqlite", isolation_level=None)
    plain.execute("CREATE TABLE t (x INTEGER)")
    plain.close()

    counter = SQLiteChangeCounter(tmp_path / "db.sqlite", on_change=Changes())

    assert not counter.catch_up()


class BrokenConnection:
    """A connection whose every statement fails, as one to a vanished file might."""

    closed = False

    def execute(self, _sql: str) -> sqlite3.Cursor:
        raise sqlite3.OperationalError("disk I/O error")

    def close(self) -> None:
        self.closed = True


async def test_a_reading_that_fails_stops_trusting_memory_for_good_and_logs_once(
    tmp_path: Path,
    writer: sqlite3.Connection,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counter = SQLiteChangeCounter(tmp_path / "db.sqlite", on_change=Changes())
    assert counter.catch_up()
    broken = BrokenConnection()
    monkeypatch.setattr(counter, "_connection", broken)

    assert not counter.catch_up()
    assert not counter.catch_up()

    assert broken.closed
    assert [r.levelno for r in caplog.records if r.name == "market.freshness"] == [logging.WARNING]
    await counter.close()


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite+aiosqlite:///var/catalog.db", Path("var/catalog.db")),
        ("sqlite+aiosqlite:////tmp/catalog.db", Path("/tmp/catalog.db")),
        ("sqlite+aiosqlite://", None),
        ("sqlite+aiosqlite:///:memory:", None),
        ("sqlite+aiosqlite:///file:shared?mode=memory&cache=shared&uri=true", None),
        ("postgresql+asyncpg://postgres@127.0.0.1/catalog", None),
    ],
)
def test_only_a_sqlite_database_file_has_a_path(url: str, path: Path | None) -> None:
    assert sqlite_file(make_url(url)) == path


async def test_unwatched_never_trusts_memory() -> None:
    assert not Unwatched().catch_up()
