"""Fixtures for orders tests: drivers over the in-process apps of tests/plugins/orders.py."""

import httpx
import pytest

from tests.conftest import TestKeys
from tests.orders.factories import LicenseReader, OrdersDriver


@pytest.fixture
def shop(orders: httpx.AsyncClient, keys: TestKeys) -> OrdersDriver:
    return OrdersDriver(orders, keys)


@pytest.fixture
def licenses(orders_license: httpx.AsyncClient, keys: TestKeys) -> LicenseReader:
    return LicenseReader(orders_license, keys)
