"""Fixtures every test tier shares: test keys, tokens, and migrated databases.

Databases are SQLite files in a temporary folder by default. With MARKET_TEST_POSTGRES_URL set
(`make test-postgres`, CI), each service gets a PostgreSQL database `market_test_<service>`,
dropped and created afresh for the session; a server that can't be reached fails the run.
Either way the schema is built by the service's real Alembic migrations, once per session,
and every test starts from empty tables.
"""

import asyncio
import os
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import MetaData, delete
from sqlalchemy.engine import make_url

from harness.databases import run_on_server
from shared.auth import Role, issue_access_token, issue_service_token
from shared.db import Database, upgrade
from shared.keys import private_key_pem, public_key_pem
from shared.settings import API_AUDIENCE, CALLING_SERVICES, DEV_ISSUER

T = TypeVar("T")

pytest_plugins = ["tests.plugins.catalog", "tests.plugins.review", "tests.plugins.orders"]

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"
POSTGRES_URL = os.environ.get("MARKET_TEST_POSTGRES_URL")


def pytest_report_header(config: pytest.Config) -> str:
    return f"databases: {'PostgreSQL at ' + POSTGRES_URL if POSTGRES_URL else 'SQLite'}"


# The service each calling service calls with a service token (what its callee trusts it for).
CALLEES = {"review": "catalog", "orders": "license"}
# Each service's trusted callers, by the settings field of the caller's public key.
CALLER_KEY_FIELDS = {
    "catalog": {"review": "review_public_key_file"},
    "license": {"orders": "orders_public_key_file"},
}


@dataclass(frozen=True)
class KeyPair:
    private: Ed25519PrivateKey
    private_file: Path
    public_file: Path

    @classmethod
    def create(cls, folder: Path, name: str) -> "KeyPair":
        key = Ed25519PrivateKey.generate()
        private_file = folder / f"{name}.key.pem"
        public_file = folder / f"{name}.pub.pem"
        private_file.write_bytes(private_key_pem(key))
        public_file.write_bytes(public_key_pem(key.public_key()))
        return cls(key, private_file, public_file)


@dataclass(frozen=True)
class TestKeys:
    """The test user issuer's key pair, and one key pair per calling service (review, orders).

    `private`, `private_file` and `public_file` are the user issuer's.
    """

    __test__ = False  # a fixture value, not a test class

    private: Ed25519PrivateKey
    private_file: Path
    public_file: Path
    services: dict[str, KeyPair]

    def token(self, role: Role, sub: str, *, to: str | None = None, **kwargs: object) -> str:
        """A user token from the test issuer; for `Role.service`, a token of service `sub`
        signed with its own key, for `to` (by default the service it calls)."""
        if role is Role.service:
            return issue_service_token(
                self.services[sub].private,
                caller=sub,
                callee=to or CALLEES[sub],
                **kwargs,  # type: ignore[arg-type]
            )
        return issue_access_token(
            self.private,
            issuer=DEV_ISSUER,
            audience=API_AUDIENCE,
            sub=sub,
            role=role,
            **kwargs,  # type: ignore[arg-type]
        )

    def headers(self, role: Role | str, sub: str, *, to: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(Role(role), sub, to=to)}"}

    def settings(self, service: str) -> dict[str, Any]:
        """The key settings of `service` (keyword arguments of its settings class).

        The test issuer is `market-dev`, a development default: allowed explicitly, so the
        services start on PostgreSQL too.
        """
        values: dict[str, Any] = {
            "auth_public_key_file": self.public_file,
            "allow_dev_defaults": True,
        }
        if service in self.services:
            values["service_token_key_file"] = self.services[service].private_file
        for caller, field in CALLER_KEY_FIELDS.get(service, {}).items():
            values[field] = self.services[caller].public_file
        return values

    def env(self, service: str) -> dict[str, str]:
        """The same settings as environment variables, for a service process."""
        prefix = f"{service.upper()}_"
        return {
            f"{prefix}{name.upper()}": str(value).lower() if isinstance(value, bool) else str(value)
            for name, value in self.settings(service).items()
        }


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> TestKeys:
    folder = tmp_path_factory.mktemp("keys")
    issuer = KeyPair.create(folder, "issuer")
    services = {name: KeyPair.create(folder, f"{name}-service") for name in CALLING_SERVICES}
    return TestKeys(issuer.private, issuer.private_file, issuer.public_file, services)


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def postgres_database(name: str) -> str:
    """Create PostgreSQL database `name` afresh; return its URL."""
    assert POSTGRES_URL is not None
    run_sync(
        run_on_server(
            POSTGRES_URL,
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
            f'CREATE DATABASE "{name}"',
        )
    )
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(name: str) -> None:
    assert POSTGRES_URL is not None
    run_sync(run_on_server(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
    """`database_url(service)`: that service's migrated test database (made on first use).

    On PostgreSQL the database is `market_test_<service>_<pid>`, so parallel runs don't meet,
    and it is dropped when the session ends.
    """
    made: dict[str, str] = {}
    folder = tmp_path_factory.mktemp("db")

    def name(service: str) -> str:
        return f"market_test_{service}_{os.getpid()}"

    def get(service: str) -> str:
        if service not in made:
            if POSTGRES_URL:
                url = postgres_database(name(service))
            else:
                url = f"sqlite+aiosqlite:///{folder / service}.db"
            run_sync(upgrade(SERVICES_DIR / service / "migrations", url))
            made[service] = url
        return made[service]

    yield get
    if POSTGRES_URL:
        for service in made:
            drop_postgres_database(name(service))


async def empty_tables(db: Database, metadata: MetaData) -> None:
    """Delete every row, children first, so a test starts from an empty schema."""
    async with db.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            await conn.execute(delete(table))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
