"""The catalog as a real process: it starts, serves offline docs and the API, and stops cleanly."""

import signal
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from harness.processes import ServiceProcess
from tests.catalog.factories import plan_body, product_body
from tests.conftest import TestKeys


class AssetLinks(HTMLParser):
    """Every URL a page makes the browser load: script sources and linked resources."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src", "iframe": "src"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.urls.append(value)


def asset_urls(html: str) -> list[str]:
    parser = AssetLinks()
    parser.feed(html)
    return parser.urls


@pytest.fixture
def catalog_process(
    database_url: Callable[[str], str], keys: TestKeys, tmp_path: Path
) -> Iterator[ServiceProcess]:
    process = ServiceProcess("catalog", "services.catalog.main:create_app", log_dir=tmp_path)
    with process:
        process.start(
            {
                "CATALOG_DATABASE_URL": database_url("catalog"),
                **keys.env("catalog"),
                "CATALOG_LOG_LEVEL": "INFO",
            }
        )
        process.wait_ready()
        yield process


def test_the_catalog_serves_offline_docs_and_the_api_then_stops_cleanly(
    catalog_process: ServiceProcess, keys: TestKeys
) -> None:
    with httpx.Client(base_url=catalog_process.base_url, timeout=5.0) as client:
        for page in ("/docs", "/redoc"):
            response = client.get(page)
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/html")
            urls = asset_urls(response.text)
            assert any(url.endswith(".js") for url in urls), urls
            for url in urls:
                assert not url.startswith(("http://", "https://", "//")), f"{page} loads {url}"
                asset = client.get(url)
                assert asset.status_code == 200, f"{page}: {url} is {asset.status_code}"
                assert asset.content, f"{page}: {url} is empty"

        schema = client.get("/openapi.json")
        assert schema.status_code == 200
        assert "/v1/products" in schema.json()["paths"]

        partner = keys.headers("partner", "e2e-partner")
        created = client.post(
            "/v1/products", json=product_body(name="Over the wire"), headers=partner
        )
        assert created.status_code == 201, created.text
        product_id = created.json()["id"]
        plan = client.post(
            f"/v1/products/{product_id}/draft/plans", json=plan_body(), headers=partner
        )
        assert plan.status_code == 201, plan.text
        draft = client.get(f"/v1/products/{product_id}/draft", headers=partner)
        assert draft.json()["draft"]["name"] == "Over the wire"
        assert [p["id"] for p in draft.json()["draft"]["plans"]] == [plan.json()["id"]]

        traced = client.get("/v1/products/prd_missing", headers={"X-Request-ID": "e2e-trace-1"})
        assert traced.status_code == 404
        assert traced.headers["x-request-id"] == "e2e-trace-1"
        assert traced.headers["content-type"] == "application/problem+json"

    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal: -15 is a clean exit.
    assert catalog_process.stop() in (0, -signal.SIGTERM)
    log = catalog_process.log_path.read_text()
    assert "Application shutdown complete." in log
    assert "e2e-trace-1" in log  # JSON logs carry the request id
    assert "Traceback" not in log


def test_a_process_that_can_not_start_fails_fast_with_its_output(tmp_path: Path) -> None:
    process = ServiceProcess("broken", "services.nowhere:create_app", log_dir=tmp_path)

    with process:
        process.start({})
        with pytest.raises(RuntimeError, match="broken exited") as caught:
            process.wait_ready(timeout=20)

    assert "services.nowhere" in str(caught.value)
    assert process.stop() not in (None, 0)
