"""Routes for products, their drafts, plans, add-ons and revisions."""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Response, status

from services.catalog.api import examples
from services.catalog.api.deps import Catalog, LiveReads
from services.catalog.api.schemas import (
    AddonPatch,
    ConfigurationPatch,
    DraftPatch,
    LiveProductView,
    ProductCreate,
    ProductSummaryView,
    ProductView,
    RevisionSummaryView,
    RevisionView,
)
from services.catalog.domain.model import Addon, AddonSpec, Configuration, Plan
from services.catalog.errors import (
    AddonNotFoundError,
    DraftLockedError,
    InvalidConfigurationError,
    LiveAddonNotDeletableError,
    LivePlanNotDeletableError,
    PlanInUseError,
    PlanNotFoundError,
    ProductNotFoundError,
    ProductTypeImmutableError,
    RevisionNotFoundError,
    UnknownDocumentError,
    UnknownPlanError,
)
from shared.pagination import Page, PageRequest, build_page, page_request
from shared.problems import InvalidCursorError, ValidationProblem, problem_responses
from shared.security import AUTH_ERRORS, Partner

router = APIRouter(prefix="/v1/products")

ProductId = Annotated[str, Path(max_length=64, examples=["prd_x3nq4c5o2b7lzj6v8d1ke9fa"])]
PlanId = Annotated[str, Path(max_length=64)]
AddonId = Annotated[str, Path(max_length=64)]

OWNER_ERRORS = (*AUTH_ERRORS, ProductNotFoundError)
EDIT_ERRORS = (*OWNER_ERRORS, DraftLockedError, ValidationProblem, InvalidConfigurationError)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    tags=["products"],
    summary="Create a product with an empty draft",
    description="The product type is fixed for ever; everything else is edited in the draft "
    "until a submission is approved.",
    operation_id="createProduct",
    responses=problem_responses(*AUTH_ERRORS, ValidationProblem),
)
async def create_product(body: ProductCreate, partner: Partner, catalog: Catalog) -> ProductView:
    state = await catalog.create_product(partner, body.product_type, body.details())
    return ProductView.of(state)


@router.get(
    "",
    tags=["products"],
    summary="List live products",
    description="Public. Only products with a live revision; `q` matches name, category and "
    "description, case-insensitively.",
    operation_id="listProducts",
    responses=problem_responses(ValidationProblem, InvalidCursorError),
)
async def list_products(
    catalog: Catalog,
    page: Annotated[PageRequest, Depends(page_request)],
    category: Annotated[str | None, Query(max_length=40)] = None,
    partner_id: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Page[ProductSummaryView]:
    rows = await catalog.search_live(page, category=category, partner_id=partner_id, query=q)
    items, cursor = build_page(rows, page, lambda r: (r.listed_at, r.product_id))
    return Page(items=[ProductSummaryView.of(r) for r in items], next_cursor=cursor)


@router.get(
    "/{product_id}",
    tags=["products"],
    summary="Read a live product",
    description="Public. The live revision with its plans, add-ons and agreements; 404 while "
    "nothing is live.",
    operation_id="getProduct",
    response_model=LiveProductView,
    responses=problem_responses(ProductNotFoundError),
)
async def get_product(product_id: ProductId, reads: LiveReads) -> Response:
    # Rendered once per live revision (LiveProductReads), not validated again on every read.
    return Response(await reads.get(product_id), media_type="application/json")


@router.get(
    "/{product_id}/draft",
    tags=["drafts"],
    summary="Read the draft of an own product",
    description="Owner only: another partner's product is 404, as if it didn't exist. The "
    "draft with its plans and add-ons as they will be submitted; `locked` while a submission "
    "is open, `live_revision` the revision customers see (null until one is approved).",
    operation_id="getDraft",
    responses=problem_responses(*OWNER_ERRORS),
)
async def get_draft(product_id: ProductId, partner: Partner, catalog: Catalog) -> ProductView:
    return ProductView.of(await catalog.get_draft(partner, product_id))


@router.patch(
    "/{product_id}/draft",
    tags=["drafts"],
    summary="Change product-level fields of the draft",
    description="`product_type` can't change. While a submission is open the draft is locked "
    "(409 `draft_locked`).",
    operation_id="patchDraft",
    responses=problem_responses(*EDIT_ERRORS, ProductTypeImmutableError),
)
async def patch_draft(
    product_id: ProductId, body: DraftPatch, partner: Partner, catalog: Catalog
) -> ProductView:
    changes = body.model_dump(exclude_unset=True, mode="json")
    return ProductView.of(await catalog.patch_details(partner, product_id, changes))


@router.post(
    "/{product_id}/draft/plans",
    status_code=status.HTTP_201_CREATED,
    tags=["plans"],
    summary="Add a plan (base specification) to the draft",
    description="A `subscription` plan has `cycles` (each `{unit, count, price}`); a "
    "`one_time` plan has a single `price`. Entitlements are the base quota. `changes_to` "
    "lists the product's plans an instance on this plan may change to (default `[]`: none); "
    "the submission checks that each is another plan of the product, listed once.",
    operation_id="addPlan",
    responses={
        201: {"content": {"application/json": {"example": examples.PLAN}}},
        **problem_responses(*EDIT_ERRORS),
    },
)
async def add_plan(
    product_id: ProductId,
    body: Annotated[Configuration, Body(openapi_examples=examples.PLAN_REQUESTS)],
    partner: Partner,
    catalog: Catalog,
) -> Plan:
    return await catalog.add_plan(partner, product_id, body)


@router.patch(
    "/{product_id}/draft/plans/{plan_id}",
    tags=["plans"],
    summary="Change a plan of the draft (reprice, retire…)",
    description="Absent fields stay as they are; `null` clears `cycles` or `price`. The result "
    "must still be a valid plan (422 `invalid_configuration`). A retired plan stays for the "
    "customers who own it but is no longer sold. `changes_to` replaces the plans an instance "
    "may change to; it is policy, so a live plan's list may change in a later revision. "
    "Deleting a plan another plan lists is allowed: the submission then reports the name "
    "(`unknown_plan`).",
    operation_id="patchPlan",
    responses={
        200: {"content": {"application/json": {"example": examples.PLAN}}},
        **problem_responses(*EDIT_ERRORS, PlanNotFoundError),
    },
)
async def patch_plan(
    product_id: ProductId,
    plan_id: PlanId,
    body: ConfigurationPatch,
    partner: Partner,
    catalog: Catalog,
) -> Plan:
    changes = body.model_dump(exclude_unset=True, mode="json")
    return await catalog.update_plan(partner, product_id, plan_id, changes)


@router.delete(
    "/{product_id}/draft/plans/{plan_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["plans"],
    summary="Delete a plan from the draft",
    description="A live plan can't be deleted (customers may own it): retire it instead.",
    operation_id="deletePlan",
    responses=problem_responses(
        *EDIT_ERRORS, PlanNotFoundError, LivePlanNotDeletableError, PlanInUseError
    ),
)
async def delete_plan(
    product_id: ProductId, plan_id: PlanId, partner: Partner, catalog: Catalog
) -> Response:
    await catalog.delete_plan(partner, product_id, plan_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{product_id}/draft/addons",
    status_code=status.HTTP_201_CREATED,
    tags=["addons"],
    summary="Add an add-on (expansion pack) to the draft",
    description="Entitlements are increments per pack. `compatible_plans` empty means every "
    "plan. `agreement` null means the platform standard agreement, which only marketplace "
    "products billed online may use; others upload a document first (`POST /v1/documents`).",
    operation_id="addAddon",
    responses={
        201: {"content": {"application/json": {"example": examples.ADDON}}},
        **problem_responses(*EDIT_ERRORS, UnknownPlanError, UnknownDocumentError),
    },
)
async def add_addon(
    product_id: ProductId,
    body: Annotated[AddonSpec, Body(openapi_examples=examples.ADDON_REQUESTS)],
    partner: Partner,
    catalog: Catalog,
) -> Addon:
    return await catalog.add_addon(partner, product_id, body)


@router.patch(
    "/{product_id}/draft/addons/{addon_id}",
    tags=["addons"],
    summary="Change an add-on of the draft",
    description="Absent fields stay as they are; `agreement: null` returns to the platform's "
    "standard agreement. `compatible_plans` must name plans of the draft (422 "
    "`unknown_plan`), a custom agreement an uploaded document (422 `unknown_document`).",
    operation_id="patchAddon",
    responses={
        200: {"content": {"application/json": {"example": examples.ADDON}}},
        **problem_responses(
            *EDIT_ERRORS, AddonNotFoundError, UnknownPlanError, UnknownDocumentError
        ),
    },
)
async def patch_addon(
    product_id: ProductId,
    addon_id: AddonId,
    body: AddonPatch,
    partner: Partner,
    catalog: Catalog,
) -> Addon:
    changes = body.model_dump(exclude_unset=True, mode="json")
    return await catalog.update_addon(partner, product_id, addon_id, changes)


@router.delete(
    "/{product_id}/draft/addons/{addon_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["addons"],
    summary="Delete an add-on from the draft",
    description="A live add-on can't be deleted (customers may own it): retire it instead.",
    operation_id="deleteAddon",
    responses=problem_responses(*EDIT_ERRORS, AddonNotFoundError, LiveAddonNotDeletableError),
)
async def delete_addon(
    product_id: ProductId, addon_id: AddonId, partner: Partner, catalog: Catalog
) -> Response:
    await catalog.delete_addon(partner, product_id, addon_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{product_id}/revisions",
    tags=["revisions"],
    summary="List the revisions of an own product, newest first",
    description="One revision per submission: the draft frozen when it was submitted. "
    "`state` is `submitted` (under review), `published` or `discarded` (rejected or "
    "withdrawn); `live` marks the one customers see.",
    operation_id="listRevisions",
    responses={
        200: {"content": {"application/json": {"example": [examples.REVISION_SUMMARY]}}},
        **problem_responses(*OWNER_ERRORS),
    },
)
async def list_revisions(
    product_id: ProductId, partner: Partner, catalog: Catalog
) -> list[RevisionSummaryView]:
    live_revision, rows = await catalog.list_revisions(partner, product_id)
    return [RevisionSummaryView.of(r, live_revision) for r in rows]


@router.get(
    "/{product_id}/revisions/{number}",
    tags=["revisions"],
    summary="Read one revision of an own product, with its snapshot and changes",
    description="`snapshot` is the product exactly as submitted; `changes` lists what it "
    "changed against the revision that was live when it was frozen (the whole listing for a "
    "first revision).",
    operation_id="getRevision",
    responses=problem_responses(*OWNER_ERRORS, RevisionNotFoundError),
)
async def get_revision(
    product_id: ProductId,
    number: Annotated[int, Path(ge=1, le=1_000_000)],
    partner: Partner,
    catalog: Catalog,
) -> RevisionView:
    live_revision, row = await catalog.get_revision(partner, product_id, number)
    return RevisionView.full(row, live_revision)
