import httpx
import pytest

from tests.catalog.factories import CatalogDriver
from tests.conftest import TestKeys
from tests.review.factories import ReviewDriver


@pytest.fixture
def catalog_driver(catalog: httpx.AsyncClient, keys: TestKeys) -> CatalogDriver:
    return CatalogDriver(catalog, keys)


@pytest.fixture
def review_driver(review: httpx.AsyncClient, keys: TestKeys) -> ReviewDriver:
    return ReviewDriver(review, keys)
