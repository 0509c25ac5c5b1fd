"""The orders migrations build exactly the models' schema, and undo it cleanly (on a fresh
database of their own, SQLite or PostgreSQL)."""

from datetime import timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import bindparam, column, inspect, table, text
from sqlalchemy.engine import Connection

from services.orders.db.models import Base
from services.orders.main import MIGRATIONS
from shared.clock import utcnow
from shared.db import JSONDocument, UTCDateTime, alembic_config, create_engine, upgrade
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


EXISTING_ORDER = {
    "type": "new",
    "customer_id": "acme",
    "partner_id": "acme",
    "product_id": "prd_1",
    "revision": 1,
    "instance_id": "ins_1",
    "quantity": 1,
    "amount_minor": 4900,
    "currency": "EUR",
    "entitlements": {},
    "requires_acceptance": False,
    "acceptance_days": 7,
    "status": "fulfilled",
}
ORDERS_AT_0001 = table(
    "orders",
    *(column(name) for name in ("id", *EXISTING_ORDER) if name != "entitlements"),
    column("entitlements", JSONDocument),
    column("created_at", UTCDateTime),
    column("updated_at", UTCDateTime),
)


async def test_keys_stored_before_roles_get_the_role_of_the_route_that_made_them(
    tmp_path: Path,
) -> None:
    # One sub, `acme`, both customer and partner (the collision of issue 10, finding 9).
    records = {
        "place": ("ord_placed", 201),
        "place-refused": ("ord_never", 422),
        "pay": ("pay_1", 200),
        "pay-unfinished": ("pay_2", None),
        "refund": ("ord_placed", 200),
    }
    async with fresh_database("orders_migration_roles", tmp_path) as url:
        await upgrade(MIGRATIONS, url, "0001")
        engine = create_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    ORDERS_AT_0001.insert().values(
                        id="ord_placed", created_at=utcnow(), updated_at=utcnow(), **EXISTING_ORDER
                    )
                )
                for key, (resource_id, status_code) in records.items():
                    await conn.execute(
                        text(
                            "INSERT INTO idempotency_records (principal, key, fingerprint,"
                            " resource_id, status_code, created_at, locked_until) VALUES"
                            " ('acme', :key, 'fp', :resource_id, :status_code, :at, :at)"
                        ).bindparams(
                            key=key, resource_id=resource_id, status_code=status_code, at=utcnow()
                        )
                    )
        finally:
            await engine.dispose()
        await upgrade(MIGRATIONS, url)
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                roles: dict[str, str] = dict(
                    (await conn.execute(text("SELECT key, role FROM idempotency_records"))).all()
                )
        finally:
            await engine.dispose()

    assert roles == {
        "place": "customer",
        "place-refused": "customer",
        "pay": "customer",
        "pay-unfinished": "customer",
        "refund": "partner",
    }


PAYMENTS_AT_0002 = table(
    "payments",
    *(column(name) for name in ("id", "order_id", "provider", "amount_minor", "currency")),
    column("status"),
    column("created_at", UTCDateTime),
    column("updated_at", UTCDateTime),
    column("settled_at", UTCDateTime),
)


async def test_orders_paid_before_get_the_payment_whose_settlement_paid_them(
    tmp_path: Path,
) -> None:
    paid_at = utcnow() - timedelta(hours=1)
    late = utcnow()
    async with fresh_database("orders_migration_payment", tmp_path) as url:
        await upgrade(MIGRATIONS, url, "0002")
        engine = create_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    ORDERS_AT_0001.insert().values(
                        id="ord_paid", created_at=paid_at, updated_at=paid_at, **EXISTING_ORDER
                    )
                )
                await conn.execute(
                    text("UPDATE orders SET paid_at = :at").bindparams(
                        bindparam("at", paid_at, type_=UTCDateTime)
                    )
                )
                for payment_id, settled_at in (("pay_late", late), ("pay_paid", paid_at)):
                    await conn.execute(
                        PAYMENTS_AT_0002.insert().values(
                            id=payment_id,
                            order_id="ord_paid",
                            provider="external",
                            amount_minor=4900,
                            currency="EUR",
                            status="settled",
                            created_at=paid_at,
                            updated_at=settled_at,
                            settled_at=settled_at,
                        )
                    )
        finally:
            await engine.dispose()
        await upgrade(MIGRATIONS, url)
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                paid_by = (await conn.execute(text("SELECT payment_id FROM orders"))).scalar_one()
        finally:
            await engine.dispose()

    assert paid_by == "pay_paid"
