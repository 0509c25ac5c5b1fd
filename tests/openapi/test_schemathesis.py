"""Schemathesis against each service's own document, in-process, with valid tokens.

Each operation is called as the role that owns it (a partner edits the catalog, a customer
buys, a reviewer decides, a service calls the internal routes), with requests generated from
the document: its examples, then a fixed number of random valid and invalid inputs,
derandomized so that every run sends the same requests. (Not the coverage phase: its boundary
cases run to hundreds per operation. No shrinking: a failure is reproduced as it is.) Path
parameters are often swapped for ids that exist (a live product, a draft, a paid order...),
so the handlers get past their 404s. Checks: never a 5xx, and every response is one the
document describes (status code, content type, body schema).
"""

from typing import Any, cast

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode, HookContext
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared.auth import Role
from tests.conftest import TestKeys
from tests.openapi.conftest import REVIEWER, Seeded
from tests.openapi.specs import SERVICES
from tests.openapi.system import BASE_URLS, InProcessSystem
from tests.orders.factories import CUSTOMER, PARTNER

EXAMPLES_PER_OPERATION = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

# Who calls each operation: the role that owns it. The rest are the partner's, or public (a
# token does no harm there). The payment webhook is fuzzed too, without a valid signature: it
# must answer 401 or 422, never a 5xx; signed events are tested in tests/orders.
ROLES: dict[str, tuple[Role, str]] = {
    "freezeDraft": (Role.service, "review"),
    "publishRevision": (Role.service, "review"),
    "unlockDraft": (Role.service, "review"),
    "claimSubmission": (Role.reviewer, REVIEWER),
    "approveSubmission": (Role.reviewer, REVIEWER),
    "rejectSubmission": (Role.reviewer, REVIEWER),
    "listSubmissions": (Role.reviewer, REVIEWER),
    "createOrder": (Role.customer, CUSTOMER),
    "listOrders": (Role.customer, CUSTOMER),
    "getOrder": (Role.customer, CUSTOMER),
    "payOrder": (Role.customer, CUSTOMER),
    "cancelOrder": (Role.customer, CUSTOMER),
    "acceptOrder": (Role.customer, CUSTOMER),
    "listInstances": (Role.customer, CUSTOMER),
    "getInstance": (Role.customer, CUSTOMER),
    "getLicense": (Role.customer, CUSTOMER),
    "listInstanceLicenses": (Role.customer, CUSTOMER),
    "getEntitlement": (Role.customer, CUSTOMER),
    "mintLicense": (Role.service, "orders"),
    "acceptOrderLicense": (Role.service, "orders"),
    "revokeOrderLicense": (Role.service, "orders"),
    "renewLicense": (Role.service, "orders"),
    "changeLicensePlan": (Role.service, "orders"),
    "listInstanceLicensesInternal": (Role.service, "orders"),
    "getEntitlementInternal": (Role.service, "orders"),
}
DEFAULT_ROLE = (Role.partner, PARTNER)


def _config() -> schemathesis.Config:
    config = schemathesis.Config()
    project = config.projects.default
    project.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=EXAMPLES_PER_OPERATION,
        deterministic=True,
        database="none",
        with_security_parameters=False,
        allow_x00=False,
    )
    project.phases.update(phases=["examples", "fuzzing"])
    return config


def _schema(system: InProcessSystem, service: str, seeded: Seeded) -> Any:
    spec = system.send(service, system.clients[service].build_request("GET", "/openapi.json"))
    schema = schemathesis.openapi.from_dict(spec.json(), config=_config())
    known = seeded.all()

    @schema.hook
    def flatmap_path_parameters(
        context: HookContext, path_parameters: dict[str, Any]
    ) -> st.SearchStrategy[dict[str, Any]]:
        # As generated (a 404, mostly), or the ids of objects that exist.
        if not isinstance(path_parameters, dict):
            return st.just(path_parameters)
        options = [path_parameters]
        for ids in known:
            if set(path_parameters) & set(ids):
                options.append(
                    {**path_parameters, **{k: v for k, v in ids.items() if k in path_parameters}}
                )
        return st.sampled_from(options)

    return schema


def _call(system: InProcessSystem, service: str, keys: TestKeys, case: Case[Any]) -> None:
    role, sub = ROLES.get(case.operation.definition.raw.get("operationId", ""), DEFAULT_ROLE)
    case.headers.update(keys.headers(role, sub))
    # Schemathesis serializes the case for `requests`; the prepared request's bytes go to
    # the app through the system's loop, and its response comes back as httpx's.
    kwargs = case.as_transport_kwargs(base_url=BASE_URLS[service])
    prepared = requests.Request(
        method=kwargs["method"],
        url=kwargs["url"],
        headers=kwargs.get("headers"),
        params=kwargs.get("params"),
        json=kwargs.get("json"),
        data=kwargs.get("data"),
        files=kwargs.get("files"),
        cookies=kwargs.get("cookies"),
    ).prepare()
    body = cast(bytes | str | None, prepared.body)
    request = system.clients[service].build_request(
        prepared.method or "GET",
        prepared.url or "/",
        headers={
            k: v if isinstance(v, str) else v.decode("latin-1") for k, v in prepared.headers.items()
        },
        content=body.encode() if isinstance(body, str) else body or b"",
    )
    response = system.send(service, request)
    case.validate_response(response, checks=CHECKS)


SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


@pytest.fixture
def api(
    request: pytest.FixtureRequest, service: str, system: InProcessSystem, seeded: Seeded
) -> Any:
    # schemathesis 4.32 reads and renames `Item._nodeid`, which pytest 9.2 no longer has.
    request.node._nodeid = request.node.nodeid
    return _schema(system, service, seeded)


api_schema = schemathesis.pytest.from_fixture("api")


@pytest.mark.parametrize("service", SERVICES)
@api_schema.parametrize()
@SETTINGS
def test_responses_match_the_document(
    case: Case[Any], service: str, system: InProcessSystem, keys: TestKeys
) -> None:
    _call(system, service, keys, case)
