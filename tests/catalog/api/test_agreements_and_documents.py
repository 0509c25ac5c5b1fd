"""Agreement documents: upload, read, privacy, and the agreement rules at submission."""

import hashlib
import io
import zipfile
from typing import Any

import httpx
import pytest

from services.catalog.domain.documents import DocumentType
from tests.catalog.factories import CatalogDriver
from tests.conftest import TestKeys
from tests.problems import assert_problem

TERMS = b"Support agreement\n\nWe answer within one business day.\n"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


async def upload(
    driver: CatalogDriver, content: bytes = TERMS, filename: str = "terms.txt"
) -> dict[str, Any]:
    response = await driver.client.post(
        "/v1/documents",
        files={"file": (filename, content, "application/octet-stream")},
        headers=driver.auth,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def custom(document_id: str, kind: str = "custom") -> dict[str, str]:
    return {"kind": kind, "document_id": document_id}


# -- documents -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "filename", "media_type"),
    [
        (TERMS, "terms.txt", DocumentType.text),
        (PDF, "terms.pdf", DocumentType.pdf),
        (docx(), "terms.docx", DocumentType.docx),
        (b"Plain words in a file called .pdf", "terms.pdf", DocumentType.text),
    ],
    ids=["text", "pdf", "docx", "text-named-pdf"],
)
async def test_an_upload_is_stored_with_its_sha256_and_judged_by_content(
    driver: CatalogDriver, content: bytes, filename: str, media_type: DocumentType
) -> None:
    document = await upload(driver, content, filename)

    assert document["id"].startswith("doc_")
    assert document["sha256"] == hashlib.sha256(content).hexdigest()
    assert document["size_bytes"] == len(content)
    assert document["media_type"] == media_type.value
    assert document["filename"] == filename
    assert document["public"] is False
    assert document["content_url"] == f"/v1/documents/{document['id']}/content"


async def test_the_owner_downloads_the_exact_bytes(driver: CatalogDriver) -> None:
    content = docx()
    document = await upload(driver, content, "Terms & Conditions (v2).docx")

    response = await driver.client.get(document["content_url"], headers=driver.auth)

    assert response.status_code == 200
    assert response.content == content
    assert response.headers["content-type"] == document["media_type"]
    assert response.headers["etag"] == f'"{document["sha256"]}"'
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"] == (
        'attachment; filename="Terms  Conditions v2.docx"'
    )


async def test_the_metadata_reads_back(driver: CatalogDriver) -> None:
    document = await upload(driver)

    response = await driver.client.get(f"/v1/documents/{document['id']}", headers=driver.auth)

    assert response.json() == document


async def test_a_document_is_private_until_a_live_addon_uses_it(
    driver: CatalogDriver, keys: TestKeys
) -> None:
    document = await upload(driver)
    product = await driver.product(product_type="saas")
    await driver.plan(product["id"])
    await driver.addon(product["id"], agreement=custom(document["id"]))
    meta, content = f"/v1/documents/{document['id']}", document["content_url"]
    stranger = keys.headers("customer", "carol")

    for url in (meta, content):
        assert_problem(await driver.client.get(url), 404, "document_not_found")
    frozen = await driver.freeze(product["id"])
    assert frozen.status_code == 200, frozen.text
    assert_problem(await driver.client.get(content, headers=stranger), 404, "document_not_found")

    assert (await driver.publish(product["id"], 1)).status_code == 200

    public = await driver.client.get(meta)
    assert public.status_code == 200
    assert public.json()["public"] is True
    download = await driver.client.get(content, headers=stranger)
    assert download.status_code == 200
    assert download.content == TERMS


async def test_an_unused_document_stays_private_when_another_goes_public(
    driver: CatalogDriver,
) -> None:
    used = await upload(driver)
    unused = await upload(driver, b"Other terms.")
    product = await driver.product(product_type="saas")
    await driver.plan(product["id"])
    await driver.addon(product["id"], agreement=custom(used["id"]))
    await driver.go_live(product["id"])

    assert (await driver.client.get(f"/v1/documents/{used['id']}")).status_code == 200
    assert_problem(
        await driver.client.get(f"/v1/documents/{unused['id']}"), 404, "document_not_found"
    )


async def test_an_unknown_document_is_404(driver: CatalogDriver) -> None:
    assert_problem(
        await driver.client.get("/v1/documents/doc_nothing", headers=driver.auth),
        404,
        "document_not_found",
    )


# -- agreement rules -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "product", [{"product_type": "saas"}, {"product_type": "service"}, {"billing_mode": "offline"}]
)
async def test_freeze_refuses_an_addon_without_an_uploaded_agreement(
    driver: CatalogDriver, product: dict[str, str]
) -> None:
    created, _, addon = await driver.listing(**product)

    body = assert_problem(await driver.freeze(created["id"]), 422, "draft_invalid")

    assert [(e["loc"], e["type"]) for e in body["errors"]] == [
        (["addons", addon["id"], "agreement"], "agreement_missing")
    ]


@pytest.mark.parametrize("kind", ["custom", "platform_template"])
async def test_freeze_accepts_an_uploaded_agreement(driver: CatalogDriver, kind: str) -> None:
    document = await upload(driver)
    product = await driver.product(product_type="saas", billing_mode="offline")
    await driver.plan(product["id"])
    addon = await driver.addon(product["id"], agreement=custom(document["id"], kind))

    frozen = await driver.freeze(product["id"])

    assert frozen.status_code == 200, frozen.text
    assert frozen.json()["snapshot"]["addons"][0]["agreement"] == custom(document["id"], kind)
    assert addon["agreement"] == custom(document["id"], kind)


async def test_a_saas_product_may_not_claim_the_platform_standard_agreement(
    driver: CatalogDriver,
) -> None:
    product = await driver.product(product_type="saas")
    await driver.plan(product["id"])
    addon = await driver.addon(product["id"], agreement={"kind": "platform_standard"})

    body = assert_problem(await driver.freeze(product["id"]), 422, "draft_invalid")

    assert [(e["loc"], e["type"]) for e in body["errors"]] == [
        (["addons", addon["id"], "agreement"], "agreement_not_allowed")
    ]


async def test_a_marketplace_product_billed_online_may_upload_its_own(
    driver: CatalogDriver,
) -> None:
    document = await upload(driver)
    product = await driver.product()
    await driver.plan(product["id"])
    await driver.addon(product["id"], agreement=custom(document["id"]))

    frozen = await driver.freeze(product["id"])

    assert frozen.json()["snapshot"]["addons"][0]["agreement"] == custom(document["id"])


async def test_another_partners_document_is_refused_as_an_agreement(
    driver: CatalogDriver,
) -> None:
    globex = CatalogDriver(driver.client, driver.keys, "globex")
    theirs = await upload(globex)
    product = await driver.product(product_type="saas")
    await driver.plan(product["id"])
    base = f"/v1/products/{product['id']}/draft/addons"

    added = await driver.client.post(
        base,
        json={
            "name": "+100 devices",
            "subscription_method": "one_time",
            "price": {"amount_minor": 100, "currency": "EUR"},
            "entitlements": {"devices": 100},
            "agreement": custom(theirs["id"]),
        },
        headers=driver.auth,
    )
    assert_problem(added, 422, "unknown_document")

    mine = await driver.addon(product["id"])
    patched = await driver.client.patch(
        f"{base}/{mine['id']}", json={"agreement": custom(theirs["id"])}, headers=driver.auth
    )
    assert_problem(patched, 422, "unknown_document")


async def test_clearing_the_agreement_returns_to_the_platform_default(
    driver: CatalogDriver,
) -> None:
    document = await upload(driver)
    product, _, addon = await driver.listing()
    url = f"/v1/products/{product['id']}/draft/addons/{addon['id']}"
    await driver.client.patch(url, json={"agreement": custom(document["id"])}, headers=driver.auth)

    cleared = await driver.client.patch(url, json={"agreement": None}, headers=driver.auth)

    assert cleared.json()["agreement"] is None
    frozen = await driver.freeze(product["id"])
    assert frozen.json()["snapshot"]["addons"][0]["agreement"]["kind"] == "platform_standard"


async def test_the_live_product_shows_the_agreement(
    driver: CatalogDriver, catalog: httpx.AsyncClient
) -> None:
    document = await upload(driver)
    product = await driver.product(product_type="service")
    await driver.plan(product["id"])
    await driver.addon(product["id"], agreement=custom(document["id"]))
    await driver.go_live(product["id"])

    live = (await catalog.get(f"/v1/products/{product['id']}")).json()

    assert live["addons"][0]["agreement"] == custom(document["id"])
