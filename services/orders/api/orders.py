"""Routes for orders: place (or dry-run), list, read, pay, cancel, accept, refund."""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Response, status
from fastapi.responses import JSONResponse

from services.orders.api.deps import Idempotency, Orders, PayIdempotency, Reader
from services.orders.api.examples import CREATE_EXAMPLES, REFUND_EXAMPLES
from services.orders.api.schemas import (
    OrderCreate,
    OrderQuoteView,
    OrderView,
    RefundRequest,
)
from services.orders.domain.model import OrderStatus, OrderType
from services.orders.errors import (
    AcceptanceDeadlinePassedError,
    AcceptanceNotRequiredError,
    AddonIncompatibleError,
    AddonRetiredError,
    CycleNotApplicableError,
    CycleRequiredError,
    InstanceEndedError,
    InstanceNotFoundError,
    MaxPerInstanceExceededError,
    OrderNotAcceptableError,
    OrderNotCancellableError,
    OrderNotFoundError,
    OrderNotPayableError,
    OrderNotRefundableError,
    PaymentInProgressError,
    PaymentProviderUnavailableError,
    PlanRetiredError,
    QuantityNotAllowedError,
    RefundExceedsPaymentError,
    UnknownAddonError,
    UnknownCycleError,
    UnknownPlanError,
    UnknownProductError,
)
from shared.http import UpstreamUnavailableError
from shared.idempotency import (
    IdempotencyInProgressError,
    IdempotencyKey,
    IdempotencyKeyReusedError,
    idempotent_call,
    idempotent_response,
)
from shared.ids import new_id
from shared.pagination import Page, PageRequest, build_page, page_request
from shared.problems import InvalidCursorError, ValidationProblem, problem_responses
from shared.security import AUTH_ERRORS, Customer, Partner

router = APIRouter(prefix="/v1/orders", tags=["orders"])

OrderId = Annotated[str, Path(max_length=64, examples=["ord_2m4kq7x9c3v5b8n1z6l0p4w2"])]
PayIdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Retry-safe key: the same key answers with the first response.",
        openapi_examples={"retry": {"summary": "A key per attempt to pay", "value": "pay-7f3c1"}},
    ),
]

PURCHASE_ERRORS = (
    UnknownProductError,
    UnknownPlanError,
    UnknownAddonError,
    CycleRequiredError,
    CycleNotApplicableError,
    UnknownCycleError,
    QuantityNotAllowedError,
    InstanceNotFoundError,
    InstanceEndedError,
    PlanRetiredError,
    AddonRetiredError,
    AddonIncompatibleError,
    MaxPerInstanceExceededError,
)


def _pay_status(order: OrderView) -> int:
    done = order.status not in (OrderStatus.pending_payment, OrderStatus.paid)
    return status.HTTP_200_OK if done else status.HTTP_202_ACCEPTED


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Place an order (or price it with `dry_run=true`)",
    description="A `new` order buys a plan of a live product: one new application instance. "
    "An `addon` order buys packs of a live add-on for one of your active instances. The "
    "amount is computed here from the live revision; a price sent by the client is refused "
    "(422). With `dry_run=true` the answer is 200 with the price, the license that paying "
    "would mint and the instance's entitlement before and after; nothing is stored. Send an "
    "`Idempotency-Key` to retry safely: concurrent duplicates make one order.",
    operation_id="createOrder",
    response_model=OrderView,
    responses={
        200: {"model": OrderQuoteView, "description": "Dry run: the price and license impact."},
        **problem_responses(
            *AUTH_ERRORS,
            ValidationProblem,
            *PURCHASE_ERRORS,
            IdempotencyKeyReusedError,
            IdempotencyInProgressError,
            UpstreamUnavailableError,
        ),
    },
)
async def create_order(
    body: Annotated[OrderCreate, Body(openapi_examples=CREATE_EXAMPLES)],
    customer: Customer,
    orders: Orders,
    idempotency: Idempotency,
    dry_run: Annotated[
        bool, Query(description="Price the order and show its license impact; store nothing.")
    ] = False,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    request = body.request()
    if dry_run:
        quote = await orders.quote(customer, request)
        return JSONResponse(OrderQuoteView.of(quote).model_dump(mode="json"))

    return await idempotent_call(
        idempotency,
        caller=customer,
        key=idempotency_key,
        request=("POST", "/v1/orders", body.model_dump(mode="json")),
        new_resource_id=new_id("ord"),
        status_code=status.HTTP_201_CREATED,
        render=OrderView.of,
        work=lambda attempt: orders.place(customer, request, attempt),
    )


@router.get(
    "",
    summary="List orders, newest first",
    description="A customer sees their own orders; a partner sees the orders of their "
    "products. Filter by `status`, `type` or `instance_id`.",
    operation_id="listOrders",
    responses=problem_responses(*AUTH_ERRORS, ValidationProblem, InvalidCursorError),
)
async def list_orders(
    reader: Reader,
    orders: Orders,
    page: Annotated[PageRequest, Depends(page_request)],
    status_: Annotated[OrderStatus | None, Query(alias="status")] = None,
    type_: Annotated[OrderType | None, Query(alias="type")] = None,
    instance_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[OrderView]:
    states = await orders.search(reader, page, status=status_, type=type_, instance_id=instance_id)
    items, cursor = build_page(states, page, lambda s: (s.order.created_at, s.order.id))
    return Page(items=[OrderView.of(s) for s in items], next_cursor=cursor)


@router.get(
    "/{order_id}",
    summary="Read an order",
    description="A customer reads its own orders, a partner the orders of its products; any "
    "other order is 404. `payment`, `refund` and the timestamps tell where the order stands.",
    operation_id="getOrder",
    responses=problem_responses(*AUTH_ERRORS, OrderNotFoundError),
)
async def get_order(order_id: OrderId, reader: Reader, orders: Orders) -> OrderView:
    return OrderView.of(await orders.get(reader, order_id))


@router.post(
    "/{order_id}/pay",
    summary="Pay an order awaiting payment",
    description="The payment provider charges the amount. With the sandbox provider it "
    "settles at once and the license is minted: 200 with the order `fulfilled` (or "
    "`completed` when the product needs no acceptance). If the license service can't be "
    "reached the payment still counts: 202 with the order `paid`, and the license is minted "
    "as soon as the service answers. With a provider that confirms later, 202 with the order "
    "still `pending_payment` and the payment `initiated` until its webhook arrives. An add-on "
    "order re-checks its instance and pack limit. Paying again after an interrupted attempt "
    "resumes the same payment. Send an `Idempotency-Key` and retry with the same key on a "
    "connection error, a 503 or a 409 `idempotency_request_in_progress`: a retry finishes or "
    "reports the payment its key began, so one whose payment went through answers 200 with "
    "the order, also when the outbox finished the payment meanwhile (it may wait a few "
    "seconds, `ORDERS_PAY_LEASE_SECONDS`, for an interrupted first attempt's claim).",
    operation_id="payOrder",
    response_model=OrderView,
    responses={
        202: {"model": OrderView, "description": "Paid (or being paid); fulfilment follows."},
        **problem_responses(
            *AUTH_ERRORS,
            OrderNotFoundError,
            InstanceNotFoundError,
            IdempotencyKeyReusedError,
            OrderNotPayableError,
            InstanceEndedError,
            MaxPerInstanceExceededError,
            IdempotencyInProgressError,
            PaymentProviderUnavailableError,
        ),
    },
)
async def pay_order(
    order_id: OrderId,
    customer: Customer,
    orders: Orders,
    idempotency: PayIdempotency,
    idempotency_key: PayIdempotencyKey = None,
) -> Response:
    return await idempotent_call(
        idempotency,
        caller=customer,
        key=idempotency_key,
        request=("POST", f"/v1/orders/{order_id}/pay", None),
        new_resource_id=new_id("pay"),
        status_code=_pay_status,
        render=OrderView.of,
        work=lambda attempt: orders.pay(customer, order_id, attempt),
    )


@router.post(
    "/{order_id}/cancel",
    summary="Cancel an order awaiting payment",
    description="Only before payment, and not while a payment of it is in progress "
    "(409 `payment_in_progress`): of a cancel and a pay racing, exactly one wins.",
    operation_id="cancelOrder",
    responses=problem_responses(
        *AUTH_ERRORS, OrderNotFoundError, OrderNotCancellableError, PaymentInProgressError
    ),
)
async def cancel_order(order_id: OrderId, customer: Customer, orders: Orders) -> OrderView:
    return OrderView.of(await orders.cancel(customer, order_id))


@router.post(
    "/{order_id}/accept",
    summary="Accept the delivery: the order completes",
    description="For a product that requires acceptance, once the order is `fulfilled` and "
    "before the license's acceptance deadline (which the partner may have extended). The "
    "order becomes `completed`, which ends the refund period, and its license moves to its "
    "paid mode.",
    operation_id="acceptOrder",
    responses=problem_responses(
        *AUTH_ERRORS,
        OrderNotFoundError,
        AcceptanceNotRequiredError,
        OrderNotAcceptableError,
        AcceptanceDeadlinePassedError,
        InstanceEndedError,
        UpstreamUnavailableError,
    ),
)
async def accept_order(order_id: OrderId, customer: Customer, orders: Orders) -> OrderView:
    return OrderView.of(await orders.accept(customer, order_id))


@router.post(
    "/{order_id}/refund",
    summary="Refund an order during its guarantee period (owning partner)",
    description="Only while the order is `fulfilled` (before `completed`), for at most the "
    "amount paid. The order's license is revoked at once; refunding a `new` order also ends "
    "its instance and revokes the instance's add-on licenses. Send an `Idempotency-Key` to "
    "retry safely.",
    operation_id="refundOrder",
    response_model=OrderView,
    responses=problem_responses(
        *AUTH_ERRORS,
        OrderNotFoundError,
        ValidationProblem,
        RefundExceedsPaymentError,
        IdempotencyKeyReusedError,
        OrderNotRefundableError,
        IdempotencyInProgressError,
    ),
)
async def refund_order(
    order_id: OrderId,
    body: Annotated[RefundRequest, Body(openapi_examples=REFUND_EXAMPLES)],
    partner: Partner,
    orders: Orders,
    idempotency: Idempotency,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    async def work(_resource_id: str) -> OrderView:
        return OrderView.of(await orders.refund(partner, order_id, body.amount_minor, body.reason))

    return await idempotent_response(
        idempotency,
        caller=partner,
        key=idempotency_key,
        request=("POST", f"/v1/orders/{order_id}/refund", body.model_dump(mode="json")),
        new_resource_id=order_id,
        status_code=status.HTTP_200_OK,
        work=work,
    )
