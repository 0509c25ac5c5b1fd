"""The orders migrations build exactly the models' schema, and undo it cleanly (on a fresh
database of their own, SQLite or PostgreSQL)."""

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from services.orders.db.models import Base
from services.orders.main import MIGRATIONS
from shared.db import alembic_config, create_engine, upgrade
from tests.databases import fresh_database


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _downgrade(connection: Connection, url: str) -> None:
    config = alembic_config(MIGRATIONS, url)
    config.attributes["connection"] = connection
    command.downgrade(config, "base")


async def test_the_migrations_match_the_models_and_downgrade_cleanly(tmp_path: Path) -> None:
    async with fresh_database("orders_migrations", tmp_path) as url:
        await upgrade(MIGRATIONS, url)
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                differences = await conn.run_sync(_differences)
                tables = await conn.run_sync(_tables)
            async with engine.begin() as conn:
                await conn.run_sync(_downgrade, url)
            async with engine.connect() as conn:
                after_downgrade = await conn.run_sync(_tables)
        finally:
            await engine.dispose()
        await upgrade(MIGRATIONS, url)

    assert differences == [], "the models and the migrations differ: add a migration"
    assert tables == {*Base.metadata.tables, "alembic_version"}
    assert after_downgrade <= {"alembic_version"}
