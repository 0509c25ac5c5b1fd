import httpx
import pytest

from tests.catalog.factories import CatalogDriver
from tests.conftest import TestKeys


@pytest.fixture
def driver(catalog: httpx.AsyncClient, keys: TestKeys) -> CatalogDriver:
    return CatalogDriver(catalog, keys)
