"""The orders service keeps the shape every service shares: small modules, use cases that open
transactions only through the unit of work, statuses stored and read as their enums, API models
named by one rule, and what the app's lifespan built reached through one typed state."""

import inspect
import re
from pathlib import Path

import httpx
from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import select, text

import services.orders
from services.license import errors as license_errors
from services.orders.api import schemas
from services.orders.api.deps import OrdersRuntime
from services.orders.db.models import InstanceRow, OrderRow, PaymentRow
from services.orders.domain.model import InstanceStatus, OrderStatus, PaymentStatus
from services.orders.service import OrderService, license_problems
from shared.app import service_state
from tests.catalog.factories import CatalogDriver
from tests.orders.factories import OrdersDriver, publish

ORDERS = Path(services.orders.__file__).parent
MAX_LINES = 450
# Names a model must not take: the framework's own, or a response that doesn't say it is one.
FRAMEWORK_NAMES = {"Request", "Response", "Body", "Query", "Path", "Header", "Depends"}


def test_no_module_of_the_orders_service_is_over_450_lines() -> None:
    sizes = {
        str(path.relative_to(ORDERS)): len(path.read_text().splitlines())
        for path in ORDERS.rglob("*.py")
    }
    assert {name: size for name, size in sizes.items() if size > MAX_LINES} == {}


def test_the_use_cases_open_transactions_only_through_the_unit_of_work() -> None:
    modules = sorted((ORDERS / "service").glob("*.py"))
    assert len(modules) > 1, "the use cases are a package, one module per family"
    for path in modules:
        source = path.read_text()
        assert not re.search(r"sessionmaker|AsyncSession|Repository\(", source), path.name


def test_every_api_model_is_named_by_the_rule() -> None:
    models = {
        name: cls
        for name, cls in vars(schemas).items()
        if inspect.isclass(cls)
        and issubclass(cls, BaseModel)
        and cls.__module__ == schemas.__name__
    }
    assert FRAMEWORK_NAMES.isdisjoint(models)
    bodies = {name for name, cls in models.items() if issubclass(cls, schemas.StrictBody)}
    responses = set(models) - bodies - {"StrictBody", "WebhookEvent"}
    assert all(name.endswith(("Create", "Request", "Body")) for name in bodies), bodies
    assert all(name.endswith("View") for name in responses), responses


async def test_the_openapi_components_carry_the_models_names(orders: httpx.AsyncClient) -> None:
    components = set((await orders.get("/openapi.json")).json()["components"]["schemas"])

    assert {"OrderView", "InstanceView", "OrderQuoteView", "InstanceLicenseView"} <= components
    assert components.isdisjoint({"Order", "Instance", "OrderQuote", "Request"})


async def test_the_app_state_is_one_typed_runtime(orders_app: FastAPI) -> None:
    runtime = orders_app.state.runtime
    assert isinstance(runtime, OrdersRuntime)
    assert isinstance(runtime.orders, OrderService)
    for untyped in ("orders", "idempotency", "pay_idempotency"):
        assert not hasattr(orders_app.state, untyped), untyped


async def test_statuses_are_stored_as_their_strings_and_read_as_their_enums(
    catalog_driver: CatalogDriver, shop: OrdersDriver, orders_app: FastAPI
) -> None:
    listing = await publish(catalog_driver, requires_acceptance=False)
    bought = await shop.buy_instance(listing)

    async with service_state(orders_app).db.sessionmaker() as session:
        order = await session.get(OrderRow, bought["id"])
        payment = (await session.execute(select(PaymentRow))).scalars().one()
        instance = await session.get(InstanceRow, bought["instance_id"])
        stored = (
            await session.execute(
                text(
                    "SELECT o.status, o.type, p.status, i.status FROM orders o, payments p, "
                    "instances i WHERE o.id = :id AND p.order_id = o.id AND i.id = o.instance_id"
                ),
                {"id": bought["id"]},
            )
        ).one()

    assert order is not None
    assert instance is not None
    assert order.status is OrderStatus.completed
    assert payment.status is PaymentStatus.settled
    assert instance.status is InstanceStatus.active
    assert tuple(stored) == ("completed", "new", "settled", "active")


def test_the_license_codes_orders_branches_on_are_the_ones_license_raises() -> None:
    assert license_errors.LicenseNotFoundError.code == license_problems.LICENSE_NOT_FOUND
    assert {
        license_errors.BaseLicenseMissingError.code,
        license_errors.BaseLicenseRevokedError.code,
    } == license_problems.BASE_LICENSE_GONE
    for path in (ORDERS / "service").glob("*.py"):
        if path.name != "license_problems.py":
            assert not re.search(r'"(base_license_\w+|license_not_found)"', path.read_text())
