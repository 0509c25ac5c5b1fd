"""deploy/entrypoint.sh, run as the image runs it but with this virtualenv's tools on PATH.

`migrate` brings a fresh (SQLite) database to head, `serve` answers /healthz and /readyz on
$PORT, `healthcheck` tells a live server from a dead one, and a missing SERVICE is refused.
"""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import TestKeys
from tests.deploy.support import DEPLOY, ENTRYPOINT_VARIABLES, service_of_variable

ENTRYPOINT = DEPLOY / "entrypoint.sh"
STARTUP_SECONDS = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def entrypoint_env(**variables: str) -> dict[str, str]:
    """This environment less any service setting, with the virtualenv's bin first on PATH."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ENTRYPOINT_VARIABLES and service_of_variable(key) is None
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(variables)
    return env


def run(
    *args: str, cwd: Path, timeout: float = 60, **variables: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *args],
        cwd=cwd,
        env=entrypoint_env(**variables),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'catalog.db'}"


def test_a_missing_or_unknown_service_is_refused(tmp_path: Path) -> None:
    for service in ("", "payments"):
        result = run("serve", cwd=tmp_path, SERVICE=service)
        assert result.returncode == 64
        assert "SERVICE must be catalog, review, orders or license" in result.stderr


def test_other_commands_run_as_given_without_a_service(tmp_path: Path) -> None:
    result = run("market", "db", "upgrade", "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "SERVICE" in result.stdout


def test_migrate_brings_the_services_database_to_head(tmp_path: Path, database: str) -> None:
    result = run("migrate", cwd=tmp_path, SERVICE="catalog", CATALOG_DATABASE_URL=database)
    assert result.returncode == 0, result.stderr
    assert "catalog: database at head" in result.stdout


@pytest.fixture
def served_catalog(tmp_path: Path, database: str, keys: TestKeys) -> Iterator[int]:
    """`serve` for catalog on a free port, its database migrated first; yields the port."""
    migrated = run("migrate", cwd=tmp_path, SERVICE="catalog", CATALOG_DATABASE_URL=database)
    assert migrated.returncode == 0, migrated.stderr
    port = free_port()
    log = (tmp_path / "catalog.log").open("wb")
    process = subprocess.Popen(
        ["sh", str(ENTRYPOINT)],  # no argument: serve is the default
        cwd=tmp_path,
        env=entrypoint_env(
            SERVICE="catalog",
            PORT=str(port),
            CATALOG_DATABASE_URL=database,
            **keys.env("catalog"),
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert process.poll() is None, (tmp_path / "catalog.log").read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "catalog did not start"
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_serve_answers_health_and_readiness_on_port(served_catalog: int) -> None:
    base = f"http://127.0.0.1:{served_catalog}"
    assert httpx.get(f"{base}/healthz", timeout=5).json() == {"status": "ok"}
    ready = httpx.get(f"{base}/readyz", timeout=5)
    assert ready.status_code == 200, ready.text


def test_healthcheck_passes_on_a_live_server_and_fails_without_one(
    served_catalog: int, tmp_path: Path
) -> None:
    live = run("healthcheck", cwd=tmp_path, SERVICE="catalog", PORT=str(served_catalog))
    assert live.returncode == 0, live.stderr
    dead = run("healthcheck", cwd=tmp_path, SERVICE="catalog", PORT=str(free_port()))
    assert dead.returncode != 0
