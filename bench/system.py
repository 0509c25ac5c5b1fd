"""The system under test: the four services as uvicorn processes, each on a database of its
own migrated by its own migrations, with the keys a production deployment would hold."""

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from harness.databases import create_database, drop_database
from harness.processes import REPO_ROOT, ServiceProcess
from services.license.keyring import ensure_signing_key
from shared.auth import Role, issue_access_token
from shared.db import upgrade
from shared.keys import ensure_key_pair, private_key_pem, public_key_pem
from shared.settings import API_AUDIENCE, CALLING_SERVICES, DEV_ISSUER

SERVICES = ("catalog", "review", "orders", "license")
# The services whose service tokens each service accepts.
CALLERS = {"catalog": ("review",), "license": ("orders",)}
DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432"


class BenchService(ServiceProcess):
    """A service process whose memory can be read."""

    @property
    def pid(self) -> int:
        return self._running().pid

    def peak_rss_mb(self) -> float:
        """VmHWM: the most resident memory the process has had, in MiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmHWM in /proc status")


@dataclass
class Keys:
    issuer: Ed25519PrivateKey
    private_file: Path
    public_file: Path
    signing_dir: Path

    def token(self, role: Role, sub: str) -> str:
        return issue_access_token(
            self.issuer,
            issuer=DEV_ISSUER,
            audience=API_AUDIENCE,
            sub=sub,
            role=role,
            ttl_seconds=3600,
        )

    def headers(self, role: Role, sub: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, sub)}"}

    def env(self, service: str) -> dict[str, str]:
        """The key settings of a service: the user issuer's public key, its own service-token
        key if it calls others, its callers' public keys; dev defaults explicitly allowed
        (the bench's issuer is `market-dev`, and it runs on PostgreSQL too)."""
        prefix = service.upper()
        env = {
            f"{prefix}_AUTH_PUBLIC_KEY_FILE": str(self.public_file),
            f"{prefix}_ALLOW_DEV_DEFAULTS": "true",
        }
        if service in CALLING_SERVICES:
            env[f"{prefix}_SERVICE_TOKEN_KEY_FILE"] = str(self.service_key_file(service))
        for caller in CALLERS.get(service, ()):
            env[f"{prefix}_{caller.upper()}_PUBLIC_KEY_FILE"] = str(
                self.service_key_file(caller).with_suffix(".pub")
            )
        return env

    def service_key_file(self, service: str) -> Path:
        return self.signing_dir.parent / f"{service}-service.pem"


def make_keys(folder: Path) -> Keys:
    """Fresh keys in `folder`: the user issuer's, license's signing key, service-token keys."""
    issuer = Ed25519PrivateKey.generate()
    private_file, public_file = folder / "issuer.key.pem", folder / "issuer.pub.pem"
    private_file.write_bytes(private_key_pem(issuer))
    public_file.write_bytes(public_key_pem(issuer.public_key()))
    private_file.chmod(0o600)
    signing_dir = folder / "license-keys"
    ensure_signing_key(signing_dir)
    keys = Keys(issuer, private_file, public_file, signing_dir)
    for service in CALLING_SERVICES:
        private = keys.service_key_file(service)
        ensure_key_pair(private, private.with_suffix(".pub"))
    return keys


@contextmanager
def databases(kind: str, folder: Path, pg_url: str) -> Iterator[dict[str, str]]:
    """A migrated database per service: SQLite files, or fresh PostgreSQL databases."""
    names = {name: f"market_bench_{name}_{os.getpid()}" for name in SERVICES}
    if kind == "sqlite":
        urls = {name: f"sqlite+aiosqlite:///{folder / name}.db" for name in SERVICES}
    else:
        urls = {
            service: asyncio.run(create_database(pg_url, name)) for service, name in names.items()
        }
    try:
        for service, url in urls.items():
            asyncio.run(upgrade(REPO_ROOT / "services" / service / "migrations", url))
        yield urls
    finally:
        if kind != "sqlite":
            for name in names.values():
                asyncio.run(drop_database(pg_url, name))


@contextmanager
def system(
    urls: dict[str, str], keys: Keys, folder: Path, extra_env: dict[str, str] | None = None
) -> Iterator[dict[str, BenchService]]:
    """The four services as uvicorn processes on free loopback ports, ready.

    `extra_env` is laid over every service's environment (to try a setting).
    """
    processes = {
        name: BenchService(name, f"services.{name}.main:create_app", log_dir=folder)
        for name in SERVICES
    }
    envs: dict[str, dict[str, str]] = {}
    for name in SERVICES:
        prefix = name.upper()
        envs[name] = {
            "UVICORN_ACCESS_LOG": "false",  # as the Procfile and the image run them
            f"{prefix}_DATABASE_URL": urls[name],
            **keys.env(name),
        }
    catalog_url = processes["catalog"].base_url
    envs["review"]["REVIEW_CATALOG_URL"] = catalog_url
    envs["license"].update(
        {"LICENSE_SIGNING_KEYS_DIR": str(keys.signing_dir), "LICENSE_CATALOG_URL": catalog_url}
    )
    envs["orders"].update(
        {"ORDERS_CATALOG_URL": catalog_url, "ORDERS_LICENSE_URL": processes["license"].base_url}
    )
    try:
        for name, process in processes.items():
            process.start({**envs[name], **(extra_env or {})})
        for process in processes.values():
            process.wait_ready(timeout=60)
        yield processes
    finally:
        for process in processes.values():
            process.stop()
