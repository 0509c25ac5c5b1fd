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
    catalog_driver: CatalogDriver, content: bytes = TERMS, filename: str = "terms.txt"
) -> dict[str, Any]:
    response = await catalog_driver.client.post(
        "/v1/documents",
        files={"file": (filename, content, "application/octet-stream")},
        headers=catalog_driver.auth,
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
    catalog_driver: CatalogDriver, content: bytes, filename: str, media_type: DocumentType
) -> None:
    document = await upload(catalog_driver, content, filename)

    assert document["id"].startswith("doc_")
    assert document["sha256"] == hashlib.sha256(content).hexdigest()
    assert document["size_bytes"] == len(content)
    assert document["media_type"] == media_type.value
    assert document["filename"] == filename
    assert document["public"] is False
    assert document["content_url"] == f"/v1/documents/{document['id']}/content"


async def test_the_owner_downloads_the_exact_bytes(catalog_driver: CatalogDriver) -> None:
    content = docx()
    document = await upload(catalog_driver, content, "Terms & Conditions (v2).docx")

    response = await catalog_driver.client.get(document["content_url"], headers=catalog_driver.auth)

    assert response.status_code == 200
    assert response.content == content
    assert response.headers["content-type"] == document["media_type"]
    assert response.headers["etag"] == f'"{document["sha256"]}"'
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"] == (
        'attachment; filename="Terms  Conditions v2.docx"'
    )


async def test_the_metadata_reads_back(catalog_driver: CatalogDriver) -> None:
    document = await upload(catalog_driver)

    response = await catalog_driver.client.get(
        f"/v1/documents/{document['id']}", headers=catalog_driver.auth
    )

    assert response.json() == document


async def test_a_document_is_private_until_a_live_addon_uses_it(
    catalog_driver: CatalogDriver, keys: TestKeys
) -> None:
    document = await upload(catalog_driver)
    product = await catalog_driver.product(product_type="saas")
    await catalog_driver.plan(product["id"])
    await catalog_driver.addon(product["id"], agreement=custom(document["id"]))
    meta, content = f"/v1/documents/{document['id']}", document["content_url"]
    stranger = keys.headers("customer", "carol")

    for url in (meta, content):
        assert_problem(await catalog_driver.client.get(url), 404, "document_not_found")
    frozen = await catalog_driver.freeze(product["id"])
    assert frozen.status_code == 200, frozen.text
    assert_problem(
        await catalog_driver.client.get(content, headers=stranger), 404, "document_not_found"
    )

    assert (await catalog_driver.publish(product["id"], 1)).status_code == 200

    public = await catalog_driver.client.get(meta)
    assert public.status_code == 200
    assert public.json()["public"] is True
    download = await catalog_driver.client.get(content, headers=stranger)
    assert download.status_code == 200
    assert download.content == TERMS


async def test_an_unused_document_stays_private_when_another_goes_public(
    catalog_driver: CatalogDriver,
) -> None:
    used = await upload(catalog_driver)
    unused = await upload(catalog_driver, b"Other terms.")
    product = await catalog_driver.product(product_type="saas")
    await catalog_driver.plan(product["id"])
    await catalog_driver.addon(product["id"], agreement=custom(used["id"]))
    await catalog_driver.go_live(product["id"])

    assert (await catalog_driver.client.get(f"/v1/documents/{used['id']}")).status_code == 200
    assert_problem(
        await catalog_driver.client.get(f"/v1/documents/{unused['id']}"), 404, "document_not_found"
    )


async def test_an_unknown_document_is_404(catalog_driver: CatalogDriver) -> None:
    assert_problem(
        await catalog_driver.client.get("/v1/documents/doc_nothing", headers=catalog_driver.auth),
        404,
        "document_not_found",
    )


# -- agreement rules -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "product", [{"product_type": "saas"}, {"product_type": "service"}, {"billing_mode": "offline"}]
)
async def test_freeze_refuses_an_addon_without_an_uploaded_agreement(
    catalog_driver: CatalogDriver, product: dict[str, str]
) -> None:
    created, _, addon = await catalog_driver.listing(**product)

    body = assert_problem(await catalog_driver.freeze(created["id"]), 422, "draft_invalid")

    assert [(e["loc"], e["type"]) for e in body["errors"]] == [
        (["addons", addon["id"], "agreement"], "agreement_missing")
    ]


@pytest.mark.parametrize("kind", ["custom", "platform_template"])
async def test_freeze_accepts_an_uploaded_agreement(
    catalog_driver: CatalogDriver, kind: str
) -> None:
    document = await upload(catalog_driver)
    product = await catalog_driver.product(product_type="saas", billing_mode="offline")
    await catalog_driver.plan(product["id"])
    addon = await catalog_driver.addon(product["id"], agreement=custom(document["id"], kind))

    frozen = await catalog_driver.freeze(product["id"])

    assert frozen.status_code == 200, frozen.text
    assert frozen.json()["snapshot"]["addons"][0]["agreement"] == custom(document["id"], kind)
    assert addon["agreement"] == custom(document["id"], kind)


async def test_a_saas_product_may_not_claim_the_platform_standard_agreement(
    catalog_driver: CatalogDriver,
) -> None:
    product = await catalog_driver.product(product_type="saas")
    await catalog_driver.plan(product["id"])
    addon = await catalog_driver.addon(product["id"], agreement={"kind": "platform_standard"})

    body = assert_problem(await catalog_driver.freeze(product["id"]), 422, "draft_invalid")

    assert [(e["loc"], e["type"]) for e in body["errors"]] == [
        (["addons", addon["id"], "agreement"], "agreement_not_allowed")
    ]


async def test_a_marketplace_product_billed_online_may_upload_its_own(
    catalog_driver: CatalogDriver,
) -> None:
    document = await upload(catalog_driver)
    product = await catalog_driver.product()
    await catalog_driver.plan(product["id"])
    await catalog_driver.addon(product["id"], agreement=custom(document["id"]))

    frozen = await catalog_driver.freeze(product["id"])

    assert frozen.json()["snapshot"]["addons"][0]["agreement"] == custom(document["id"])


async def test_another_partners_document_is_refused_as_an_agreement(
    catalog_driver: CatalogDriver,
) -> None:
    globex = CatalogDriver(catalog_driver.client, catalog_driver.keys, "globex")
    theirs = await upload(globex)
    product = await catalog_driver.product(product_type="saas")
    await catalog_driver.plan(product["id"])
    base = f"/v1/products/{product['id']}/draft/addons"

    added = await catalog_driver.client.post(
        base,
        json={
            "name": "+100 devices",
            "subscription_method": "one_time",
            "price": {"amount_minor": 100, "currency": "EUR"},
            "entitlements": {"devices": 100},
            "agreement": custom(theirs["id"]),
        },
        headers=catalog_driver.auth,
    )
    assert_problem(added, 422, "unknown_document")

    mine = await catalog_driver.addon(product["id"])
    patched = await catalog_driver.client.patch(
        f"{base}/{mine['id']}",
        json={"agreement": custom(theirs["id"])},
        headers=catalog_driver.auth,
    )
    assert_problem(patched, 422, "unknown_document")


async def test_clearing_the_agreement_returns_to_the_platform_default(
    catalog_driver: CatalogDriver,
) -> None:
    document = await upload(catalog_driver)
    product, _, addon = await catalog_driver.listing()
    url = f"/v1/products/{product['id']}/draft/addons/{addon['id']}"
    await catalog_driver.client.patch(
        url, json={"agreement": custom(document["id"])}, headers=catalog_driver.auth
    )

    cleared = await catalog_driver.client.patch(
        url, json={"agreement": None}, headers=catalog_driver.auth
    )

    assert cleared.json()["agreement"] is None
    frozen = await catalog_driver.freeze(product["id"])
    assert frozen.json()["snapshot"]["addons"][0]["agreement"]["kind"] == "platform_standard"


async def test_the_live_product_shows_the_agreement(
    catalog_driver: CatalogDriver, catalog: httpx.AsyncClient
) -> None:
    document = await upload(catalog_driver)
    product = await catalog_driver.product(product_type="service")
    await catalog_driver.plan(product["id"])
    await catalog_driver.addon(product["id"], agreement=custom(document["id"]))
    await catalog_driver.go_live(product["id"])

    live = (await catalog.get(f"/v1/products/{product['id']}")).json()

    assert live["addons"][0]["agreement"] == custom(document["id"])
