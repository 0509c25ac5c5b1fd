"""Development defaults never reach production silently (issue 10, finding 7).

A service whose database is PostgreSQL refuses to start while a setting keeps a development
default (the sandbox payment provider, `whsec_dev_only`, the `market-dev` issuer, keys under
`var/`), naming every such setting, unless `<SVC>_ALLOW_DEV_DEFAULTS=true`. SQLite, the
embedded development setup, starts with them.
"""

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from harness.processes import REPO_ROOT
from services.catalog.main import create_app as create_catalog
from services.catalog.settings import CatalogSettings
from services.license.main import create_app as create_license
from services.license.settings import LicenseSettings
from services.orders.main import create_app as create_orders
from services.orders.settings import OrdersSettings
from services.review.main import create_app as create_review
from services.review.settings import ReviewSettings
from shared.settings import DevDefaultsError, ServiceSettings
from tests.conftest import TestKeys

POSTGRES = "postgresql+asyncpg://market@db.internal:5432/market"

SERVICES: dict[str, tuple[type[ServiceSettings], Callable[..., FastAPI], set[str]]] = {
    "catalog": (
        CatalogSettings,
        create_catalog,
        {"AUTH_ISSUER", "AUTH_PUBLIC_KEY_FILE", "REVIEW_PUBLIC_KEY_FILE"},
    ),
    "review": (
        ReviewSettings,
        create_review,
        {"AUTH_ISSUER", "AUTH_PUBLIC_KEY_FILE", "SERVICE_TOKEN_KEY_FILE"},
    ),
    "orders": (
        OrdersSettings,
        create_orders,
        {
            "AUTH_ISSUER",
            "AUTH_PUBLIC_KEY_FILE",
            "SERVICE_TOKEN_KEY_FILE",
            "PAYMENT_PROVIDER",
            "WEBHOOK_SECRET",
        },
    ),
    "license": (
        LicenseSettings,
        create_license,
        {"AUTH_ISSUER", "AUTH_PUBLIC_KEY_FILE", "ORDERS_PUBLIC_KEY_FILE", "SIGNING_KEYS_DIR"},
    ),
}


def production_values(service: str, keys: TestKeys, tmp_path: Path) -> dict[str, Any]:
    """Settings as production sets them: its own issuer, keys and secrets outside var/."""
    values: dict[str, Any] = {"auth_issuer": "https://id.example.com"}
    values |= {k: v for k, v in keys.settings(service).items() if k != "allow_dev_defaults"}
    if service == "orders":
        values |= {"payment_provider": "external", "webhook_secret": "whsec_from_the_provider"}
    if service == "license":
        values["signing_keys_dir"] = tmp_path / "license-keys"
    return values


@pytest.mark.parametrize("service", list(SERVICES))
def test_on_postgresql_a_dev_default_refuses_to_start_naming_each_setting(service: str) -> None:
    settings_class, create_app, expected = SERVICES[service]
    settings = settings_class(database_url=POSTGRES)

    with pytest.raises(DevDefaultsError) as refused:
        create_app(settings)

    prefix = f"{service.upper()}_"
    message = str(refused.value)
    assert {prefix + name for name in expected} == set(settings.dev_defaults_in_use())
    for name in expected:
        assert prefix + name in message
    assert f"{prefix}ALLOW_DEV_DEFAULTS=true" in message


@pytest.mark.parametrize("service", list(SERVICES))
def test_each_dev_default_alone_is_enough_to_refuse(
    service: str, keys: TestKeys, tmp_path: Path
) -> None:
    settings_class, create_app, expected = SERVICES[service]
    production = production_values(service, keys, tmp_path)
    create_app(settings_class(database_url=POSTGRES, **production))  # starts

    defaults = settings_class(database_url=POSTGRES)
    for name in expected:
        field = name.lower()
        one_left = {**production, field: getattr(defaults, field)}
        settings = settings_class(database_url=POSTGRES, **one_left)
        assert settings.dev_defaults_in_use() == [f"{service.upper()}_{name}"]
        with pytest.raises(DevDefaultsError):
            create_app(settings)


@pytest.mark.parametrize("service", list(SERVICES))
def test_the_allow_flag_or_sqlite_lets_it_start(service: str) -> None:
    settings_class, create_app, _ = SERVICES[service]

    create_app(settings_class(database_url=POSTGRES, allow_dev_defaults=True))
    create_app(settings_class())  # SQLite under var/: the embedded development setup


def test_a_refusing_service_process_exits_and_names_the_settings(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERS_")}
    env["ORDERS_DATABASE_URL"] = POSTGRES
    command = [sys.executable, "-m", "uvicorn", "services.orders.main:create_app", "--factory"]
    command += ["--port", "0"]

    finished = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )

    assert finished.returncode != 0
    assert "ORDERS_PAYMENT_PROVIDER" in finished.stderr
    assert "ORDERS_ALLOW_DEV_DEFAULTS=true" in finished.stderr
