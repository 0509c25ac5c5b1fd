"""U+0000 anywhere in a request is a 422, never a 500 (PostgreSQL can't store it)."""

import httpx
import pytest

from tests.catalog.factories import CatalogDriver, product_body


@pytest.mark.parametrize(
    "path",
    ["/v1/products/prd_%00x", "/v1/products?q=a%00b", "/v1/products?category=a%00b"],
)
async def test_nul_in_path_or_query_is_refused(catalog: httpx.AsyncClient, path: str) -> None:
    response = await catalog.get(path)

    assert response.status_code == 422
    assert response.json()["code"] == "nul_character"


async def test_nul_in_a_json_body_is_refused(
    catalog: httpx.AsyncClient, catalog_driver: CatalogDriver
) -> None:
    response = await catalog.post(
        "/v1/products", json=product_body(description="bad\x00byte"), headers=catalog_driver.auth
    )

    assert response.status_code == 422
    assert response.json()["code"] == "nul_character"


async def test_nul_in_an_upload_file_name_is_dropped(
    catalog: httpx.AsyncClient, catalog_driver: CatalogDriver
) -> None:
    files = {"file": ("terms\x00.txt", b"Support terms: 24/7.", "text/plain")}

    response = await catalog.post("/v1/documents", files=files, headers=catalog_driver.auth)

    assert response.status_code == 201, response.text
    assert "\x00" not in response.json()["filename"]
