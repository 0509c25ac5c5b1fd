"""Each service's migrations build exactly its models' schema, and undo it cleanly.

Run on a fresh database of their own (SQLite, or PostgreSQL with MARKET_TEST_POSTGRES_URL),
never the session's shared test databases.
"""

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, inspect
from sqlalchemy.engine import Connection

from services.catalog.db.models import Base as CatalogBase
from services.license.db.models import Base as LicenseBase
from services.review.db.models import Base as ReviewBase
from shared.db import alembic_config, create_engine, head_revision, upgrade
from tests.conftest import SERVICES_DIR
from tests.databases import fresh_database

SERVICES: dict[str, MetaData] = {
    "catalog": CatalogBase.metadata,
    "license": LicenseBase.metadata,
    "review": ReviewBase.metadata,
}


def _differences(connection: Connection, metadata: MetaData) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "compare_server_default": True},
    )
    return list(compare_metadata(context, metadata))


def _downgrade(connection: Connection, migrations: Path, url: str, revision: str) -> None:
    config = alembic_config(migrations, url)
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def _revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await engine.dispose()


@pytest.mark.parametrize("service", SERVICES)
async def test_the_migrations_match_the_models(service: str, tmp_path: Path) -> None:
    metadata = SERVICES[service]
    async with fresh_database(f"{service}_migrations", tmp_path) as url:
        await upgrade(SERVICES_DIR / service / "migrations", url)
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                differences = await conn.run_sync(_differences, metadata)
                tables = await conn.run_sync(_tables)
        finally:
            await engine.dispose()

    assert differences == [], "the models and the migrations differ: add a migration"
    assert tables == {*metadata.tables, "alembic_version"}


@pytest.mark.parametrize("service", SERVICES)
async def test_downgrade_to_base_and_upgrade_again(service: str, tmp_path: Path) -> None:
    migrations = SERVICES_DIR / service / "migrations"
    metadata = SERVICES[service]
    async with fresh_database(f"{service}_migrations", tmp_path) as url:
        await upgrade(migrations, url)
        engine = create_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(_downgrade, migrations, url, "base")
            async with engine.connect() as conn:
                after_downgrade = await conn.run_sync(_tables)
            assert await _revision(url) is None

            await upgrade(migrations, url)

            async with engine.connect() as conn:
                after_upgrade = await conn.run_sync(_tables)
                differences = await conn.run_sync(_differences, metadata)
        finally:
            await engine.dispose()
        revision = await _revision(url)

    assert after_downgrade <= {"alembic_version"}
    assert after_upgrade == {*metadata.tables, "alembic_version"}
    assert differences == []
    assert revision == head_revision(migrations)
