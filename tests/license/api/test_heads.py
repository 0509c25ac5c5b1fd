"""The one-row head reads: fresh after every commit, None for unknown ids, closed cleanly.

They run on the reader the app picks for the test database (a dedicated aiosqlite connection on
SQLite, an asyncpg pool of its own on PostgreSQL); the last tests look at the PostgreSQL
server's side of that pool.
"""

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from services.license.api.deps import runtime_of
from services.license.db.heads import (
    HEAD_POOL_APPLICATION_NAME,
    HeadReader,
    PostgresHeadReader,
    SessionHeadReader,
    SQLiteHeadReader,
    head_reader,
)
from services.license.main import create_app
from services.license.settings import LicenseSettings
from shared.app import service_state
from shared.db import Database
from tests.conftest import POSTGRES_URL
from tests.license.factories import LicenseDriver

postgres_only = pytest.mark.skipif(not POSTGRES_URL, reason="the asyncpg pool needs PostgreSQL")


@pytest.fixture
def heads(license_app: FastAPI) -> HeadReader:
    reader = runtime_of(license_app).heads
    return reader


@pytest.fixture
async def other_replica(
    license_settings: LicenseSettings, catalog_http: httpx.AsyncClient
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(license_settings, http_client=catalog_http)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://replica.test") as client:
            yield client


def test_each_database_gets_its_fastest_reader(heads: HeadReader) -> None:
    expected = PostgresHeadReader if POSTGRES_URL else SQLiteHeadReader
    assert type(heads) is expected


async def test_an_instance_head_moves_with_each_committed_mint(
    lic: LicenseDriver, heads: HeadReader
) -> None:
    base = await lic.base()
    first = await heads.instance(base["instance_id"])

    await lic.addon(base["instance_id"])
    after_addon = await heads.instance(base["instance_id"])

    assert first is not None
    assert after_addon is not None
    assert (first.id, first.customer_id, first.partner_id) == (
        base["instance_id"],
        base["customer_id"],
        base["partner_id"],
    )
    assert (first.product_id, first.plan_id) == (base["product_id"], base["plan_id"])
    assert type(first.version) is int
    assert after_addon.version == first.version + 1


async def test_a_license_head_sees_a_new_version_and_a_revocation_at_once(
    lic: LicenseDriver, heads: HeadReader
) -> None:
    base = await lic.base(requires_acceptance=True)
    minted = await heads.license(base["id"])

    assert (await lic.accept(base["order_id"])).status_code == 200
    accepted = await heads.license(base["id"])
    await lic.revoke(base["order_id"])
    revoked = await heads.license(base["id"])

    assert minted is not None
    assert accepted is not None
    assert revoked is not None
    assert (minted.id, minted.instance_id, minted.product_id) == (
        base["id"],
        base["instance_id"],
        base["product_id"],
    )
    assert (minted.version, minted.revoked) == (1, False)
    assert (accepted.version, accepted.revoked) == (2, False)
    assert revoked.revoked is True
    assert type(revoked.version) is int


async def test_it_reads_what_the_engine_reads(
    lic: LicenseDriver, heads: HeadReader, license_app: FastAPI
) -> None:
    base = await lic.base()
    addon = await lic.addon(base["instance_id"])
    await lic.revoke(addon["order_id"])
    engine_reads = SessionHeadReader(service_state(license_app).db)

    assert await heads.instance(base["instance_id"]) == await engine_reads.instance(
        base["instance_id"]
    )
    for license_id in (base["id"], addon["id"]):
        assert await heads.license(license_id) == await engine_reads.license(license_id)


async def test_unknown_ids_have_no_head(heads: HeadReader) -> None:
    assert await heads.instance("ins_nope") is None
    assert await heads.license("lic_nope") is None


async def test_verify_sees_another_replicas_revocation_on_the_very_next_call(
    lic: LicenseDriver, other_replica: httpx.AsyncClient
) -> None:
    base = await lic.base()
    assert (await lic.verify(base["token"]))["code"] == "VALID"

    revoked = await other_replica.post(
        f"/v1/internal/orders/{base['order_id']}/license/revoke",
        json={"reason": "refund"},
        headers=lic.service,
    )

    assert revoked.status_code == 200
    assert (await lic.verify(base["token"]))["code"] == "REVOKED"


async def test_verify_sees_a_new_version_on_the_very_next_call(lic: LicenseDriver) -> None:
    base = await lic.base(requires_acceptance=True)
    assert (await lic.verify(base["token"]))["code"] == "VALID"

    assert (await lic.accept(base["order_id"])).status_code == 200

    assert (await lic.verify(base["token"]))["code"] == "SUPERSEDED"


async def test_a_reader_closes_before_and_after_reads_and_twice(
    lic: LicenseDriver, license_settings: LicenseSettings
) -> None:
    base = await lic.base()
    db = Database(license_settings.database_url)
    unused, used = head_reader(db), head_reader(db)
    try:
        await unused.close()
        assert await used.instance(base["instance_id"]) is not None
        await used.close()
        await used.close()
    finally:
        await db.dispose()


async def _head_pool_backends(conn: asyncpg.Connection, database: str) -> list[int]:
    rows = await conn.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2",
        database,
        HEAD_POOL_APPLICATION_NAME,
    )
    return [row["pid"] for row in rows]


@pytest.fixture
async def pg_admin(license_settings: LicenseSettings) -> AsyncIterator[asyncpg.Connection]:
    url = make_url(license_settings.database_url)
    conn = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, database=url.database
    )
    try:
        yield conn
    finally:
        await conn.close()


@postgres_only
async def test_close_ends_the_pools_server_sessions(
    lic: LicenseDriver, license_settings: LicenseSettings, pg_admin: asyncpg.Connection
) -> None:
    base = await lic.base()
    database = str(make_url(license_settings.database_url).database)
    db = Database(license_settings.database_url)
    reader = head_reader(db)
    try:
        before = set(await _head_pool_backends(pg_admin, database))
        assert await reader.instance(base["instance_id"]) is not None
        opened = set(await _head_pool_backends(pg_admin, database)) - before
        await reader.close()
        after = set(await _head_pool_backends(pg_admin, database))
    finally:
        await db.dispose()

    assert opened
    assert not opened & after


@postgres_only
async def test_a_connection_the_server_closed_while_idle_is_replaced_not_handed_to_a_read(
    lic: LicenseDriver,
    heads: HeadReader,
    license_settings: LicenseSettings,
    pg_admin: asyncpg.Connection,
) -> None:
    base = await lic.base()
    assert await heads.instance(base["instance_id"]) is not None
    database = str(make_url(license_settings.database_url).database)
    backends = await _head_pool_backends(pg_admin, database)
    assert backends

    for pid in backends:
        assert await pg_admin.fetchval("SELECT pg_terminate_backend($1, 5000)", pid)
    # The server is done with them; give this process's loop a moment to read their goodbye.
    assert not set(backends) & set(await _head_pool_backends(pg_admin, database))
    await asyncio.sleep(0.1)

    head = await heads.instance(base["instance_id"])
    assert head is not None
    assert head.id == base["instance_id"]
