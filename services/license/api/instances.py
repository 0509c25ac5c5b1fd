"""Routes for an instance: its licenses, its entitlement (one signed bundle), its usage."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from services.license.api.deps import Licenses, Reader, Reads
from services.license.api.schemas import (
    EntitlementView,
    LicenseView,
    MetricUsageView,
    UsageListView,
    UsageReportRequest,
    UsageView,
    entitlement_view,
    license_page,
)
from services.license.errors import InstanceNotFoundError
from shared.pagination import Page, PageRequest, page_request
from shared.problems import InvalidCursorError, ValidationProblem, problem_responses
from shared.security import AUTH_ERRORS, Partner
from shared.text import ID_PATTERN

router = APIRouter(prefix="/v1/instances", tags=["instances"])

InstanceId = Annotated[str, Path(pattern=ID_PATTERN, examples=["ins_7h2k9d4f1s6g3j8l5q0w2e4r"])]

READ_ERRORS = (*AUTH_ERRORS, InstanceNotFoundError)


@router.get(
    "/{instance_id}/licenses",
    summary="List an instance's licenses, the base first",
    description="Every license with its current token, whatever its status.",
    operation_id="listInstanceLicenses",
    responses=problem_responses(*READ_ERRORS, ValidationProblem, InvalidCursorError),
)
async def list_instance_licenses(
    instance_id: InstanceId,
    reader: Reader,
    licenses: Licenses,
    page: Annotated[PageRequest, Depends(page_request)],
) -> Page[LicenseView]:
    states = await licenses.list_for_instance(reader, instance_id, page)
    return license_page(states, page)


@router.get(
    "/{instance_id}/entitlement",
    summary="Read an instance's entitlement and its signed bundle",
    description="The base plan's quota plus the increments of the valid add-on licenses, and "
    "one token (`license-bundle+jwt`) holding every license counted: what an installed "
    "application fetches. The bundle expires with the first of its licenses.",
    operation_id="getEntitlement",
    responses=problem_responses(*READ_ERRORS),
)
async def get_entitlement(instance_id: InstanceId, reader: Reader, reads: Reads) -> EntitlementView:
    return entitlement_view(await reads.entitlement(reader, instance_id))


@router.post(
    "/{instance_id}/usage",
    summary="Report a metric's current total and compare it with the entitlement",
    description="`value` is the total in use now (devices connected, hours used this term). "
    "`suggestions` are the product's live add-ons, compatible with the instance's plan, that "
    "raise the metric. If the catalog can't be reached the report still succeeds, with no "
    "suggestions and `suggestions_available: false`.",
    operation_id="reportUsage",
    responses=problem_responses(*READ_ERRORS, ValidationProblem),
)
async def report_usage(
    instance_id: InstanceId, body: UsageReportRequest, reporter: Partner, licenses: Licenses
) -> UsageView:
    report = await licenses.report_usage(reporter, instance_id, body.metric, body.value)
    return UsageView.of(report)


@router.get(
    "/{instance_id}/usage",
    summary="List the latest reported value of every metric",
    description="For each metric reported so far: the last value, the instance's current "
    "limit (its entitlement), what remains and whether it is exceeded. No suggestions here; "
    "`POST` a report to get them.",
    operation_id="listUsage",
    responses=problem_responses(*READ_ERRORS),
)
async def list_usage(instance_id: InstanceId, reader: Reader, licenses: Licenses) -> UsageListView:
    usage = await licenses.list_usage(reader, instance_id)
    items = [MetricUsageView.of(row, metric) for row, metric in usage]
    return UsageListView(instance_id=instance_id, items=items)
