"""The license migrations beyond the schema: licenses revoked before revision 0002 are
numbered in the order they were revoked, and the revocation counter goes on from there."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from services.license.db.repositories import CounterRepository
from services.license.main import MIGRATIONS
from services.license.service import REVOCATIONS_COUNTER
from shared.db import JSONDocument, UTCDateTime, create_engine, create_sessionmaker, upgrade
from tests.databases import fresh_database

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

INSTANCES = sa.table(
    "instances",
    *(sa.column(c, sa.String()) for c in ("id", "product_id", "plan_id", "customer_id")),
    *(sa.column(c, sa.String()) for c in ("partner_id", "base_license_id")),
    sa.column("version", sa.Integer()),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)
LICENSES = sa.table(
    "licenses",
    *(sa.column(c, sa.String()) for c in ("id", "order_id", "instance_id", "level")),
    *(sa.column(c, sa.String()) for c in ("product_id", "plan_id", "customer_id")),
    *(sa.column(c, sa.String()) for c in ("partner_id", "mode")),
    sa.column("quantity", sa.Integer()),
    sa.column("version", sa.Integer()),
    sa.column("entitlements", JSONDocument),
    *(sa.column(c, UTCDateTime()) for c in ("valid_from", "revoked_at", "created_at")),
    sa.column("updated_at", UTCDateTime()),
)


def license_row(id_: str, revoked_at: datetime | None) -> dict[str, Any]:
    return {
        "id": id_,
        "order_id": f"ord_{id_}",
        "instance_id": "ins_1",
        "level": "base" if id_ == "lic_base" else "addon",
        "product_id": "prd_1",
        "plan_id": "pln_1",
        "customer_id": "globex",
        "partner_id": "acme",
        "mode": "permanent",
        "quantity": 1,
        "version": 1,
        "entitlements": {"devices": 1},
        "valid_from": T0,
        "revoked_at": revoked_at,
        "created_at": T0,
        "updated_at": T0,
    }


async def test_revocations_made_before_0002_are_numbered_in_order(tmp_path: Path) -> None:
    async with fresh_database("license_revocation_seq", tmp_path) as url:
        await upgrade(MIGRATIONS, url, "0001")
        engine = create_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    sa.insert(INSTANCES).values(
                        id="ins_1",
                        product_id="prd_1",
                        plan_id="pln_1",
                        customer_id="globex",
                        partner_id="acme",
                        base_license_id="lic_base",
                        version=1,
                        created_at=T0,
                        updated_at=T0,
                    )
                )
                await conn.execute(
                    sa.insert(LICENSES),
                    [
                        license_row("lic_base", None),
                        license_row("lic_late", T0 + timedelta(days=2)),
                        license_row("lic_early", T0 + timedelta(days=1)),
                    ],
                )
            await upgrade(MIGRATIONS, url)
            async with engine.connect() as conn:
                rows = await conn.execute(sa.text("SELECT id, revocation_seq FROM licenses"))
                numbered: dict[str, int | None] = {id_: seq for id_, seq in rows.all()}
            async with create_sessionmaker(engine)() as session, session.begin():
                following = await CounterRepository(session).take(REVOCATIONS_COUNTER)
        finally:
            await engine.dispose()

    assert numbered == {"lic_base": None, "lic_early": 1, "lic_late": 2}
    assert following == 3
