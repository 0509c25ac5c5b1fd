"""Every service has the same shape (STYLE.md's "One shape for every service"), read from its
source: modules small enough to have one reason to change, API models named by one rule, and
no two classes of one service sharing a name.

The offline verifier (`services/license/verifier.py`) is the one module allowed to be long: an
application copies it as one file.
"""

import ast
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import SERVICES_DIR

SERVICES = ["catalog", "review", "orders", "license"]
MAX_LINES = 450
LONG_ON_PURPOSE = {"license/verifier.py"}
# Request bodies: <Noun>Create (a POST that creates), <Noun>Patch, <Action>Request; responses:
# <Noun>View; `StrictBody` is the base of bodies (never `Request`, which shadows FastAPI's).
BODY_OR_VIEW = ("Create", "Patch", "Request", "View")
# Named for what they are rather than by the rule: parts of a body (a rejection's note on one
# field, an order's cycle) and the payment provider's own event, which is not an action of ours.
PARTS = {"FieldNote", "CycleBody", "WebhookEvent"}


def _modules(service: str) -> list[Path]:
    return sorted((SERVICES_DIR / service).rglob("*.py"))


def _classes(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    return [node.name for node in tree.body if isinstance(node, ast.ClassDef)]


@pytest.mark.parametrize("service", SERVICES)
def test_no_module_is_over_450_lines(service: str) -> None:
    sizes = {
        str(path.relative_to(SERVICES_DIR)): len(path.read_text().splitlines())
        for path in _modules(service)
    }

    assert {n: s for n, s in sizes.items() if s > MAX_LINES and n not in LONG_ON_PURPOSE} == {}


@pytest.mark.parametrize("service", SERVICES)
def test_api_models_are_named_by_the_rule(service: str) -> None:
    names = _classes(SERVICES_DIR / service / "api" / "schemas.py")

    misnamed = [
        name
        for name in names
        if name != "StrictBody" and name not in PARTS and not name.endswith(BODY_OR_VIEW)
    ]

    assert misnamed == []
    assert "Request" not in names


@pytest.mark.parametrize("service", SERVICES)
def test_no_two_classes_of_a_service_share_a_name(service: str) -> None:
    # client.py is left out: it is what callers import, the wire form of the provider's nouns
    # (`Money`, `Cycle`…); making those one definition with the provider's own is the wire
    # contract's business, not a naming one.
    counts = Counter(
        name for path in _modules(service) if path.name != "client.py" for name in _classes(path)
    )

    assert {name: n for name, n in counts.items() if n > 1} == {}


# Every service's skeleton (docs/architecture.md); `client.py` only where another service calls
# this one (catalog and license today).
SKELETON = [
    "main.py",
    "settings.py",
    "errors.py",
    "api/deps.py",
    "api/schemas.py",
    "domain/__init__.py",
    "service/__init__.py",
    "db/models.py",
    "db/repositories.py",
    "db/uow.py",
    "migrations/env.py",
]


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_the_same_skeleton(service: str) -> None:
    missing = [part for part in SKELETON if not (SERVICES_DIR / service / part).is_file()]

    assert missing == []
    assert not (SERVICES_DIR / service / "service.py").exists()
