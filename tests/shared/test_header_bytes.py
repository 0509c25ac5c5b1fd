"""Whatever bytes arrive in the headers that auth and the request guard read, the answer is a
problem+json 4xx, never a 500: tried with hypothesis through the real catalog app."""

import asyncio
import base64

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shared.problems import PROBLEM_MEDIA_TYPE

# Header values as raw bytes: any byte but CR, LF and NUL, which no HTTP server passes on.
HEADER_BYTES = st.binary(min_size=0, max_size=300).map(
    lambda raw: raw.replace(b"\r", b"").replace(b"\n", b"").replace(b"\x00", b"")
)
# Digits, few or very many (Python refuses to parse an int of over 4300 digits).
DIGITS = st.integers(min_value=1, max_value=6000).flatmap(
    lambda n: st.text("0123456789", min_size=n, max_size=n).map(str.encode)
)
AUTHORIZATION = st.one_of(
    HEADER_BYTES,
    HEADER_BYTES.map(lambda raw: b"Bearer " + raw),
    HEADER_BYTES.map(lambda raw: b"bearer " + raw.strip()),
    st.lists(st.binary(min_size=1, max_size=80), min_size=3, max_size=3).map(
        lambda parts: b"Bearer " + b".".join(parts)
    ),
)
# A JWT segment whose JSON nests deeper than Python's parser will go.
DEEP_JSON = base64.urlsafe_b64encode(b"[" * 5000).rstrip(b"=")
# A guarded route (POST /v1/products needs a partner) and a public one with optional auth.
ROUTES = [("POST", "/v1/products"), ("GET", "/v1/documents/doc_x")]


class Catalog:
    """The real catalog app on the test's event loop, driven from the thread hypothesis runs in."""

    def __init__(self, app: FastAPI, loop: asyncio.AbstractEventLoop) -> None:
        self.app = app
        self.loop = loop

    def answers_4xx(self, method: str, path: str, headers: list[tuple[bytes, bytes]]) -> None:
        asyncio.run_coroutine_threadsafe(self._send(method, path, headers), self.loop).result()

    async def _send(self, method: str, path: str, headers: list[tuple[bytes, bytes]]) -> None:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://catalog.test") as client:
            request = client.build_request(method, path, json={} if method == "POST" else None)
            names = {name for name, _ in headers}
            kept = [(k, v) for k, v in request.headers.raw if k.lower() not in names]
            request.headers = httpx.Headers([*kept, *headers])
            response = await client.send(request)
        assert 400 <= response.status_code < 500, (response.status_code, headers, response.text)
        assert response.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)


@pytest.fixture
async def catalog(catalog_app: FastAPI) -> Catalog:
    return Catalog(catalog_app, asyncio.get_running_loop())


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_any_authorization_header_gets_a_4xx(
    catalog: Catalog, method: str, path: str
) -> None:
    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(value=AUTHORIZATION)
    @example(value=b"Bearer " + DEEP_JSON + b".e30.c2ln")  # RecursionError in the header's JSON
    @example(value=b"Bearer e30." + DEEP_JSON + b".c2ln")  # ...in the claims'
    @example(value="Bearer é.ü.ñ".encode("latin-1"))
    def check(value: bytes) -> None:
        catalog.answers_4xx(method, path, [(b"authorization", value)])

    await asyncio.to_thread(check)


@pytest.mark.parametrize(
    "name", [b"authorization", b"content-length", b"content-type", b"x-request-id"]
)
async def test_any_value_of_a_header_the_guards_read_gets_a_4xx(
    catalog: Catalog, name: bytes
) -> None:
    @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
    @given(value=st.one_of(HEADER_BYTES, DIGITS))
    def check(value: bytes) -> None:
        catalog.answers_4xx("POST", "/v1/products", [(name, value)])

    await asyncio.to_thread(check)
