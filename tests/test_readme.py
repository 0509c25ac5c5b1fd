"""The README's configuration table says what the settings classes say, in both directions."""

import re
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from services.catalog.settings import CatalogSettings
from services.license.settings import LicenseSettings
from services.orders.settings import OrdersSettings
from services.review.settings import ReviewSettings
from shared.settings import ServiceSettings

README = Path(__file__).resolve().parent.parent / "README.md"
SERVICES: list[type[BaseSettings]] = [
    CatalogSettings,
    ReviewSettings,
    OrdersSettings,
    LicenseSettings,
]


def documented() -> set[str]:
    section = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z<>_]+)` \|", section, flags=re.MULTILINE))


def expected() -> set[str]:
    shared = set(ServiceSettings.model_fields)
    names = {f"<SVC>_{name.upper()}" for name in shared}
    for settings in SERVICES:
        prefix = str(settings.model_config.get("env_prefix"))
        names |= {f"{prefix}{name.upper()}" for name in settings.model_fields if name not in shared}
    return names


def test_every_setting_is_documented() -> None:
    missing = expected() - documented()
    assert not missing, f"add to the README's configuration table: {sorted(missing)}"


def test_every_documented_setting_exists() -> None:
    stale = documented() - expected()
    assert not stale, f"the README documents settings that don't exist: {sorted(stale)}"


@pytest.mark.parametrize("settings", SERVICES)
def test_each_service_has_its_own_prefix(settings: type[BaseSettings]) -> None:
    assert str(settings.model_config.get("env_prefix")).endswith("_")
