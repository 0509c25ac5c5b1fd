"""JWKS mode (issue 10, finding 10): keys are fetched asynchronously and served from memory.

A real JWKS is served over loopback by a small threaded HTTP server whose answers can be slowed
down or broken. The fetch must never block the event loop (other requests are answered while
it is in flight), a known kid is answered from memory, an unknown kid costs at most one
refresh per interval, and a failed refresh keeps the keys there were.
"""

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.catalog.main import create_app
from services.catalog.settings import CatalogSettings
from shared.auth import JwksKeys, Role, issue_access_token
from shared.keys import key_id, public_jwks
from shared.problems import InvalidTokenError
from tests.conftest import TestKeys

ISSUER = "https://id.example.com"
AUDIENCE = "market"


@dataclass
class Jwks:
    """What the loopback JWKS server answers, and how many requests it had."""

    keys: list[Ed25519PrivateKey]
    delay_seconds: float = 0.0
    status: int = 200
    requests: int = 0
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def document(self) -> bytes:
        return json.dumps(public_jwks(*(key.public_key() for key in self.keys))).encode()


@pytest.fixture
def jwks() -> Iterator[Jwks]:
    state = Jwks(keys=[Ed25519PrivateKey.generate()])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with state.lock:
                state.requests += 1
            time.sleep(state.delay_seconds)  # in the server's thread: the test's loop runs on
            body = state.document() if state.status == 200 else b"down"
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def token(key: Ed25519PrivateKey, sub: str = "acme") -> str:
    return issue_access_token(key, issuer=ISSUER, audience=AUDIENCE, sub=sub, role=Role.partner)


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


@pytest.fixture
async def catalog(
    jwks: Jwks, database_url: Any, keys: TestKeys, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    settings = CatalogSettings(
        database_url=database_url("catalog"),
        **keys.settings("catalog"),
        auth_issuer=ISSUER,
        auth_audience=AUDIENCE,
        auth_jwks_url=jwks.url,
    )
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://catalog.test") as client:
            yield client


async def test_fetching_the_jwks_does_not_block_other_requests(
    jwks: Jwks, catalog: httpx.AsyncClient
) -> None:
    jwks.delay_seconds = 1.0
    gaps: list[float] = []

    async def ticker() -> None:
        """Ticks every 20 ms; a blocked event loop shows as a long gap between ticks."""
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.02)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    first = asyncio.create_task(
        catalog.get("/v1/documents/doc_nope", headers=bearer(token(jwks.keys[0])))
    )
    await asyncio.sleep(0.2)  # the first request now waits for the (slow) JWKS

    started = time.perf_counter()
    health = await catalog.get("/healthz")
    waited = time.perf_counter() - started
    response = await first
    ticking.cancel()

    assert health.status_code == 200
    assert waited < 0.5, f"/healthz waited {waited:.2f} s behind the JWKS fetch"
    assert max(gaps) < 0.5, f"the event loop stalled for {max(gaps):.2f} s"
    assert response.status_code == 404  # verified, then: no such document
    assert jwks.requests == 1


async def test_a_known_kid_is_served_from_memory(jwks: Jwks, catalog: httpx.AsyncClient) -> None:
    for sub in ("acme", "globex", "initech"):
        response = await catalog.post(
            "/v1/products", json={}, headers=bearer(token(jwks.keys[0], sub))
        )
        assert response.status_code == 422  # authenticated; the body is what's wrong

    assert jwks.requests == 1


async def test_unknown_kids_cost_one_refresh_per_interval(
    jwks: Jwks, catalog: httpx.AsyncClient
) -> None:
    await catalog.post("/v1/products", json={}, headers=bearer(token(jwks.keys[0])))

    for _ in range(20):
        stranger = Ed25519PrivateKey.generate()
        response = await catalog.post("/v1/products", json={}, headers=bearer(token(stranger)))
        assert (response.status_code, response.json()["code"]) == (401, "invalid_token")

    # The keys were fetched moments ago: unknown kids wait for the retry interval (30 s) before
    # they may cause a refresh, so twenty made-up kids cost the issuer nothing.
    assert jwks.requests == 1


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_failed_refresh_keeps_the_old_keys_and_a_new_key_is_found(jwks: Jwks) -> None:
    clock = Clock()
    async with httpx.AsyncClient() as http:
        keys = JwksKeys(jwks.url, http, max_age_seconds=300, retry_seconds=30, clock=clock)
        old = jwks.keys[0]
        assert await keys.get(key_id(old.public_key())) == old.public_key()

        # Stale keys are refreshed in the background; the refresh fails; the old key stays.
        jwks.status = 503
        clock.now += 301
        assert await keys.get(key_id(old.public_key())) == old.public_key()
        await asyncio.sleep(0.2)
        assert jwks.requests == 2
        assert await keys.get(key_id(old.public_key())) == old.public_key()
        await asyncio.sleep(0.2)
        assert jwks.requests == 2  # no new attempt before the retry interval

        # The issuer rotates in a new key: once the retry interval has passed, its kid is found.
        jwks.status = 200
        new = Ed25519PrivateKey.generate()
        jwks.keys.append(new)
        with pytest.raises(InvalidTokenError):
            await keys.get(key_id(new.public_key()))  # within the interval: no refresh
        assert jwks.requests == 2
        clock.now += 31
        assert await keys.get(key_id(new.public_key())) == new.public_key()
        assert jwks.requests == 3


async def test_concurrent_unknown_kids_share_one_fetch(jwks: Jwks) -> None:
    jwks.delay_seconds = 0.3
    async with httpx.AsyncClient() as http:
        keys = JwksKeys(jwks.url, http)
        kid = key_id(jwks.keys[0].public_key())

        found = await asyncio.gather(*(keys.get(kid) for _ in range(10)))

    assert found == [jwks.keys[0].public_key()] * 10
    assert jwks.requests == 1
