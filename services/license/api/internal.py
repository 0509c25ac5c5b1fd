"""Internal routes that orders calls with its service token, and no one else.

Mint, accept and revoke an order's license; renew a license and change a base license's plan
for a paid renewal or change order; read an instance's licenses and entitlement (the
instance view and the dry run of an add-on order). The public instance routes admit the
instance's customer and partner only: a service token is accepted here and nowhere else.
"""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Response, status

from services.license.api.deps import FromOrders, Licenses, Reads
from services.license.api.schemas import entitlement_view, license_page, license_view
from services.license.client import (
    AcceptRequest,
    EntitlementView,
    LicenseView,
    MintRequest,
    PlanChangeRequest,
    RenewalRequest,
    RevokeRequest,
)
from services.license.errors import (
    AcceptanceDeadlinePassedError,
    AcceptancePendingError,
    BaseLicenseExistsError,
    BaseLicenseMissingError,
    BaseLicenseRevokedError,
    InstanceMismatchError,
    InstanceNotFoundError,
    LicenseNotFoundError,
    LicenseNotRenewableError,
    LicenseRevokedError,
    NotABaseLicenseError,
    NotRenewableError,
    OrderLicenseConflictError,
    TermMismatchError,
)
from shared.pagination import Page, PageRequest, page_request
from shared.problems import InvalidCursorError, ValidationProblem, problem_responses
from shared.security import AUTH_ERRORS
from shared.text import ID_PATTERN

router = APIRouter(prefix="/v1/internal", tags=["internal"])

OrderId = Annotated[str, Path(pattern=ID_PATTERN, examples=["ord_2m4kq7x9c3v5b8n1z6l0p4w2"])]
LicenseId = Annotated[str, Path(pattern=ID_PATTERN, examples=["lic_q2w3e4r5t6y7u8i9o0p1a2s3"])]
InstanceId = Annotated[str, Path(pattern=ID_PATTERN, examples=["ins_7h2k9d4f1s6g3j8l5q0w2e4r"])]


@router.post(
    "/licenses",
    status_code=status.HTTP_201_CREATED,
    summary="Mint the license of a paid order",
    description="Idempotent per `order_id`: the first call mints (201), a repeated call "
    "returns the same license (200). A base license starts the instance; an add-on license "
    "names the instance's base license as its `parent` and leaves it untouched. With "
    "`requires_acceptance` the license starts in `acceptance` mode, its deadline "
    "`acceptance_days` after `valid_from`.",
    operation_id="mintLicense",
    responses={
        200: {"model": LicenseView, "description": "The order's license, minted before."},
        **problem_responses(
            *AUTH_ERRORS,
            ValidationProblem,
            BaseLicenseMissingError,
            BaseLicenseRevokedError,
            BaseLicenseExistsError,
            InstanceMismatchError,
            OrderLicenseConflictError,
        ),
    },
)
async def mint_license(
    body: MintRequest, service: FromOrders, licenses: Licenses, response: Response
) -> LicenseView:
    state, minted = await licenses.mint(body, service.sub)
    if not minted:
        response.status_code = status.HTTP_200_OK
    return license_view(state)


@router.post(
    "/orders/{order_id}/license/accept",
    summary="Accept the order's license: it moves to its paid mode",
    description="A new version in `subscription` mode (with a term end) or `permanent` mode. "
    "Idempotent: accepting an accepted license answers as the first time.",
    operation_id="acceptOrderLicense",
    responses=problem_responses(
        *AUTH_ERRORS,
        ValidationProblem,
        LicenseNotFoundError,
        LicenseRevokedError,
        AcceptanceDeadlinePassedError,
    ),
)
async def accept_order_license(
    order_id: OrderId,
    service: FromOrders,
    licenses: Licenses,
    body: Annotated[
        AcceptRequest | None,
        Body(
            openapi_examples={
                "now": {"summary": "Accepted now", "value": {}},
                "earlier": {
                    "summary": "Accepted before the deadline, delivered later",
                    "value": {"accepted_at": "2026-12-01T09:30:00Z"},
                },
            }
        ),
    ] = None,
) -> LicenseView:
    accepted_at = body.accepted_at if body else None
    return license_view(await licenses.accept(order_id, accepted_at, service.sub))


@router.post(
    "/orders/{order_id}/license/revoke",
    summary="Revoke the order's license at once (refund)",
    description="Idempotent. Not cascading: revoke each add-on license of a refunded instance "
    "too (an add-on counts only under a base license in effect, so the instance's entitlement "
    "is empty as soon as its base is revoked).",
    operation_id="revokeOrderLicense",
    responses=problem_responses(*AUTH_ERRORS, ValidationProblem, LicenseNotFoundError),
)
async def revoke_order_license(
    order_id: OrderId, body: RevokeRequest, service: FromOrders, licenses: Licenses
) -> LicenseView:
    return license_view(await licenses.revoke(order_id, body.reason, service.sub))


@router.post(
    "/licenses/{license_id}/renewals",
    status_code=status.HTTP_201_CREATED,
    summary="Renew a license for a paid renewal order",
    description="A new version of the same license (base or add-on) whose term ends at "
    "`valid_until` instead of `term_end`, valid at once: older tokens verify as `SUPERSEDED`, "
    "and an expired license is active again if `valid_until` is ahead. `term_end` must be "
    "the license's current `valid_until` (else 409 `term_mismatch`: another order renewed "
    "that term first). Idempotent per `order_id`: the first call renews (201), a repeated "
    "call answers the license as it stands (200), the same order with other terms is 409 "
    "`order_license_conflict`. Refused for a permanent license (422 `not_renewable`), a "
    "revoked one (409 `license_not_renewable`) and one awaiting acceptance (409 "
    "`acceptance_pending`).",
    operation_id="renewLicense",
    responses={
        200: {"model": LicenseView, "description": "Renewed before by this order."},
        **problem_responses(
            *AUTH_ERRORS,
            ValidationProblem,
            NotRenewableError,
            LicenseNotFoundError,
            LicenseNotRenewableError,
            AcceptancePendingError,
            TermMismatchError,
            OrderLicenseConflictError,
        ),
    },
)
async def renew_license(
    license_id: LicenseId,
    body: RenewalRequest,
    service: FromOrders,
    licenses: Licenses,
    response: Response,
) -> LicenseView:
    state, renewed = await licenses.renew(license_id, body, service.sub)
    if not renewed:
        response.status_code = status.HTTP_200_OK
    return license_view(state)


@router.post(
    "/licenses/{license_id}/plan-changes",
    status_code=status.HTTP_201_CREATED,
    summary="Move a base license to another plan for a paid change order",
    description="A new version of the base license with the target `plan_id` and its "
    "`entitlements`, for the same term, valid at once: older tokens verify as `SUPERSEDED`, "
    "the instance takes the plan and its entitlement changes at once; add-on licenses are "
    "untouched. Idempotent per `order_id` (201 first, 200 on a repeat, 409 "
    "`order_license_conflict` for the same order with other terms). Refused for an add-on "
    "license (422 `not_a_base_license`), a revoked one (409 `license_revoked`) and one "
    "awaiting acceptance (409 `acceptance_pending`).",
    operation_id="changeLicensePlan",
    responses={
        200: {"model": LicenseView, "description": "Changed before by this order."},
        **problem_responses(
            *AUTH_ERRORS,
            ValidationProblem,
            NotABaseLicenseError,
            LicenseNotFoundError,
            LicenseRevokedError,
            AcceptancePendingError,
            OrderLicenseConflictError,
        ),
    },
)
async def change_license_plan(
    license_id: LicenseId,
    body: PlanChangeRequest,
    service: FromOrders,
    licenses: Licenses,
    response: Response,
) -> LicenseView:
    state, changed = await licenses.change_plan(license_id, body, service.sub)
    if not changed:
        response.status_code = status.HTTP_200_OK
    return license_view(state)


@router.get(
    "/instances/{instance_id}/licenses",
    summary="List an instance's licenses, the base first (for orders)",
    description="As `GET /v1/instances/{instance_id}/licenses`, for the orders service.",
    operation_id="listInstanceLicensesInternal",
    responses=problem_responses(
        *AUTH_ERRORS, InstanceNotFoundError, ValidationProblem, InvalidCursorError
    ),
)
async def list_instance_licenses(
    instance_id: InstanceId,
    service: FromOrders,
    licenses: Licenses,
    page: Annotated[PageRequest, Depends(page_request)],
) -> Page[LicenseView]:
    states = await licenses.list_for_instance(service, instance_id, page)
    return license_page(states, page)


@router.get(
    "/instances/{instance_id}/entitlement",
    summary="Read an instance's entitlement and its signed bundle (for orders)",
    description="As `GET /v1/instances/{instance_id}/entitlement`, for the orders service.",
    operation_id="getEntitlementInternal",
    responses=problem_responses(*AUTH_ERRORS, InstanceNotFoundError),
)
async def get_entitlement(
    instance_id: InstanceId, service: FromOrders, reads: Reads
) -> EntitlementView:
    return entitlement_view(await reads.entitlement(service, instance_id))
