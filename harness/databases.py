"""PostgreSQL databases made and dropped on a server, for tests and benchmarks that want
databases of their own."""

import asyncpg
from sqlalchemy.engine import URL, make_url


async def create_database(server: URL | str, name: str) -> str:
    """Create database `name` afresh on the server of `server` (a database URL; one left by
    an earlier run is dropped first); its URL."""
    await run_on_server(server, _drop(name), f'CREATE DATABASE "{name}"')
    return make_url(server).set(database=name).render_as_string(hide_password=False)


async def drop_database(server: URL | str, name: str) -> None:
    """Drop database `name`, if it exists, closing its connections."""
    await run_on_server(server, _drop(name))


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


def _drop(name: str) -> str:
    return f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
