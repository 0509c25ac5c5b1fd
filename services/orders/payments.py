"""Payment providers and the signature of their webhooks.

A provider charges a payment and refunds it; the payment id is its idempotency key, so a pay
that is resumed after a crash never charges twice. The sandbox (the embedded default) settles
at once. `ExternalProvider` stands for a real provider that confirms asynchronously: its charge
stays `pending` until `POST /v1/payments/webhook` reports `payment.settled` or
`payment.failed`.

Webhooks carry `Market-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`
under the shared webhook secret; a signature older than the tolerance is refused, so a
captured request can't be replayed later.
"""

import hashlib
import hmac
import logging
import re
from enum import StrEnum
from typing import Protocol

from services.orders.errors import InvalidSignatureError

log = logging.getLogger("market.orders.payments")

SIGNATURE_HEADER = "Market-Signature"
# Far more than a timestamp and a few signatures (secret rotations) need.
MAX_SIGNATURE_HEADER = 1000
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


class ChargeResult(StrEnum):
    settled = "settled"
    pending = "pending"


class PaymentProvider(Protocol):
    """What orders needs from a payment provider. Raise to say it can't be reached."""

    name: str

    async def charge(
        self, payment_id: str, amount_minor: int, currency: str, order_id: str
    ) -> ChargeResult:
        """Charge the customer (idempotent per `payment_id`)."""
        ...

    async def refund(self, payment_id: str, amount_minor: int) -> None:
        """Give back `amount_minor` of a settled payment (idempotent per `payment_id`)."""
        ...


class SandboxProvider:
    """Settles every charge at once and refunds without a word: the embedded default."""

    name = "sandbox"

    async def charge(
        self, payment_id: str, amount_minor: int, currency: str, order_id: str
    ) -> ChargeResult:
        return ChargeResult.settled

    async def refund(self, payment_id: str, amount_minor: int) -> None:
        return None


class ExternalProvider:
    """A provider that confirms through the webhook: every charge is `pending` here."""

    name = "external"

    async def charge(
        self, payment_id: str, amount_minor: int, currency: str, order_id: str
    ) -> ChargeResult:
        log.info(
            "payment handed to the provider; waiting for its webhook",
            extra={"payment": payment_id, "order": order_id},
        )
        return ChargeResult.pending

    async def refund(self, payment_id: str, amount_minor: int) -> None:
        log.info("refund handed to the provider", extra={"payment": payment_id})


def provider_named(name: str) -> PaymentProvider:
    """The provider a setting names (`sandbox` or `external`)."""
    providers: dict[str, PaymentProvider] = {
        "sandbox": SandboxProvider(),
        "external": ExternalProvider(),
    }
    return providers[name]


def webhook_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `Market-Signature` header value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_webhook_signature(
    secret: str, header: str | None, body: bytes, *, now: float, tolerance_seconds: int
) -> None:
    """Raise `InvalidSignatureError` unless `header` signs `body` and is recent enough.

    The header is read by its grammar (`t=<1 to 12 ASCII digits>`, each `v1=<64 lowercase
    hex>`) before anything is computed from it: whatever else an unauthenticated caller
    sends (a 900-digit timestamp, non-ASCII bytes, a kilobyte of commas) is refused the same
    way, never turned into an exception of its own.
    """
    if not header:
        raise InvalidSignatureError(f"Send the {SIGNATURE_HEADER} header.")
    if len(header) > MAX_SIGNATURE_HEADER or not header.isascii():
        raise InvalidSignatureError(f"The {SIGNATURE_HEADER} header is malformed.")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        parts.setdefault(name, []).append(value)
    stamps = parts.get("t", [])
    if len(stamps) != 1 or not _TIMESTAMP.fullmatch(stamps[0]):
        raise InvalidSignatureError("The signature has no valid timestamp `t`.")
    timestamp = int(stamps[0])
    if abs(now - timestamp) > tolerance_seconds:
        raise InvalidSignatureError("The signature is too old (or from the future).")
    expected = webhook_signature(secret, timestamp, body).split("v1=", 1)[1].encode()
    given = [value.encode() for value in parts.get("v1", []) if _HEX_DIGEST.fullmatch(value)]
    if not any(hmac.compare_digest(expected, value) for value in given):
        raise InvalidSignatureError("The signature does not match the body.")
