"""Bad input is a 4xx problem+json with a stable code: never a 500, never a bare detail."""

# ruff: noqa: E501 (the cases read best as a table, one per line)

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from services.catalog.domain.documents import MAX_DOCUMENT_BYTES
from tests.catalog.factories import CatalogDriver, addon_body, plan_body, price, product_body
from tests.problems import assert_problem

LONG_ID = "prd_" + "x" * 5000
MONTHLY = {"unit": "month", "count": 1, "price": price(100)}


@dataclass(frozen=True)
class Case:
    """A bad request and the problem it must get. Paths may name {product}, {plan}, {addon}."""

    id: str
    method: str
    path: str
    status: int
    code: str
    json: Any = None
    content: bytes | None = None
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    as_service: bool = False


PLANS = "/v1/products/{product}/draft/plans"
ADDONS = "/v1/products/{product}/draft/addons"
DRAFT = "/v1/products/{product}/draft"
INVALID = (422, "validation_error")

CASES = [
    # wrong types
    Case("product-name-number", "POST", "/v1/products", *INVALID, json=product_body(name=123)),
    Case("product-type-unknown", "POST", "/v1/products", *INVALID, json=product_body(product_type="app")),
    Case("acceptance-not-bool", "POST", "/v1/products", *INVALID, json=product_body(requires_acceptance="maybe")),
    Case("cycles-a-string", "POST", PLANS, *INVALID, json=plan_body(cycles="monthly")),
    Case("entitlement-a-string", "POST", PLANS, *INVALID, json=plan_body(entitlements={"devices": "lots"})),
    Case("price-a-float", "POST", PLANS, *INVALID, json=plan_body(cycles=[{**MONTHLY, "price": price(1.5)}])),  # type: ignore[arg-type]
    Case("body-an-array", "POST", "/v1/products", *INVALID, json=[product_body()]),
    Case("body-missing", "POST", "/v1/products", *INVALID),
    Case("patch-draft-retired-a-list", "PATCH", DRAFT, *INVALID, json={"requires_acceptance": [1]}),
    # unknown fields
    Case("product-unknown-field", "POST", "/v1/products", *INVALID, json=product_body(colour="blue")),
    Case("product-partner-id", "POST", "/v1/products", *INVALID, json=product_body(partner_id="globex")),
    Case("plan-unknown-field", "POST", PLANS, *INVALID, json=plan_body(colour="blue")),
    Case("cycle-unknown-field", "POST", PLANS, *INVALID, json=plan_body(cycles=[{**MONTHLY, "discount": 5}])),
    Case("patch-draft-unknown-field", "PATCH", DRAFT, *INVALID, json={"colour": "blue"}),
    Case("patch-plan-unknown-field", "PATCH", PLANS + "/{plan}", *INVALID, json={"colour": "blue"}),
    Case("patch-plan-id", "PATCH", PLANS + "/{plan}", *INVALID, json={"id": "pln_other"}),
    # sizes and ranges
    Case("product-name-51", "POST", "/v1/products", *INVALID, json=product_body(name="n" * 51)),
    Case("product-name-blank", "POST", "/v1/products", *INVALID, json=product_body(name="   ")),
    Case("category-41", "POST", "/v1/products", *INVALID, json=product_body(category="c" * 41)),
    Case("acceptance-days-91", "POST", "/v1/products", *INVALID, json=product_body(acceptance_days=91)),
    Case("plan-name-51", "POST", PLANS, *INVALID, json=plan_body(name="n" * 51)),
    Case("addon-name-51", "POST", ADDONS, *INVALID, json=addon_body(name="n" * 51)),
    Case("patch-draft-name-51", "PATCH", DRAFT, *INVALID, json={"name": "n" * 51}),
    Case("patch-plan-name-51", "PATCH", PLANS + "/{plan}", *INVALID, json={"name": "n" * 51}),
    Case("cycle-count-37", "POST", PLANS, *INVALID, json=plan_body(cycles=[{**MONTHLY, "count": 37}])),
    Case("thirteen-cycles", "POST", PLANS, *INVALID, json=plan_body(cycles=[{**MONTHLY, "count": n} for n in range(1, 14)])),
    Case("entitlement-too-big", "POST", PLANS, *INVALID, json=plan_body(entitlements={"devices": 10**13})),
    Case("dimension-name", "POST", PLANS, *INVALID, json=plan_body(entitlements={"Devices!": 1})),
    Case("max-per-instance-0", "POST", ADDONS, *INVALID, json=addon_body(max_per_instance=0)),
    # prices and pricing
    Case("negative-cycle-price", "POST", PLANS, *INVALID, json=plan_body(cycles=[{**MONTHLY, "price": price(-1)}])),
    Case("negative-one-time-price", "POST", PLANS, *INVALID, json=plan_body(subscription_method="one_time", cycles=None, price=price(-100))),
    Case("negative-addon-price", "POST", ADDONS, *INVALID, json=addon_body(cycles=[{**MONTHLY, "price": price(-1)}])),
    Case("patch-negative-price", "PATCH", PLANS + "/{plan}", *INVALID, json={"cycles": [{**MONTHLY, "price": price(-1)}]}),
    Case("cycle-on-one-time", "POST", PLANS, *INVALID, json=plan_body(subscription_method="one_time", price=price(100))),
    Case("one-time-without-price", "POST", PLANS, *INVALID, json=plan_body(subscription_method="one_time", cycles=None)),
    Case("subscription-without-cycles", "POST", PLANS, *INVALID, json=plan_body(cycles=[])),
    Case("price-on-subscription", "POST", PLANS, *INVALID, json=plan_body(price=price(100))),
    Case("duplicate-cycles", "POST", PLANS, *INVALID, json=plan_body(cycles=[MONTHLY, MONTHLY])),
    Case("unknown-currency", "POST", PLANS, *INVALID, json=plan_body(cycles=[{**MONTHLY, "price": price(100, "XYZ")}])),
    Case("patch-to-one-time-keeping-cycles", "PATCH", PLANS + "/{plan}", 422, "invalid_configuration", json={"subscription_method": "one_time", "price": price(100)}),
    Case("patch-draft-billing-null", "PATCH", DRAFT, 422, "invalid_configuration", json={"billing_mode": None}),
    # bidi controls, invisible and control characters in names (Trojan Source); lone surrogates
    Case("product-name-rlo", "POST", "/v1/products", *INVALID, json=product_body(name="Fleet\u202eATO")),
    Case("product-name-isolate", "POST", "/v1/products", *INVALID, json=product_body(name="Fleet\u2066OTA\u2069")),
    Case("product-name-zero-width", "POST", "/v1/products", *INVALID, json=product_body(name="Fleet\u200bOTA")),
    Case("product-name-bom", "POST", "/v1/products", *INVALID, json=product_body(name="\ufeffFleetOTA")),
    Case("product-name-newline", "POST", "/v1/products", *INVALID, json=product_body(name="Fleet\nOTA")),
    Case("category-rlm", "POST", "/v1/products", *INVALID, json=product_body(category="auto\u200fmotive")),
    Case("description-rlo", "POST", "/v1/products", *INVALID, json=product_body(description="Updates \u202egnp.exe")),
    Case("description-escape", "POST", "/v1/products", *INVALID, json=product_body(description="red \x1b[31m")),
    Case("plan-name-rlo", "POST", PLANS, *INVALID, json=plan_body(name="Std\u202e")),
    Case("addon-name-zero-width", "POST", ADDONS, *INVALID, json=addon_body(name="+100\u200d devices")),
    Case("patch-draft-name-rlo", "PATCH", DRAFT, *INVALID, json={"name": "Fleet\u202eATO"}),
    Case("patch-plan-name-lri", "PATCH", PLANS + "/{plan}", *INVALID, json={"name": "Std\u2066"}),
    Case("product-name-lone-surrogate", "POST", "/v1/products", *INVALID, content=b'{"product_type": "saas", "name": "Fleet\\ud800", "category": "x", "billing_mode": "free"}', headers={"Content-Type": "application/json"}),
    Case("description-lone-surrogate", "POST", "/v1/products", *INVALID, content=b'{"product_type": "saas", "name": "Fleet", "category": "x", "billing_mode": "free", "description": "\\udfff"}', headers={"Content-Type": "application/json"}),
    Case("freeze-partner-rlo", "POST", "/v1/internal/products/{product}/freeze", *INVALID, json={"partner_id": "acme\u202e", "submission_id": "sub_1"}, as_service=True),
    # references
    Case("addon-unknown-plan", "POST", ADDONS, 422, "unknown_plan", json=addon_body(compatible_plans=["pln_ghost"])),
    Case("addon-unknown-document", "POST", ADDONS, 422, "unknown_document", json=addon_body(agreement={"kind": "custom", "document_id": "doc_ghost"})),
    Case("agreement-without-document", "POST", ADDONS, *INVALID, json=addon_body(agreement={"kind": "custom"})),
    Case("standard-agreement-with-document", "POST", ADDONS, *INVALID, json=addon_body(agreement={"kind": "platform_standard", "document_id": "doc_x"})),
    Case("patch-unknown-plan", "PATCH", PLANS + "/pln_ghost", 404, "plan_not_found", json={"retired": True}),
    Case("delete-unknown-addon", "DELETE", ADDONS + "/add_ghost", 404, "addon_not_found"),
    Case("unknown-revision", "GET", "/v1/products/{product}/revisions/3", 404, "revision_not_found"),
    # bodies that are not JSON at all
    Case("not-json", "POST", "/v1/products", *INVALID, content=b"{name: FleetOTA", headers={"Content-Type": "application/json"}),
    Case("json-truncated", "POST", PLANS, *INVALID, content=b'{"name": "Std", "cycles": [', headers={"Content-Type": "application/json"}),
    Case("json-as-text-plain", "POST", "/v1/products", *INVALID, content=b"{}", headers={"Content-Type": "text/plain"}),
    Case("invalid-utf8", "POST", "/v1/products", 400, "bad_request", content=b'{"name": "\xff\xfe"}', headers={"Content-Type": "application/json"}),
    Case("nested-too-deep", "POST", "/v1/products", 400, "bad_request", content=b"[" * 100_000, headers={"Content-Type": "application/json"}),
    Case("body-over-1-mib", "POST", "/v1/products", 413, "payload_too_large", json=product_body(description="d" * 2_000_000)),
    # lists
    Case("limit-1000", "GET", "/v1/products", *INVALID, params={"limit": 1000}),
    Case("limit-0", "GET", "/v1/products", *INVALID, params={"limit": 0}),
    Case("limit-negative", "GET", "/v1/products", *INVALID, params={"limit": -5}),
    Case("limit-not-a-number", "GET", "/v1/products", *INVALID, params={"limit": "ten"}),
    Case("bad-cursor", "GET", "/v1/products", 422, "invalid_cursor", params={"cursor": "garbage!"}),
    Case("cursor-too-long", "GET", "/v1/products", *INVALID, params={"cursor": "a" * 201}),
    Case("q-too-long", "GET", "/v1/products", *INVALID, params={"q": "q" * 101}),
    Case("category-too-long", "GET", "/v1/products", *INVALID, params={"category": "c" * 41}),
    # absurd path ids
    Case("long-product-id-public", "GET", f"/v1/products/{LONG_ID}", *INVALID),
    Case("long-product-id-draft", "GET", f"/v1/products/{LONG_ID}/draft", *INVALID),
    Case("long-product-id-patch", "PATCH", f"/v1/products/{LONG_ID}/draft", *INVALID, json={"name": "x"}),
    Case("long-plan-id", "PATCH", PLANS + "/pln_" + "x" * 5000, *INVALID, json={"retired": True}),
    Case("long-addon-id", "DELETE", ADDONS + "/add_" + "x" * 5000, *INVALID),
    Case("long-document-id", "GET", "/v1/documents/doc_" + "x" * 5000, *INVALID),
    Case("long-document-content-id", "GET", "/v1/documents/doc_" + "x" * 5000 + "/content", *INVALID),
    Case("huge-revision-number", "GET", "/v1/products/{product}/revisions/99999999999999999999999", *INVALID),
    Case("revision-zero", "GET", "/v1/products/{product}/revisions/0", *INVALID),
    Case("revision-not-a-number", "GET", "/v1/products/{product}/revisions/latest", *INVALID),
    Case("long-id-freeze", "POST", f"/v1/internal/products/{LONG_ID}/freeze", *INVALID, json={"partner_id": "acme", "submission_id": "sub_1"}, as_service=True),
    Case("freeze-without-submission", "POST", "/v1/internal/products/{product}/freeze", *INVALID, json={"partner_id": "acme"}, as_service=True),
    Case("freeze-long-submission", "POST", "/v1/internal/products/{product}/freeze", *INVALID, json={"partner_id": "acme", "submission_id": "s" * 65}, as_service=True),
    Case("publish-revision-zero", "POST", "/v1/internal/products/{product}/revisions/0/publish", *INVALID, as_service=True),
]  # fmt: skip


@pytest.fixture
async def ids(catalog_driver: CatalogDriver) -> dict[str, str]:
    product, plan, addon = await catalog_driver.listing()
    return {"product": product["id"], "plan": plan["id"], "addon": addon["id"]}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_bad_input_is_a_problem_with_a_stable_code(
    catalog_driver: CatalogDriver, ids: dict[str, str], case: Case
) -> None:
    auth = catalog_driver.service if case.as_service else catalog_driver.auth

    response = await catalog_driver.client.request(
        case.method,
        case.path.format(**ids),
        json=case.json,
        content=case.content,
        params=case.params,
        headers={**auth, **case.headers},
    )

    body = assert_problem(response, case.status, case.code)
    if case.code in ("validation_error", "invalid_configuration", "unknown_plan"):
        assert body["errors"], body


async def test_a_validation_problem_says_where_and_what(catalog_driver: CatalogDriver) -> None:
    product, _, _ = await catalog_driver.listing()

    response = await catalog_driver.client.post(
        f"/v1/products/{product['id']}/draft/plans",
        json=plan_body(cycles=[{**MONTHLY, "price": price(-1)}]),
        headers=catalog_driver.auth,
    )

    body = assert_problem(response, 422, "validation_error")
    assert body["errors"] == [
        {
            "loc": ["body", "cycles", 0, "price", "amount_minor"],
            "msg": "Input should be greater than or equal to 0",
            "type": "greater_than_equal",
        }
    ]


async def test_bad_input_leaves_the_draft_as_it_was(catalog_driver: CatalogDriver) -> None:
    product, plan, _ = await catalog_driver.listing()
    url = f"/v1/products/{product['id']}/draft"
    before = (await catalog_driver.client.get(url, headers=catalog_driver.auth)).json()

    for changes in ({"name": "n" * 51}, {"billing_mode": None}, {"acceptance_days": 0}):
        response = await catalog_driver.client.patch(url, json=changes, headers=catalog_driver.auth)
        assert response.status_code == 422
    await catalog_driver.client.patch(
        f"{url}/plans/{plan['id']}",
        json={"subscription_method": "one_time"},
        headers=catalog_driver.auth,
    )

    assert (await catalog_driver.client.get(url, headers=catalog_driver.auth)).json() == before


# -- uploads -------------------------------------------------------------------------------


async def upload(
    catalog_driver: CatalogDriver, content: bytes, filename: str = "terms.txt"
) -> httpx.Response:
    return await catalog_driver.client.post(
        "/v1/documents", files={"file": (filename, content)}, headers=catalog_driver.auth
    )


async def test_an_upload_over_10_mib_is_413(catalog_driver: CatalogDriver) -> None:
    response = await upload(catalog_driver, b"a" * (MAX_DOCUMENT_BYTES + 1))

    assert_problem(response, 413, "document_too_large")


async def test_an_upload_far_over_10_mib_is_refused_before_it_is_read(
    catalog_driver: CatalogDriver,
) -> None:
    response = await upload(catalog_driver, b"a" * (MAX_DOCUMENT_BYTES + 1024 * 1024))

    assert_problem(response, 413, "payload_too_large")


async def test_a_streamed_upload_over_the_limit_is_413(catalog_driver: CatalogDriver) -> None:
    async def multipart() -> AsyncIterator[bytes]:
        yield (
            b'--zzz\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n'
            b"Content-Type: text/plain\r\n\r\n"
        )
        for _ in range(11):
            yield b"a" * 1024 * 1024
        yield b"\r\n--zzz--\r\n"

    response = await catalog_driver.client.post(
        "/v1/documents",
        content=multipart(),
        headers={**catalog_driver.auth, "Content-Type": "multipart/form-data; boundary=zzz"},
    )

    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "payload_too_large")


async def test_an_upload_of_exactly_10_mib_is_accepted(catalog_driver: CatalogDriver) -> None:
    response = await upload(catalog_driver, b"a" * MAX_DOCUMENT_BYTES)

    assert response.status_code == 201, response.text
    assert response.json()["size_bytes"] == MAX_DOCUMENT_BYTES


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (bytes(range(256)) * 8, "terms.txt"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(100), "terms.pdf"),
        (b"PK\x03\x04" + bytes(300), "terms.docx"),
    ],
    ids=["junk", "png-named-pdf", "broken-zip-named-docx"],
)
async def test_an_upload_of_the_wrong_type_is_415(
    catalog_driver: CatalogDriver, content: bytes, filename: str
) -> None:
    assert_problem(
        await upload(catalog_driver, content, filename), 415, "unsupported_document_type"
    )


async def test_an_empty_upload_is_422(catalog_driver: CatalogDriver) -> None:
    assert_problem(await upload(catalog_driver, b""), 422, "empty_document")


async def test_an_upload_without_the_file_field_is_422(catalog_driver: CatalogDriver) -> None:
    response = await catalog_driver.client.post(
        "/v1/documents", files={"attachment": ("terms.txt", b"hi")}, headers=catalog_driver.auth
    )

    assert_problem(response, 422, "validation_error")


async def test_an_upload_whose_file_is_a_plain_field_is_422(catalog_driver: CatalogDriver) -> None:
    response = await catalog_driver.client.post(
        "/v1/documents", data={"file": "Support terms."}, headers=catalog_driver.auth
    )

    assert_problem(response, 422, "validation_error")


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data; boundary=zzz", "multipart/form-data", "application/json"],
)
async def test_a_malformed_upload_body_is_4xx(
    catalog_driver: CatalogDriver, content_type: str
) -> None:
    response = await catalog_driver.client.post(
        "/v1/documents",
        content=b"this is not multipart",
        headers={**catalog_driver.auth, "Content-Type": content_type},
    )

    assert 400 <= response.status_code < 500, response.text
    assert response.json()["code"] in {"bad_request", "validation_error"}
