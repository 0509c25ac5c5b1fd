"""What every service app gets from `create_service_app`, tried on a small app of its own."""

import logging
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, FastAPI, Request
from sqlalchemy import text
from starlette.exceptions import HTTPException

from harness.processes import free_port
from shared.app import ServiceState, create_service_app, service_state
from shared.auth import USER_ROLES, AccessTokenVerifier, StaticKey, TrustedIssuer
from shared.db import Database, head_revision
from shared.keys import load_public_key
from shared.problems import ConflictError
from shared.settings import ServiceSettings
from tests.conftest import POSTGRES_URL, SERVICES_DIR, TestKeys
from tests.databases import fresh_database
from tests.problems import assert_problem
from tests.shared.outage import assert_unavailable, failing_sqlite_connects, terminate_backend

MIGRATIONS = SERVICES_DIR / "catalog" / "migrations"
BODY_LIMIT = 1024
SECRET = "the vault combination is 1234"


class GadgetBusyError(ConflictError):
    code = "gadget_busy"
    title = "The gadget is busy"


def build_app(database_url: str, keys: TestKeys) -> FastAPI:
    settings = ServiceSettings(
        database_url=database_url,
        auth_public_key_file=keys.public_file,
        max_body_bytes=BODY_LIMIT,
        allow_dev_defaults=True,
    )
    router = APIRouter()

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError(SECRET)

    @router.get("/busy")
    async def busy() -> None:
        raise GadgetBusyError("Gadget 3 is busy.")

    @router.get("/refused")
    async def refused() -> None:
        raise HTTPException(status_code=400, detail="That request makes no sense.")

    @router.post("/echo")
    async def echo(body: dict[str, Any]) -> dict[str, Any]:
        return body

    @router.get("/versions")
    async def versions(request: Request) -> int:
        db = service_state(request.app).db
        async with db.sessionmaker() as session, session.begin():
            return int(await session.scalar(text("SELECT count(*) FROM alembic_version")) or 0)

    @router.post("/versions/copy")
    async def copy_versions(request: Request) -> None:
        # A genuine bug: the same primary key twice.
        db = service_state(request.app).db
        async with db.sessionmaker() as session, session.begin():
            await session.execute(
                text("INSERT INTO alembic_version SELECT version_num FROM alembic_version")
            )

    @router.get("/typo")
    async def typo(request: Request) -> None:
        db = service_state(request.app).db
        async with db.sessionmaker() as session, session.begin():
            await session.execute(text("SELECT * FROM no_such_table"))

    @router.get("/lost")
    async def lost(request: Request) -> int:
        # The server ends this request's session between two statements of its transaction.
        db = service_state(request.app).db
        async with db.sessionmaker() as session, session.begin():
            pid = await session.scalar(text("SELECT pg_backend_pid()"))
            await terminate_backend(db.url, int(pid or 0))
            return int(await session.scalar(text("SELECT 1")) or 0)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(database_url)
        verifier = AccessTokenVerifier(
            [
                TrustedIssuer(
                    issuer="market-dev",
                    audience="market",
                    keys=StaticKey(load_public_key(keys.public_file)),
                    roles=USER_ROLES,
                )
            ]
        )
        service_state(app).started(db=db, verifier=verifier)
        try:
            yield
        finally:
            await db.dispose()

    return create_service_app(
        name="gadgets",
        title="Gadgets",
        description="A service made for testing the shared app.",
        settings=settings,
        lifespan=lifespan,
        routers=[router],
        migrations=MIGRATIONS,
    )


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gadgets.test") as client:
            yield client


@pytest.fixture
def migrated_url(database_url: Callable[[str], str]) -> str:
    """A database at the head of the catalog's migrations (any service's would do)."""
    return database_url("catalog")


@pytest.fixture
async def client(migrated_url: str, keys: TestKeys) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(build_app(migrated_url, keys)) as client:
        yield client


async def test_an_unhandled_error_is_a_logged_opaque_500(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="market.error"):
        response = await client.get("/boom")

    body = assert_problem(response, 500, "internal_error")
    assert body["detail"] == "An unexpected error occurred."
    assert SECRET not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text
    logged = [r for r in caplog.records if r.name == "market.error"]
    assert len(logged) == 1
    assert logged[0].exc_info is not None
    assert logged[0].exc_info[0] is RuntimeError


async def test_what_the_factory_and_the_lifespan_built_is_one_typed_state(
    keys: TestKeys, migrated_url: str
) -> None:
    app = build_app(migrated_url, keys)
    state = service_state(app)

    assert isinstance(state, ServiceState)
    assert (state.name, state.settings.max_body_bytes) == ("gadgets", BODY_LIMIT)
    assert state.schema_head == head_revision(MIGRATIONS)
    with pytest.raises(RuntimeError, match="lifespan"):
        _ = state.db
    async with serve(app) as client:
        assert state.db.url == migrated_url
        assert state.verifier is not None
        assert state.outbox is None
        assert (await client.get("/readyz")).status_code == 200


async def test_a_problem_error_renders_as_problem_json(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/busy"), 409, "gadget_busy")

    assert body["title"] == "The gadget is busy"
    assert body["detail"] == "Gadget 3 is busy."


async def test_a_framework_400_is_a_bad_request_not_an_internal_error(
    client: httpx.AsyncClient,
) -> None:
    body = assert_problem(await client.get("/refused"), 400, "bad_request")

    assert body["detail"] == "That request makes no sense."


async def test_an_unknown_path_is_a_404_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/nowhere"), 404, "not_found")


async def test_a_wrong_method_is_a_405_problem_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete("/echo")

    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "POST"


async def test_a_schema_violation_is_a_422_with_field_errors(client: httpx.AsyncClient) -> None:
    response = await client.post("/echo", json=["not", "an", "object"])

    body = assert_problem(response, 422, "validation_error")
    assert body["errors"][0]["loc"] == ["body"]


async def test_a_request_id_is_made_and_echoed(client: httpx.AsyncClient) -> None:
    first = await client.get("/healthz")
    second = await client.get("/healthz")

    assert first.status_code == 200
    assert first.json() == {"status": "ok"}
    assert len(first.headers["x-request-id"]) >= 16
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_the_clients_request_id_is_echoed_and_used_in_problems(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/busy", headers={"X-Request-ID": "trace-42.a:b_c"})

    assert response.headers["x-request-id"] == "trace-42.a:b_c"
    assert response.json()["request_id"] == "trace-42.a:b_c"


@pytest.mark.parametrize("unsafe", ["has space", "x" * 129, "semi;colon", "new\\nline"])
async def test_an_unsafe_request_id_is_replaced(client: httpx.AsyncClient, unsafe: str) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": unsafe})

    assert response.headers["x-request-id"] != unsafe
    assert response.headers["x-request-id"].isalnum()


async def test_a_body_within_the_limit_is_accepted(client: httpx.AsyncClient) -> None:
    body = {"text": "x" * (BODY_LIMIT - 100)}

    response = await client.post("/echo", json=body)

    assert response.status_code == 200
    assert response.json() == body


async def test_an_oversized_body_is_a_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/echo", json={"text": "x" * BODY_LIMIT})

    body = assert_problem(response, 413, "payload_too_large")
    assert str(BODY_LIMIT) in body["detail"]


async def test_an_oversized_body_without_a_length_is_a_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"text": "'
        for _ in range(10):
            yield b"x" * 512
        yield b'"}'

    response = await client.post(
        "/echo", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "payload_too_large")


async def test_metrics_are_prometheus_text_and_count_requests(
    client: httpx.AsyncClient,
) -> None:
    await client.get("/busy")

    response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE http_requests_total counter" in response.text
    assert 'http_requests_total{method="GET",route="/busy",status="409"} 1.0' in response.text
    assert "http_request_duration_seconds_bucket" in response.text


async def test_ready_on_a_migrated_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ready",
        "database": "ok",
        "schema_revision": head_revision(MIGRATIONS),
    }


async def test_not_ready_on_a_database_that_is_not_migrated(keys: TestKeys, tmp_path: Path) -> None:
    async with (
        fresh_database("readiness", tmp_path) as url,
        serve(build_app(url, keys)) as client,
    ):
        response = await client.get("/readyz")

    body = assert_problem(response, 503, "service_unavailable")
    assert "market db upgrade" in body["detail"]


async def test_not_ready_when_the_database_can_not_be_reached(keys: TestKeys) -> None:
    nobody_listens = f"postgresql+asyncpg://market@127.0.0.1:{free_port()}/market"

    async with serve(build_app(nobody_listens, keys)) as client:
        response = await client.get("/readyz")

    body = assert_problem(response, 503, "unavailable")
    assert "can't be reached" in body["detail"]
    assert int(response.headers["retry-after"]) > 0


async def test_a_request_whose_database_refuses_connections_is_a_503(
    keys: TestKeys, caplog: pytest.LogCaptureFixture
) -> None:
    nobody_listens = f"postgresql+asyncpg://market@127.0.0.1:{free_port()}/market"

    async with serve(build_app(nobody_listens, keys)) as client:
        with caplog.at_level(logging.INFO):
            response = await client.get("/versions")

    assert_unavailable(response, caplog)


async def test_a_request_whose_sqlite_folder_is_gone_is_a_503(
    keys: TestKeys, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "data"
    async with serve(build_app(f"sqlite+aiosqlite:///{folder / 'gadgets.db'}", keys)) as client:
        shutil.rmtree(folder)
        with caplog.at_level(logging.INFO):
            async with failing_sqlite_connects():
                response = await client.get("/versions")

    assert_unavailable(response, caplog)


@pytest.mark.skipif(not POSTGRES_URL, reason="ends a PostgreSQL server session")
async def test_a_request_whose_database_session_ends_midway_is_a_503_and_the_next_one_works(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        response = await client.get("/lost")

    assert_unavailable(response, caplog)
    assert (await client.get("/versions")).json() == 1


async def test_the_database_working_and_answering_is_no_503(client: httpx.AsyncClient) -> None:
    assert (await client.get("/versions")).json() == 1


@pytest.mark.parametrize(("method", "path"), [("POST", "/versions/copy"), ("GET", "/typo")])
async def test_a_database_error_that_is_a_bug_stays_a_500(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, method: str, path: str
) -> None:
    with caplog.at_level(logging.ERROR, logger="market.error"):
        response = await client.request(method, path)

    assert_problem(response, 500, "internal_error")
    assert "retry-after" not in response.headers
    assert [r for r in caplog.records if r.name == "market.error"]
