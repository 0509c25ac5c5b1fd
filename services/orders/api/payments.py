"""The payment providers' webhook: signed events that settle or fail a payment."""

import time
from typing import Annotated

from fastapi import APIRouter, Header, Request
from pydantic import ValidationError

from services.orders.api.deps import Orders, Runtime
from services.orders.api.schemas import WebhookEvent, WebhookReceiptView
from services.orders.errors import InvalidSignatureError, PaymentNotFoundError
from services.orders.payments import SIGNATURE_HEADER, verify_webhook_signature
from shared.problems import FieldError, ValidationProblem, problem_responses

router = APIRouter(prefix="/v1/payments", tags=["payments"])


@router.post(
    "/webhook",
    summary="Receive a payment provider's event (signed; no access token)",
    description="The provider signs each request: header `Market-Signature: t=<unix "
    "time>,v1=<hex>`, where v1 is the HMAC-SHA256 of `<t>.<raw body>` under the webhook "
    "secret (`ORDERS_WEBHOOK_SECRET`). A missing, malformed, wrong or stale signature "
    "(older than `ORDERS_WEBHOOK_TOLERANCE_SECONDS`, 300 by default) gets 401 "
    "`invalid_signature`. "
    "`payment.settled` pays the order and starts its fulfilment; `payment.failed` frees the "
    "order to be paid again. An event id seen before is answered 200 `duplicate` and changes "
    "nothing.",
    operation_id="receivePaymentWebhook",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": WebhookEvent.model_json_schema(),
                    "examples": {
                        "settled": {
                            "summary": "The provider settled a payment",
                            "value": {
                                "event_id": "evt_1QxYz2345",
                                "type": "payment.settled",
                                "payment_id": "pay_3k5m7n9p1r3t5v7x9z1b3d5f",
                            },
                        }
                    },
                }
            },
        }
    },
    responses=problem_responses(InvalidSignatureError, PaymentNotFoundError, ValidationProblem),
)
async def receive_webhook(
    request: Request,
    orders: Orders,
    runtime: Runtime,
    signature: Annotated[
        str | None,
        Header(
            alias=SIGNATURE_HEADER,
            description='`t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.',
        ),
    ] = None,
) -> WebhookReceiptView:
    settings = runtime.settings
    body = await request.body()
    verify_webhook_signature(
        settings.webhook_secret.get_secret_value(),
        signature,
        body,
        now=time.time(),
        tolerance_seconds=settings.webhook_tolerance_seconds,
    )
    try:
        event = WebhookEvent.model_validate_json(body)
    except ValidationError as exc:
        errors = [
            FieldError(
                loc=["body", *(p for p in e["loc"] if isinstance(p, (str, int)))],
                msg=e["msg"],
                type=e["type"],
            )
            for e in exc.errors()
        ]
        raise ValidationProblem("The event does not match the schema.", errors=errors) from None
    processed = await orders.handle_webhook(event.event_id, event.type, event.payment_id)
    return WebhookReceiptView(
        event_id=event.event_id, status="processed" if processed else "duplicate"
    )
