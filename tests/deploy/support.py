"""What the deployment tests share: where deploy/ is, the four services, their settings."""

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic_settings import BaseSettings

from services.catalog.settings import CatalogSettings
from services.license.settings import LicenseSettings
from services.orders.settings import OrdersSettings
from services.review.settings import ReviewSettings

# The C loader when PyYAML has it: the same documents, parsed much faster.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"
K8S_BASE = DEPLOY / "k8s" / "base"
SECRETS_EXAMPLE = DEPLOY / "k8s" / "secrets.example.yaml"

# Variables the image's entrypoint reads; every other one belongs to a service's settings.
ENTRYPOINT_VARIABLES = frozenset({"SERVICE", "PORT"})


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    settings: type[BaseSettings]

    @property
    def prefix(self) -> str:
        return str(self.settings.model_config.get("env_prefix", ""))

    @property
    def variables(self) -> frozenset[str]:
        """The environment variables the service's settings read."""
        return frozenset(self.prefix + field.upper() for field in self.settings.model_fields)

    @property
    def upstream_url_variables(self) -> frozenset[str]:
        """The settings that hold another service's base URL (`catalog_url`, ...)."""
        return frozenset(
            self.prefix + field.upper()
            for field in self.settings.model_fields
            if field.endswith("_url") and field.removesuffix("_url") in SERVICE_NAMES
        )


SERVICES = (
    Service("catalog", 8001, CatalogSettings),
    Service("review", 8002, ReviewSettings),
    Service("orders", 8003, OrdersSettings),
    Service("license", 8004, LicenseSettings),
)
SERVICE_NAMES = frozenset(service.name for service in SERVICES)
BY_NAME = {service.name: service for service in SERVICES}


def service_of_variable(name: str) -> Service | None:
    """The service whose prefix the variable has, if any."""
    return next((s for s in SERVICES if name.startswith(s.prefix)), None)


@functools.cache
def load_documents(path: Path) -> list[dict[str, Any]]:
    """Every non-empty YAML document of a file, parsed once (callers must not change them)."""
    with path.open(encoding="utf-8") as handle:
        return [doc for doc in yaml.load_all(handle, Loader=SafeLoader) if doc]


def load_yaml(path: Path) -> dict[str, Any]:
    """The one YAML document of a file."""
    documents = load_documents(path)
    assert len(documents) == 1, f"{path} holds {len(documents)} documents"
    return documents[0]


_BYTES = {"": 1, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "K": 10**3, "M": 10**6, "G": 10**9}


def memory_bytes(quantity: str) -> int:
    """A Kubernetes memory quantity (`192Mi`, `1G`, `1048576`) in bytes."""
    match = re.fullmatch(r"(\d+)(Ki|Mi|Gi|K|M|G|)", quantity)
    assert match, f"unsupported memory quantity {quantity!r}"
    return int(match[1]) * _BYTES[match[2]]


def cpu_millicores(quantity: str | int) -> int:
    """A Kubernetes CPU quantity (`250m`, `1`) in millicores."""
    text = str(quantity)
    return int(text[:-1]) if text.endswith("m") else int(float(text) * 1000)
