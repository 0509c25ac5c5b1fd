"""License has the shape every service has (STYLE.md, "One shape for every service").

Modules small enough to read; one wire contract, defined in `client.py`, used by license's own
API; API models named by the one rule; typed application state; use cases on one process-wide
object that opens a unit of work per call.
"""

import ast
import inspect
from pathlib import Path
from typing import Any, get_args, get_type_hints

from fastapi import FastAPI
from fastapi.routing import APIRoute

from services.license import client as license_client
from services.license.api import instances, internal, licenses, schemas, verification
from services.license.api.deps import LicenseRuntime, runtime_of
from services.license.db.uow import LicenseUnitOfWork
from services.license.service import LicenseService
from shared.uow import UnitsOfWork

ROOT = Path(__file__).resolve().parents[2] / "services" / "license"
MAX_LINES = 450
# The offline verifier is one copyable file on purpose.
EXCEPTED = {ROOT / "verifier.py"}


def test_no_module_is_over_450_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in ROOT.rglob("*.py")
        if path not in EXCEPTED and (lines := len(path.read_text().splitlines())) > MAX_LINES
    }

    assert long == {}


def test_no_two_classes_share_a_name_and_none_shadows_request() -> None:
    seen: dict[str, list[str]] = {}
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                seen.setdefault(node.name, []).append(str(path.relative_to(ROOT)))

    assert "Request" not in seen
    assert {name: where for name, where in seen.items() if len(where) > 1} == {}


def test_the_internal_routes_take_and_answer_the_clients_models() -> None:
    assert get_type_hints(internal.mint_license)["body"] is license_client.MintRequest
    assert get_type_hints(internal.accept_order_license)["body"] == (
        license_client.AcceptRequest | None
    )
    assert get_type_hints(internal.revoke_order_license)["body"] is license_client.RevokeRequest
    assert get_type_hints(internal.mint_license)["return"] is license_client.LicenseView
    assert get_type_hints(internal.get_entitlement)["return"] is license_client.EntitlementView
    assert get_type_hints(instances.get_entitlement)["return"] is license_client.EntitlementView
    # The public API's schemas are the same classes, not copies.
    assert schemas.LicenseView is license_client.LicenseView
    assert schemas.EntitlementView is license_client.EntitlementView
    assert schemas.MintRequest is license_client.MintRequest


def _model_name(model: Any) -> str:
    return str(getattr(model, "__name__", model))


def test_bodies_and_answers_are_named_by_the_rule() -> None:
    routers = (licenses.router, instances.router, verification.router, internal.router)
    routes = [r for router in routers for r in router.routes if isinstance(r, APIRoute)]
    answers = {_model_name(r.response_model) for r in routes if r.response_model is not None}
    bodies = {
        _model_name(model)
        for r in routes
        if (hint := get_type_hints(r.endpoint).get("body")) is not None
        for model in (get_args(hint) or (hint,))
        if model is not type(None)
    }

    assert answers
    assert bodies
    for name in answers:
        assert name.endswith("View") or (name.startswith("Page[") and name.endswith("View]"))
    for name in bodies:
        assert name.endswith(("Create", "Patch", "Request")), name


def test_the_app_state_is_one_typed_runtime(license_app: FastAPI) -> None:
    state = runtime_of(license_app)

    assert isinstance(state, LicenseRuntime)
    # None of license's own objects lives loose on `app.state`.
    loose = set(vars(license_app.state)["_state"])
    assert "runtime" in loose
    assert not loose & {"ring", "heads", "reads", "addons", "service"}


async def test_use_cases_are_one_object_that_opens_units_of_work(license_app: FastAPI) -> None:
    service = runtime_of(license_app).service

    assert isinstance(service, LicenseService)
    assert isinstance(service.uow, UnitsOfWork)
    assert "session" not in inspect.signature(LicenseService).parameters
    async with service.uow(read=True) as uow:
        assert isinstance(uow, LicenseUnitOfWork)
