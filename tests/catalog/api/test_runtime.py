"""The catalog's shape: one use-case object per process, deciding read or write per use case."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI

from services.catalog.api.deps import runtime_of
from services.catalog.service import CatalogService
from shared.db import Database
from tests.catalog.factories import CatalogDriver


@contextmanager
def sessions_opened(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Which of the database's session factories each transaction came from, in order."""
    opened: list[str] = []

    def counting(kind: str, factory: Callable[[], Any]) -> Callable[[], Any]:
        def open_session() -> Any:
            opened.append(kind)
            return factory()

        return open_session

    with monkeypatch.context() as patch:
        patch.setattr(db, "sessionmaker", counting("write", db.sessionmaker))
        patch.setattr(db, "read_sessionmaker", counting("read", db.read_sessionmaker))
        yield opened


async def test_one_catalog_service_serves_the_process(
    catalog_app: FastAPI, catalog_driver: CatalogDriver
) -> None:
    runtime = runtime_of(catalog_app)

    product = await catalog_driver.product()
    await catalog_driver.plan(product["id"])

    assert isinstance(runtime.catalog, CatalogService)
    assert runtime_of(catalog_app).catalog is runtime.catalog
    assert runtime.catalog.live_reads is runtime.live_reads
    assert runtime.catalog.uow.db is runtime.db


async def test_each_use_case_picks_its_own_transaction(
    catalog_app: FastAPI, catalog_driver: CatalogDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    product = await catalog_driver.product()
    await catalog_driver.plan(product["id"])
    catalog = runtime_of(catalog_app).catalog

    with sessions_opened(runtime_of(catalog_app).db, monkeypatch) as opened:
        draft = await catalog_driver.client.get(
            f"/v1/products/{product['id']}/draft", headers=catalog_driver.auth
        )
        revisions = await catalog_driver.client.get(
            f"/v1/products/{product['id']}/revisions", headers=catalog_driver.auth
        )
        listing = await catalog_driver.client.get("/v1/products")
        patched = await catalog_driver.client.patch(
            f"/v1/products/{product['id']}/draft",
            json={"name": "FleetOTA Pro"},
            headers=catalog_driver.auth,
        )
        await catalog.freeze(product["id"], "acme", "sub_1")

    assert [r.status_code for r in (draft, revisions, listing, patched)] == [200] * 4
    assert opened == ["read", "read", "read", "write", "write"]
