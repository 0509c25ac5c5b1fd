"""Routes for one license: read it with its token, extend its acceptance deadline."""

from typing import Annotated

from fastapi import APIRouter, Path, status

from services.license.api.deps import Licenses, Reader
from services.license.api.schemas import ExtensionRequest, LicenseView, license_view
from services.license.errors import (
    ExtensionNotLaterError,
    ExtensionTooLongError,
    LicenseExpiredError,
    LicenseNotFoundError,
    LicenseRevokedError,
    NotInAcceptanceError,
)
from shared.problems import ValidationProblem, problem_responses
from shared.security import AUTH_ERRORS, Partner
from shared.text import ID_PATTERN

router = APIRouter(prefix="/v1/licenses", tags=["licenses"])

LicenseId = Annotated[str, Path(pattern=ID_PATTERN, examples=["lic_q2w3e4r5t6y7u8i9o0p1a2s3"])]


@router.get(
    "/{license_id}",
    summary="Read a license with its current token and its versions",
    description="For the owner customer, the owning partner and services; 404 for anyone else.",
    operation_id="getLicense",
    responses=problem_responses(*AUTH_ERRORS, LicenseNotFoundError),
)
async def get_license(license_id: LicenseId, reader: Reader, licenses: Licenses) -> LicenseView:
    return license_view(await licenses.get(reader, license_id))


@router.post(
    "/{license_id}/acceptance-extensions",
    status_code=status.HTTP_201_CREATED,
    summary="Extend the acceptance deadline of a license",
    description="The owning partner moves the deadline later (at most 90 days past the "
    "original one) while the license awaits acceptance; the reason is recorded in the "
    "license's history. The new version, and its token, are valid at once.",
    operation_id="extendAcceptance",
    responses=problem_responses(
        *AUTH_ERRORS,
        ValidationProblem,
        LicenseNotFoundError,
        LicenseRevokedError,
        LicenseExpiredError,
        NotInAcceptanceError,
        ExtensionNotLaterError,
        ExtensionTooLongError,
    ),
)
async def extend_acceptance(
    license_id: LicenseId, body: ExtensionRequest, partner: Partner, licenses: Licenses
) -> LicenseView:
    state = await licenses.extend_acceptance(partner, license_id, body.until, body.reason)
    return license_view(state)
