"""The whole system as real processes: one or more replicas of each of the four services.

Replica `i` of a service talks to replica `i` of the services it calls, so with two replicas
there are two complete paths through the system sharing the same databases.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from harness.processes import ServiceProcess
from services.license.keyring import ensure_signing_key
from tests.conftest import TestKeys

APPS = {
    "catalog": "services.catalog.main:create_app",
    "license": "services.license.main:create_app",
    "review": "services.review.main:create_app",
    "orders": "services.orders.main:create_app",
}
# Who each service calls, by the setting that holds the URL.
CALLS = {
    "review": {"REVIEW_CATALOG_URL": "catalog"},
    "license": {"LICENSE_CATALOG_URL": "catalog"},
    "orders": {"ORDERS_CATALOG_URL": "catalog", "ORDERS_LICENSE_URL": "license"},
}
# Relays poll often and back off little, so a test sees recovery in seconds.
FAST_RELAYS = {
    "REVIEW_OUTBOX_POLL_SECONDS": "0.2",
    "REVIEW_OUTBOX_MAX_DELAY_SECONDS": "0.5",
    "ORDERS_OUTBOX_POLL_SECONDS": "0.2",
    "ORDERS_OUTBOX_MAX_DELAY_SECONDS": "0.5",
    "ORDERS_PAYMENT_RESUME_SECONDS": "1",
    "ORDERS_PAY_LEASE_SECONDS": "2",
}


@dataclass
class System:
    """Running replicas by service name, their environments, and the test's keys."""

    replicas: dict[str, list[ServiceProcess]]
    envs: dict[str, list[dict[str, str]]]
    keys: TestKeys
    signing_keys: Path
    started: list[ServiceProcess] = field(default_factory=list)

    def url(self, service: str, replica: int = 0) -> str:
        return self.replicas[service][replica].base_url

    def client(self, service: str, replica: int = 0) -> httpx.Client:
        return httpx.Client(base_url=self.url(service, replica), timeout=15.0)

    def restart(self, service: str, replica: int = 0) -> None:
        process = self.replicas[service][replica].restarted(self.envs[service][replica])
        self.replicas[service][replica] = process
        self.started.append(process)

    def headers(self, role: str, sub: str) -> dict[str, str]:
        return self.keys.headers(role, sub)


@contextmanager
def running_system(
    database_url: Callable[[str], str], keys: TestKeys, log_dir: Path, replicas: int = 1
) -> Iterator[System]:
    """Start `replicas` of every service on loopback, wait until all are ready, stop them."""
    processes = {
        name: [ServiceProcess(f"{name}-{i}", app, log_dir=log_dir) for i in range(replicas)]
        for name, app in APPS.items()
    }
    signing_keys = log_dir / "license-keys"
    ensure_signing_key(signing_keys)
    envs: dict[str, list[dict[str, str]]] = {}
    for name in APPS:
        prefix = name.upper()
        envs[name] = []
        for i in range(replicas):
            env = {
                f"{prefix}_DATABASE_URL": database_url(name),
                **keys.env(name),
                f"{prefix}_HTTP_TIMEOUT_SECONDS": "3",
                **{k: v for k, v in FAST_RELAYS.items() if k.startswith(prefix)},
                **{k: processes[callee][i].base_url for k, callee in CALLS.get(name, {}).items()},
            }
            if name == "license":
                env["LICENSE_SIGNING_KEYS_DIR"] = str(signing_keys)
            envs[name].append(env)
    system = System(processes, envs, keys, signing_keys)
    try:
        for name, group in processes.items():
            for i, process in enumerate(group):
                process.start(envs[name][i])
                system.started.append(process)
        for group in processes.values():
            for process in group:
                process.wait_ready()
        yield system
    finally:
        for process in system.started:
            process.stop()
