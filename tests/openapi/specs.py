"""The four services' OpenAPI documents, as `/openapi.json` serves them, for spec-level tests.

Building an app touches no database (that happens in its lifespan), so the documents are read
from apps that never start: fast, and independent of every other fixture.
"""

from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import httpx
from fastapi import FastAPI

from services.catalog.main import create_app as create_catalog_app
from services.catalog.settings import CatalogSettings
from services.license.main import create_app as create_license_app
from services.license.settings import LicenseSettings
from services.orders.main import create_app as create_orders_app
from services.orders.settings import OrdersSettings
from services.review.main import create_app as create_review_app
from services.review.settings import ReviewSettings
from tests.conftest import run_sync

SERVICES = ("catalog", "review", "orders", "license")
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})

_UNUSED_DB = "sqlite+aiosqlite:///:memory:"

_BUILDERS: dict[str, Callable[[], FastAPI]] = {
    "catalog": lambda: create_catalog_app(CatalogSettings(database_url=_UNUSED_DB)),
    "review": lambda: create_review_app(ReviewSettings(database_url=_UNUSED_DB)),
    "orders": lambda: create_orders_app(OrdersSettings(database_url=_UNUSED_DB)),
    "license": lambda: create_license_app(LicenseSettings(database_url=_UNUSED_DB)),
}


async def fetch_spec(app: FastAPI) -> dict[str, Any]:
    """GET /openapi.json from `app` in-process."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://spec.test") as client:
        response = await client.get("/openapi.json")
    assert response.status_code == 200, response.text
    spec: dict[str, Any] = response.json()
    return spec


@cache
def spec_of(service: str) -> dict[str, Any]:
    """The OpenAPI document `service` serves (read once per test session; don't mutate it)."""
    return run_sync(fetch_spec(_BUILDERS[service]()))


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every (method, path, operation) of a document."""
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield method, path, operation


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow local `$ref`s until a node that isn't one."""
    while "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        target: Any = spec
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node
