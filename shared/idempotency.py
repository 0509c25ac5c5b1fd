"""`Idempotency-Key` for POSTs that create or move state.

The same key with the same request answers with the first response; the same key with another
request gets 422 `idempotency_key_reused`. A record is claimed before the work starts, in a
transaction of its own, and completed with the response afterwards; a duplicate that arrives
while the first is still running waits for its response (409 `idempotency_request_in_progress`
if it takes too long). A claim whose worker died is taken over once its lease runs out, with
the same `resource_id`, so resumable work (freeze a draft for submission X) picks up where it
stopped. Keys are scoped to the caller (`sub`).
"""

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Header
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import Column, Integer, MetaData, String, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.clock import utcnow
from shared.db import JSONDocument, UTCDateTime
from shared.observability import current_request_id
from shared.problems import PROBLEM_MEDIA_TYPE, ConflictError, ProblemError, ValidationProblem


class IdempotencyKeyReusedError(ValidationProblem):
    code = "idempotency_key_reused"
    title = "This Idempotency-Key was used for another request"


class IdempotencyInProgressError(ConflictError):
    code = "idempotency_request_in_progress"
    title = "A request with this Idempotency-Key is still being processed"


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Retry-safe key: the same key and body answer with the first response.",
    ),
]


def idempotency_table(metadata: MetaData) -> Table:
    """The `idempotency_records` table, in the metadata of the service that owns it."""
    return Table(
        "idempotency_records",
        metadata,
        Column("principal", String(200), primary_key=True),
        Column("key", String(200), primary_key=True),
        Column("fingerprint", String(64), nullable=False),
        Column("resource_id", String(64), nullable=False),
        Column("status_code", Integer),
        Column("response", JSONDocument),
        Column("created_at", UTCDateTime, nullable=False),
        Column("locked_until", UTCDateTime, nullable=False),
    )


def fingerprint(method: str, path: str, body: Any) -> str:
    """A digest of what makes two requests "the same": method, path and canonical body."""
    canonical = json.dumps([method.upper(), path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Claim:
    """Either a stored response to replay, or the go-ahead to do the work."""

    resource_id: str
    status_code: int | None = None
    response: Any = None

    @property
    def replay(self) -> bool:
        return self.status_code is not None


class IdempotencyStore:
    def __init__(
        self,
        table: Table,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        lease_seconds: float = 30.0,
        wait_seconds: float = 10.0,
    ) -> None:
        self.table = table
        self.sessionmaker = sessionmaker
        self.lease = timedelta(seconds=lease_seconds)
        self.wait_seconds = wait_seconds

    async def claim(
        self, principal: str, key: str, fingerprint: str, new_resource_id: str
    ) -> Claim:
        """Claim `key` for this request, or return the response it already has."""
        deadline = asyncio.get_running_loop().time() + self.wait_seconds
        delay = 0.02
        while True:
            claim = await self._try_claim(principal, key, fingerprint, new_resource_id)
            if claim is not None:
                return claim
            if asyncio.get_running_loop().time() >= deadline:
                raise IdempotencyInProgressError("Retry once the first request has finished.")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    async def complete(self, principal: str, key: str, status_code: int, response: Any) -> None:
        """Store the response that every later request with this key gets."""
        async with self.sessionmaker() as session, session.begin():
            await self.complete_in(session, principal, key, status_code, response)

    async def complete_in(
        self, session: AsyncSession, principal: str, key: str, status_code: int, response: Any
    ) -> None:
        """`complete` inside the caller's transaction (with the work's own rows)."""
        c = self.table.c
        await session.execute(
            update(self.table)
            .where(c.principal == principal, c.key == key)
            .values(status_code=status_code, response=response)
        )

    async def release(self, principal: str, key: str) -> None:
        """Forget an unfinished claim (the work failed in a way worth retrying)."""
        c = self.table.c
        async with self.sessionmaker() as session, session.begin():
            await session.execute(
                delete(self.table).where(
                    c.principal == principal, c.key == key, c.status_code.is_(None)
                )
            )

    async def _try_claim(
        self, principal: str, key: str, fingerprint: str, new_resource_id: str
    ) -> Claim | None:
        c = self.table.c
        now = utcnow()
        try:
            async with self.sessionmaker() as session, session.begin():
                row = (
                    await session.execute(
                        select(self.table)
                        .where(c.principal == principal, c.key == key)
                        .with_for_update()
                    )
                ).one_or_none()
                if row is None:
                    await session.execute(
                        insert(self.table).values(
                            principal=principal,
                            key=key,
                            fingerprint=fingerprint,
                            resource_id=new_resource_id,
                            created_at=now,
                            locked_until=now + self.lease,
                        )
                    )
                    return Claim(resource_id=new_resource_id)
                if row.fingerprint != fingerprint:
                    raise IdempotencyKeyReusedError(
                        "Use a new Idempotency-Key for a different request."
                    )
                if row.status_code is not None:
                    return Claim(row.resource_id, row.status_code, row.response)
                if row.locked_until > now:
                    return None
                await session.execute(
                    update(self.table)
                    .where(c.principal == principal, c.key == key)
                    .values(locked_until=now + self.lease)
                )
                return Claim(resource_id=row.resource_id)
        except IntegrityError:
            # A concurrent first request inserted the record; look again.
            return None


async def idempotent_response(
    store: IdempotencyStore,
    *,
    principal: str,
    key: str | None,
    request: tuple[str, str, Any],
    new_resource_id: str,
    status_code: int | Callable[[Any], int],
    work: Callable[[str], Awaitable[BaseModel]],
) -> Response:
    """Run `work(resource_id)` at most once per `(principal, key)` and answer alike each time.

    `request` is `(method, path, body)`; it tells a retry from a reuse of the key. A 4xx
    problem is stored and replayed like a success; a 5xx (say, an upstream service down)
    releases the key, so a retry does the work again. `status_code` may be a function of
    the result, for work that answers 200 or 202 depending on what happened.
    """

    def status_of(result: BaseModel) -> int:
        return status_code(result) if callable(status_code) else status_code

    if key is None:
        result = await work(new_resource_id)
        return JSONResponse(result.model_dump(mode="json"), status_code=status_of(result))
    claim = await store.claim(principal, key, fingerprint(*request), new_resource_id)
    if claim.replay:
        assert claim.status_code is not None
        return JSONResponse(
            claim.response,
            status_code=claim.status_code,
            media_type=PROBLEM_MEDIA_TYPE if claim.status_code >= 400 else None,
            headers={"Idempotent-Replayed": "true"},
        )
    try:
        result = await work(claim.resource_id)
    except ProblemError as exc:
        if 400 <= exc.status < 500:
            await store.complete(principal, key, exc.status, exc.to_problem(current_request_id()))
        else:
            await store.release(principal, key)
        raise
    except BaseException:
        await store.release(principal, key)
        raise
    body = result.model_dump(mode="json")
    await store.complete(principal, key, status_of(result), body)
    return JSONResponse(body, status_code=status_of(result))
