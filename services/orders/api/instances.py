"""Routes for application instances: list and read, with licenses and entitlement."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from services.orders.api.deps import Orders, Reader
from services.orders.api.schemas import InstanceView
from services.orders.errors import InstanceNotFoundError
from shared.pagination import Page, PageRequest, page_request
from shared.problems import InvalidCursorError, ValidationProblem, problem_responses
from shared.security import AUTH_ERRORS

router = APIRouter(prefix="/v1/instances", tags=["instances"])

InstanceId = Annotated[str, Path(max_length=64, examples=["ins_7h2k9d4f1s6g3j8l5q0w2e4r"])]

LICENSES_NOTE = (
    " Licenses and entitlement come from the license service; if it can't be reached the "
    "answer still comes, with `entitlement: null` and `licenses_available: false`."
)


@router.get(
    "",
    summary="List instances, newest first",
    description="A customer sees their own instances; a partner sees the instances of their "
    "products." + LICENSES_NOTE,
    operation_id="listInstances",
    responses=problem_responses(*AUTH_ERRORS, ValidationProblem, InvalidCursorError),
)
async def list_instances(
    reader: Reader, orders: Orders, page: Annotated[PageRequest, Depends(page_request)]
) -> Page[InstanceView]:
    states, cursor = await orders.search_instances(reader, page)
    return Page(items=[InstanceView.of(s) for s in states], next_cursor=cursor)


@router.get(
    "/{instance_id}",
    summary="Read an instance with its licenses and current entitlement",
    description="An instance exists once its `new` order is fulfilled." + LICENSES_NOTE,
    operation_id="getInstance",
    responses=problem_responses(*AUTH_ERRORS, InstanceNotFoundError),
)
async def get_instance(instance_id: InstanceId, reader: Reader, orders: Orders) -> InstanceView:
    return InstanceView.of(await orders.get_instance(reader, instance_id))
