"""Fresh, empty databases for tests that need one of their own (migrations, readiness).

The session's databases (`database_url` in tests/conftest.py) are migrated once and shared;
these are made per test and dropped afterwards, so a test may migrate them up and down at will.
With MARKET_TEST_POSTGRES_URL set it is a PostgreSQL database `market_test_<name>` (a name no
session database uses), otherwise a SQLite file in the given folder.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from harness.databases import create_database, drop_database


@asynccontextmanager
async def fresh_database(name: str, folder: Path) -> AsyncIterator[str]:
    """The URL of a new, empty database, dropped (PostgreSQL) when the block ends."""
    postgres_url = os.environ.get("MARKET_TEST_POSTGRES_URL")
    if not postgres_url:
        yield f"sqlite+aiosqlite:///{folder / name}.db"
        return
    database = f"market_test_{name}"
    url = await create_database(postgres_url, database)
    try:
        yield url
    finally:
        await drop_database(postgres_url, database)
