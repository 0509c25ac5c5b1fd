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

import asyncpg
from sqlalchemy.engine import URL, make_url


@asynccontextmanager
async def fresh_database(name: str, folder: Path) -> AsyncIterator[str]:
    """The URL of a new, empty database, dropped (PostgreSQL) when the block ends."""
    postgres_url = os.environ.get("MARKET_TEST_POSTGRES_URL")
    if not postgres_url:
        yield f"sqlite+aiosqlite:///{folder / name}.db"
        return
    server = make_url(postgres_url)
    database = f"market_test_{name}"
    drop = f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'
    await run_on_server(server, drop, f'CREATE DATABASE "{database}"')
    try:
        yield server.set(database=database).render_as_string(hide_password=False)
    finally:
        await run_on_server(server, drop)


async def run_on_server(server: URL | str, *statements: str) -> None:
    """Run `statements` on the server of `server` (a database URL), in its `postgres` database:
    creating and dropping databases."""
    server = make_url(server)
    conn = await asyncpg.connect(
        host=server.host,
        port=server.port or 5432,
        user=server.username,
        password=server.password,
        database="postgres",
    )
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()
