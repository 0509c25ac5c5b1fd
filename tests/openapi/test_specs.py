"""The four services' OpenAPI documents are part of the product: this keeps them complete.

Every operation has a summary, a stable camelCase operationId, a declared tag, a description
(outside the health probes), request and response examples that validate against their own
schemas, and its problems documented as application/problem+json with their codes; each
document is valid OpenAPI 3.1.
"""

import re
from typing import Any
from urllib.parse import quote

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from shared.problems import PROBLEM_MEDIA_TYPE
from tests.openapi.specs import SERVICES, operations, resolve, spec_of

CAMEL_CASE = re.compile(r"^[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)*$")
HEALTH_TAG = "operations"
SPEC_URI = "urn:market:openapi"

# The operation ids, which generated clients turn into function names: renaming one breaks
# partner code, so it is a deliberate act that updates this list.
OPERATION_IDS = {
    "catalog": {
        "createProduct",
        "listProducts",
        "getProduct",
        "getDraft",
        "patchDraft",
        "addPlan",
        "patchPlan",
        "deletePlan",
        "addAddon",
        "patchAddon",
        "deleteAddon",
        "listRevisions",
        "getRevision",
        "uploadDocument",
        "getDocument",
        "getDocumentContent",
        "freezeDraft",
        "publishRevision",
        "unlockDraft",
    },
    "review": {
        "createSubmission",
        "listSubmissions",
        "getSubmission",
        "withdrawSubmission",
        "claimSubmission",
        "approveSubmission",
        "rejectSubmission",
    },
    "orders": {
        "createOrder",
        "listOrders",
        "getOrder",
        "payOrder",
        "cancelOrder",
        "acceptOrder",
        "refundOrder",
        "receivePaymentWebhook",
        "listInstances",
        "getInstance",
    },
    "license": {
        "getLicense",
        "extendAcceptance",
        "listInstanceLicenses",
        "getEntitlement",
        "reportUsage",
        "listUsage",
        "getJwks",
        "verifyToken",
        "getRevocations",
        "mintLicense",
        "acceptOrderLicense",
        "revokeOrderLicense",
        "renewLicense",
        "changeLicensePlan",
        "listInstanceLicensesInternal",
        "getEntitlementInternal",
    },
}
HEALTH_OPERATION_IDS = {"healthz", "readyz", "metrics"}

pytestmark = pytest.mark.parametrize("service", SERVICES)


def pointer(*parts: str) -> str:
    """A JSON pointer (RFC 6901) to `parts`, as a URI fragment."""
    escaped = (part.replace("~", "~0").replace("/", "~1") for part in parts)
    return quote("/" + "/".join(escaped), safe="/~")


def validator_for(spec: dict[str, Any], location: str) -> Draft202012Validator:
    """A JSON Schema validator for the schema at `location` (a pointer) in `spec`."""
    registry: Registry[Any] = Registry().with_resource(
        SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT202012)
    )
    return Draft202012Validator({"$ref": f"{SPEC_URI}#{location}"}, registry=registry)


def media_examples(spec: dict[str, Any], media: dict[str, Any]) -> list[Any]:
    """The examples a media type object gives: its own, or its schema's (through `$ref`)."""
    found: list[Any] = []
    if "example" in media:
        found.append(media["example"])
    found.extend(example["value"] for example in media.get("examples", {}).values())
    if not found and "schema" in media:
        found.extend(resolve(spec, media["schema"]).get("examples", []))
    return found


def test_the_document_is_valid_openapi_3_1(service: str) -> None:
    spec = spec_of(service)

    assert spec["openapi"].startswith("3.1.")
    errors = [e.message for e in OpenAPIV31SpecValidator(spec).iter_errors()]
    assert errors == []


def test_operation_ids_are_stable_camel_case_and_unique(service: str) -> None:
    ids = [op.get("operationId") for _, _, op in operations(spec_of(service))]

    assert all(isinstance(i, str) and CAMEL_CASE.match(i) for i in ids), ids
    assert len(ids) == len(set(ids)), ids
    assert set(ids) == OPERATION_IDS[service] | HEALTH_OPERATION_IDS


def test_every_operation_has_a_summary_a_description_and_a_declared_tag(service: str) -> None:
    spec = spec_of(service)
    declared = {tag["name"]: tag.get("description") for tag in spec["tags"]}

    gaps: list[str] = []
    used: set[str] = set()
    for method, path, op in operations(spec):
        label = f"{method.upper()} {path}"
        if not op.get("summary"):
            gaps.append(f"{label}: no summary")
        if len(op.get("tags", [])) != 1:
            gaps.append(f"{label}: tags {op.get('tags')}, not one")
        used.update(op.get("tags", []))
        if op.get("tags") != [HEALTH_TAG] and not op.get("description"):
            gaps.append(f"{label}: no description (say what the summary leaves out)")
    assert not gaps, "\n".join(["", *gaps])
    assert used <= set(declared), used - set(declared)
    assert set(declared) <= used, set(declared) - used
    assert all(declared.values()), declared


def test_errors_are_problems_with_their_codes_and_examples(service: str) -> None:
    spec = spec_of(service)

    gaps: list[str] = []
    for method, path, op in operations(spec):
        label = f"{method.upper()} {path}"
        responses = op["responses"]
        for status, response in responses.items():
            if not status.startswith(("4", "5")):
                continue
            where = f"{label} {status}"
            if list(response.get("content", {})) != [PROBLEM_MEDIA_TYPE]:
                gaps.append(f"{where}: content {list(response.get('content', {}))}")
                continue
            media = response["content"][PROBLEM_MEDIA_TYPE]
            if resolve(spec, media["schema"]).get("title") != "Problem":
                gaps.append(f"{where}: not the Problem schema")
            examples = media.get("examples", {})
            if not examples:
                gaps.append(f"{where}: no codes documented (use problem_responses)")
            for code, example in examples.items():
                value = example["value"]
                if value["code"] != code or value["status"] != int(status):
                    gaps.append(f"{where}: example {code} says {value['status']} {value['code']}")
                if f"`{code}`" not in response["description"]:
                    gaps.append(f"{where}: description doesn't name `{code}`")
        if op.get("security") and not {"401", "403"} <= set(responses):
            gaps.append(f"{label}: needs a token, but 401/403 aren't documented")
        if (op.get("parameters") or op.get("requestBody")) and "422" not in responses:
            gaps.append(f"{label}: takes input, but 422 isn't documented")
    assert not gaps, "\n".join(["", *gaps])


def test_request_bodies_have_examples_that_match_their_schemas(service: str) -> None:
    spec = spec_of(service)

    gaps: list[str] = []
    for method, path, op in operations(spec):
        label = f"{method.upper()} {path}"
        for media_type, media in op.get("requestBody", {}).get("content", {}).items():
            examples = media_examples(spec, media)
            if not examples:
                gaps.append(f"{label} ({media_type}): no request example")
            if media_type == "application/json":
                where = pointer("paths", path, method, "requestBody", "content", media_type)
                validator = validator_for(spec, where + "/schema")
                gaps.extend(
                    f"{label}: {e.json_path}: {e.message} (example {str(example)[:60]}…)"
                    for example in examples
                    for e in validator.iter_errors(example)
                )
    assert not gaps, "\n".join(["", *gaps])


def test_json_responses_have_examples_that_match_their_schemas(service: str) -> None:
    spec = spec_of(service)

    gaps: list[str] = []
    for method, path, op in operations(spec):
        label = f"{method.upper()} {path}"
        for status, response in op["responses"].items():
            for media_type, media in response.get("content", {}).items():
                if not media_type.endswith("json"):
                    continue
                examples = media_examples(spec, media)
                if not examples:
                    gaps.append(f"{label} {status} ({media_type}): no response example")
                where = pointer("paths", path, method, "responses", status, "content", media_type)
                validator = validator_for(spec, where + "/schema")
                gaps.extend(
                    f"{label} {status}: {e.json_path}: {e.message} (example {str(example)[:60]}…)"
                    for example in examples
                    for e in validator.iter_errors(example)
                )
    assert not gaps, "\n".join(["", *gaps])
