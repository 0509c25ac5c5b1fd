"""The license migrations build exactly the models' schema, and undo it cleanly.

The drift check runs on the session's license database (SQLite, or PostgreSQL with
MARKET_TEST_POSTGRES_URL), built by the real migrations; the round trip down to base and up
again runs on a SQLite file of its own, so it never touches a database other tests use.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from services.license.db.models import Base
from services.license.main import MIGRATIONS
from shared.db import alembic_config, create_engine, head_revision, upgrade


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, Base.metadata))


def _state(connection: Connection) -> tuple[set[str], str | None]:
    revision = MigrationContext.configure(connection).get_current_revision()
    return set(inspect(connection).get_table_names()), revision


def _downgrade(connection: Connection, url: str) -> None:
    config = alembic_config(MIGRATIONS, url)
    config.attributes["connection"] = connection
    command.downgrade(config, "base")


async def test_the_migrations_match_the_models(database_url: Callable[[str], str]) -> None:
    engine = create_engine(database_url("license"))
    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(_differences)
            tables, revision = await conn.run_sync(_state)
    finally:
        await engine.dispose()

    assert differences == [], "the models and the migrations differ: add a migration"
    assert tables == {*Base.metadata.tables, "alembic_version"}
    assert revision == head_revision(MIGRATIONS)


async def test_downgrade_to_base_and_upgrade_again(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'license.db'}"
    await upgrade(MIGRATIONS, url)
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_downgrade, url)
        async with engine.connect() as conn:
            after_downgrade, revision_down = await conn.run_sync(_state)
        await upgrade(MIGRATIONS, url)
        async with engine.connect() as conn:
            after_upgrade, revision_up = await conn.run_sync(_state)
            differences = await conn.run_sync(_differences)
    finally:
        await engine.dispose()

    assert after_downgrade <= {"alembic_version"}
    assert revision_down is None
    assert after_upgrade == {*Base.metadata.tables, "alembic_version"}
    assert revision_up == head_revision(MIGRATIONS)
    assert differences == []
