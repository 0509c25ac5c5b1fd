"""Payment providers and the signature of their webhooks.

A provider charges a payment and refunds it; the payment id is its idempotency key, so a pay
that is resumed after a crash never charges twice. The sandbox (the embedded default) settles
at once, once per payment id, and keeps its ledger in orders' database. `ExternalProvider`
stands for a real provider that confirms asynchronously: its charge stays `pending` until
`POST /v1/payments/webhook` reports `payment.settled` or `payment.failed`.

Webhooks carry `Market-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`
under the shared webhook secret; a signature older than the tolerance is refused, so a
captured request can't be replayed later.
"""

import hashlib
import hmac
import logging
import re
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.orders.db.models import SandboxPaymentRow
from services.orders.errors import InvalidSignatureError
from shared.clock import utcnow

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
    """The embedded default: settles every charge at once, and keeps a ledger as a real
    provider does on its side.

    The ledger (`sandbox_payments`, a table in orders' own database written in transactions
    of its own, never in one of orders') holds the rule a real provider keeps: a payment id
    settles once. The first charge of an id settles it; any later charge of the same id (a
    pay resumed after a crash, a retry racing the relay) answers `settled` again and only
    counts in `charge_attempts`. Being in the database, the ledger outlives a killed process
    and is shared by replicas, like the provider's own storage, so tests can prove that no
    payment was settled twice and no order was charged under two payment ids.
    """

    name = "sandbox"

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self._charge_by_dialect = {
            "postgresql": _upsert_charge(postgresql_insert(SandboxPaymentRow)),
            "sqlite": _upsert_charge(sqlite_insert(SandboxPaymentRow)),
        }

    async def charge(
        self, payment_id: str, amount_minor: int, currency: str, order_id: str
    ) -> ChargeResult:
        async with self.sessionmaker() as session, session.begin():
            statement = self._charge_by_dialect[session.get_bind().dialect.name]
            await session.execute(
                statement,
                {
                    "payment_id": payment_id,
                    "order_id": order_id,
                    "amount_minor": amount_minor,
                    "currency": currency,
                    "charge_attempts": 1,
                    "settled_at": utcnow(),
                },
            )
            settled = await session.get(SandboxPaymentRow, payment_id)
        assert settled is not None
        if (settled.order_id, settled.amount_minor, settled.currency) != (
            order_id,
            amount_minor,
            currency,
        ):
            # A real provider refuses an idempotency key reused with other parameters.
            raise SandboxRefusedError(f"payment {payment_id} was charged with other terms")
        return ChargeResult.settled

    async def refund(self, payment_id: str, amount_minor: int) -> None:
        async with self.sessionmaker() as session, session.begin():
            row = await session.get(SandboxPaymentRow, payment_id, with_for_update=True)
            if row is None:
                # Settled before the sandbox kept a ledger (or never): nothing to give back.
                log.warning(
                    "sandbox refund of a payment it has no record of", extra={"payment": payment_id}
                )
                return
            if row.refunded_minor is None:  # idempotent per payment, as the protocol says
                row.refunded_minor = amount_minor
                row.refunded_at = utcnow()

    async def ledger(self) -> list[SandboxPaymentRow]:
        """Every payment the sandbox settled, in the order it settled them."""
        async with self.sessionmaker() as session, session.begin():
            query = select(SandboxPaymentRow).order_by(
                SandboxPaymentRow.settled_at, SandboxPaymentRow.payment_id
            )
            return list((await session.execute(query)).scalars())


class SandboxRefusedError(Exception):
    """The sandbox refuses what a real provider would: a payment id reused with other terms."""


def _upsert_charge(insert: Any) -> Any:
    """Settle a payment id on its first charge; count every later one."""
    return insert.on_conflict_do_update(
        index_elements=["payment_id"],
        set_={"charge_attempts": SandboxPaymentRow.charge_attempts + 1},
    )


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


def provider_named(name: str, sessionmaker: async_sessionmaker[AsyncSession]) -> PaymentProvider:
    """The provider a setting names (`sandbox`, whose ledger is in orders' database, or
    `external`)."""
    if name == "sandbox":
        return SandboxProvider(sessionmaker)
    if name == "external":
        return ExternalProvider()
    raise ValueError(f"no payment provider {name!r}")


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
