"""Who may call what: tokens, roles and ownership, route by route."""

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.catalog.factories import CatalogDriver, addon_body, plan_body, product_body
from tests.conftest import TestKeys
from tests.problems import assert_problem

OTHER_PARTNER = "globex"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    body: dict[str, Any] | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class World:
    """acme's product with a plan, an add-on, a discarded revision 1 and a document."""

    product: str
    plan: str
    addon: str
    document: str

    def url(self, route: Route) -> str:
        return route.path.format(
            product=self.product, plan=self.plan, addon=self.addon, document=self.document
        )


PRODUCT_ROUTES = [
    Route("GET", "/v1/products/{product}/draft"),
    Route("PATCH", "/v1/products/{product}/draft", {"name": "Hijacked"}),
    Route("POST", "/v1/products/{product}/draft/plans", plan_body(name="Hijacked")),
    Route("PATCH", "/v1/products/{product}/draft/plans/{plan}", {"retired": True}),
    Route("DELETE", "/v1/products/{product}/draft/plans/{plan}"),
    Route("POST", "/v1/products/{product}/draft/addons", addon_body(name="Hijacked")),
    Route("PATCH", "/v1/products/{product}/draft/addons/{addon}", {"max_per_instance": 1}),
    Route("DELETE", "/v1/products/{product}/draft/addons/{addon}"),
    Route("GET", "/v1/products/{product}/revisions"),
    Route("GET", "/v1/products/{product}/revisions/1"),
]
PARTNER_ROUTES = [Route("POST", "/v1/products", product_body()), *PRODUCT_ROUTES]
INTERNAL_ROUTES = [
    Route(
        "POST",
        "/v1/internal/products/{product}/freeze",
        {"partner_id": "acme", "submission_id": "sub_2"},
    ),
    Route("POST", "/v1/internal/products/{product}/revisions/1/publish"),
    Route("POST", "/v1/internal/products/{product}/unlock", {"submission_id": "sub_1"}),
]


@pytest.fixture
async def world(catalog_driver: CatalogDriver, catalog: httpx.AsyncClient) -> World:
    product, plan, addon = await catalog_driver.listing()
    frozen = await catalog_driver.freeze(product["id"], "sub_1")
    assert frozen.status_code == 200, frozen.text
    assert (await catalog_driver.unlock(product["id"], "sub_1")).status_code == 200
    upload = await catalog.post(
        "/v1/documents",
        files={"file": ("terms.txt", b"Support terms.", "text/plain")},
        headers=catalog_driver.auth,
    )
    assert upload.status_code == 201, upload.text
    return World(product["id"], plan["id"], addon["id"], upload.json()["id"])


async def call(
    client: httpx.AsyncClient, world: World, route: Route, headers: dict[str, str]
) -> httpx.Response:
    return await client.request(route.method, world.url(route), json=route.body, headers=headers)


@pytest.mark.parametrize("route", PARTNER_ROUTES + INTERNAL_ROUTES, ids=str)
async def test_no_token_is_401_unauthenticated(
    catalog: httpx.AsyncClient, world: World, route: Route
) -> None:
    response = await call(catalog, world, route, {})

    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("route", PARTNER_ROUTES + INTERNAL_ROUTES, ids=str)
async def test_a_garbage_token_is_401_invalid_token(
    catalog: httpx.AsyncClient, world: World, route: Route
) -> None:
    response = await call(catalog, world, route, {"Authorization": "Bearer not.a.token"})

    assert_problem(response, 401, "invalid_token")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


@pytest.mark.parametrize(
    "authorization", ["Basic YWNtZTpzZWNyZXQ=", "Bearer", "Bearer ", "acme", ""]
)
async def test_other_authorization_schemes_are_401(
    catalog: httpx.AsyncClient, authorization: str
) -> None:
    response = await catalog.post(
        "/v1/products", json=product_body(), headers={"Authorization": authorization}
    )

    assert response.status_code == 401
    assert response.json()["code"] in {"unauthenticated", "invalid_token"}


def headers_as(keys: TestKeys, role: str) -> dict[str, str]:
    """A token of `role` with the sub "acme" (the partner's id); for a service, review's."""
    return keys.headers(role, "review" if role == "service" else "acme")


@pytest.mark.parametrize("route", PARTNER_ROUTES, ids=str)
async def test_partner_routes_refuse_other_roles(
    catalog: httpx.AsyncClient, keys: TestKeys, world: World, route: Route
) -> None:
    for role in ("customer", "reviewer", "service"):
        response = await call(catalog, world, route, headers_as(keys, role))

        assert_problem(response, 403, "forbidden")


@pytest.mark.parametrize("route", INTERNAL_ROUTES, ids=str)
async def test_internal_routes_need_a_service_token(
    catalog: httpx.AsyncClient, keys: TestKeys, world: World, route: Route
) -> None:
    for role in ("partner", "customer", "reviewer"):
        response = await call(catalog, world, route, keys.headers(role, "acme"))

        assert_problem(response, 403, "forbidden")
    draft = (
        await catalog.get(
            f"/v1/products/{world.product}/draft", headers=keys.headers("partner", "acme")
        )
    ).json()
    assert (draft["locked"], draft["live_revision"], draft["last_revision"]) == (False, None, 1)


@pytest.mark.parametrize("route", PRODUCT_ROUTES, ids=str)
async def test_another_partners_product_is_404(
    catalog: httpx.AsyncClient,
    keys: TestKeys,
    catalog_driver: CatalogDriver,
    world: World,
    route: Route,
) -> None:
    before = await catalog.get(f"/v1/products/{world.product}/draft", headers=catalog_driver.auth)

    response = await call(catalog, world, route, keys.headers("partner", OTHER_PARTNER))

    assert_problem(response, 404, "product_not_found")
    after = await catalog.get(f"/v1/products/{world.product}/draft", headers=catalog_driver.auth)
    assert after.json() == before.json()


async def test_an_unknown_product_is_404_like_anothers(
    catalog: httpx.AsyncClient, catalog_driver: CatalogDriver
) -> None:
    response = await catalog.get("/v1/products/prd_doesnotexist/draft", headers=catalog_driver.auth)

    assert_problem(response, 404, "product_not_found")


async def test_another_partners_draft_can_not_be_frozen_in_their_name(
    catalog: httpx.AsyncClient, catalog_driver: CatalogDriver, world: World
) -> None:
    globex = CatalogDriver(catalog, catalog_driver.keys, OTHER_PARTNER)

    assert_problem(await globex.freeze(world.product, "sub_9"), 404, "product_not_found")
    draft = (
        await catalog.get(f"/v1/products/{world.product}/draft", headers=catalog_driver.auth)
    ).json()
    assert draft["locked"] is False


@pytest.mark.parametrize("suffix", ["", "/content"])
async def test_another_partners_private_document_is_404(
    catalog: httpx.AsyncClient,
    keys: TestKeys,
    catalog_driver: CatalogDriver,
    world: World,
    suffix: str,
) -> None:
    url = f"/v1/documents/{world.document}{suffix}"

    assert (await catalog.get(url, headers=catalog_driver.auth)).status_code == 200
    assert_problem(
        await catalog.get(url, headers=keys.headers("partner", OTHER_PARTNER)),
        404,
        "document_not_found",
    )
    assert_problem(await catalog.get(url), 404, "document_not_found")
    assert_problem(
        await catalog.get(url, headers={"Authorization": "Bearer junk"}), 404, "document_not_found"
    )


@pytest.mark.parametrize("role", ["customer", "reviewer", "service"])
async def test_a_private_document_is_only_its_partners_not_any_role_with_that_id(
    catalog: httpx.AsyncClient, keys: TestKeys, world: World, role: str
) -> None:
    # Ownership is the partner principal (role and sub), not whoever shares the id "acme".
    for suffix in ("", "/content"):
        response = await catalog.get(
            f"/v1/documents/{world.document}{suffix}", headers=headers_as(keys, role)
        )

        assert_problem(response, 404, "document_not_found")


async def test_only_partners_upload_documents(catalog: httpx.AsyncClient, keys: TestKeys) -> None:
    for role in ("customer", "reviewer", "service"):
        response = await catalog.post(
            "/v1/documents",
            files={"file": ("terms.txt", b"Support terms.", "text/plain")},
            headers=headers_as(keys, role),
        )

        assert_problem(response, 403, "forbidden")


async def test_uploading_without_a_token_is_401(catalog: httpx.AsyncClient) -> None:
    response = await catalog.post(
        "/v1/documents", files={"file": ("terms.txt", b"Support terms.", "text/plain")}
    )

    assert_problem(response, 401, "unauthenticated")


async def test_the_public_routes_need_no_token(
    catalog: httpx.AsyncClient, catalog_driver: CatalogDriver
) -> None:
    product, _, _ = await catalog_driver.listing()
    await catalog_driver.go_live(product["id"])

    assert (await catalog.get("/v1/products")).status_code == 200
    assert (await catalog.get(f"/v1/products/{product['id']}")).status_code == 200
    assert (await catalog.get("/healthz")).status_code == 200


async def test_ownership_comes_from_the_token_not_the_body(
    catalog: httpx.AsyncClient, catalog_driver: CatalogDriver
) -> None:
    response = await catalog.post(
        "/v1/products", json=product_body(partner_id=OTHER_PARTNER), headers=catalog_driver.auth
    )

    assert_problem(response, 422, "validation_error")
