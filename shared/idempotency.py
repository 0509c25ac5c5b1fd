"""`Idempotency-Key` for POSTs that create or move state.

The same key with the same request answers with the first response; the same key with another
request gets 422 `idempotency_key_reused`. Keys are scoped to the caller (`sub`).

The record lives in the use case's own transactions (`idempotent_call` and `Attempt`), so a
keyed request costs no transaction of its own. Work with effects outside the database (a
charge, a call to another service) *claims* the key in its first transaction: a duplicate
that arrives meanwhile waits for the first one's response (409
`idempotency_request_in_progress` if it takes too long), and a claim whose worker died is
taken over once its lease runs out, with the same `resource_id`, so resumable work picks up
where it stopped. Work whose every effect is in one transaction only *checks* the key first
and records it with its rows: of two concurrent duplicates, the second finds the first's record
and rolls back. `idempotent_response` wraps work that knows nothing of this: the key is claimed
before it runs and completed after, in transactions of their own.
"""

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Header
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import (
    Column,
    CursorResult,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Result
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.clock import utcnow
from shared.db import JSONDocument, UTCDateTime
from shared.observability import current_request_id
from shared.problems import PROBLEM_MEDIA_TYPE, ConflictError, ProblemError, ValidationProblem

T = TypeVar("T")


def rowcount(result: Result[Any]) -> int:
    """Rows an INSERT, UPDATE or DELETE touched."""
    assert isinstance(result, CursorResult)
    return result.rowcount


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
        c = table.c
        self._record = select(table).where(
            c.principal == bindparam("principal"), c.key == bindparam("key")
        )
        self._insert_new_by_dialect = {
            "postgresql": postgresql_insert(table).on_conflict_do_nothing(),
            "sqlite": sqlite_insert(table).on_conflict_do_nothing(),
        }

    async def claim(
        self, principal: str, key: str, fingerprint: str, new_resource_id: str
    ) -> Claim:
        """Claim `key` for this request in a transaction of its own, or return the response
        it already has; waits while another request holds it."""
        deadline = asyncio.get_running_loop().time() + self.wait_seconds
        delay = 0.02
        while True:
            async with self.sessionmaker() as session, session.begin():
                claim = await self.claim_in(session, principal, key, fingerprint, new_resource_id)
            if claim is not None:
                return claim
            if asyncio.get_running_loop().time() >= deadline:
                raise IdempotencyInProgressError("Retry once the first request has finished.")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    async def claim_in(
        self,
        session: AsyncSession,
        principal: str,
        key: str,
        fingerprint: str,
        new_resource_id: str,
    ) -> Claim | None:
        """Claim `key` in the caller's transaction: a claim to go ahead with (a dead one
        taken over keeps its `resource_id`), the stored response, or None while another
        request holds the key."""
        c = self.table.c
        now = utcnow()
        inserted = await self._insert_new(
            session,
            principal=principal,
            key=key,
            fingerprint=fingerprint,
            resource_id=new_resource_id,
            created_at=now,
            locked_until=now + self.lease,
        )
        if inserted:
            return Claim(resource_id=new_resource_id)
        row = (
            await session.execute(
                select(self.table).where(c.principal == principal, c.key == key).with_for_update()
            )
        ).one_or_none()
        if row is None:
            return None  # released between the two statements: try again
        if row.fingerprint != fingerprint:
            raise IdempotencyKeyReusedError("Use a new Idempotency-Key for a different request.")
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

    async def lookup_in(
        self, session: AsyncSession, principal: str, key: str, fingerprint: str
    ) -> Claim | None:
        """The key's record as the caller's transaction sees it, without taking it."""
        result = await session.execute(self._record, {"principal": principal, "key": key})
        row = result.one_or_none()
        if row is None:
            return None
        if row.fingerprint != fingerprint:
            raise IdempotencyKeyReusedError("Use a new Idempotency-Key for a different request.")
        return Claim(row.resource_id, row.status_code, row.response)

    async def record_in(
        self,
        session: AsyncSession,
        principal: str,
        key: str,
        *,
        fingerprint: str,
        resource_id: str,
        status_code: int,
        response: Any,
        claimed: bool,
    ) -> bool:
        """Store the response in the caller's transaction: on the claim, or as a new record.
        False if a concurrent request recorded the key first (the caller rolls back)."""
        if claimed:
            await self.complete_in(session, principal, key, status_code, response)
            return True
        now = utcnow()
        return await self._insert_new(
            session,
            principal=principal,
            key=key,
            fingerprint=fingerprint,
            resource_id=resource_id,
            status_code=status_code,
            response=response,
            created_at=now,
            locked_until=now,
        )

    async def record_problem(
        self,
        principal: str,
        key: str,
        fingerprint: str,
        resource_id: str,
        status_code: int,
        problem: Any,
    ) -> None:
        """Store a 4xx answer, on the request's claim or (if it had none) as a new record."""
        c = self.table.c
        async with self.sessionmaker() as session, session.begin():
            result = await session.execute(
                update(self.table)
                .where(c.principal == principal, c.key == key, c.status_code.is_(None))
                .values(status_code=status_code, response=problem)
            )
            if rowcount(result) == 0:
                now = utcnow()
                await self._insert_new(
                    session,
                    principal=principal,
                    key=key,
                    fingerprint=fingerprint,
                    resource_id=resource_id,
                    status_code=status_code,
                    response=problem,
                    created_at=now,
                    locked_until=now,
                )

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

    async def release(self, principal: str, key: str, *, resource_id: str | None = None) -> None:
        """Forget an unfinished claim (the work failed in a way worth retrying); with
        `resource_id`, only the claim made for that resource."""
        c = self.table.c
        query = delete(self.table).where(
            c.principal == principal, c.key == key, c.status_code.is_(None)
        )
        if resource_id is not None:
            query = query.where(c.resource_id == resource_id)
        async with self.sessionmaker() as session, session.begin():
            await session.execute(query)

    async def _insert_new(self, session: AsyncSession, **values: Any) -> bool:
        """Insert a record unless the key has one (never an error that aborts the
        transaction); True if this inserted it."""
        statement = self._insert_new_by_dialect[session.get_bind().dialect.name]
        return rowcount(await session.execute(statement, values)) == 1


class Replay(Exception):
    """Raised inside the work: the key already has its response, which is answered again."""

    def __init__(self, claim: Claim) -> None:
        super().__init__("replay")
        self.claim = claim


class _Busy(Exception):
    """Raised inside the work: another request holds the key; wait and try again."""


class Attempt(Generic[T]):
    """One try at an idempotent request, as its use case sees it.

    The use case puts the idempotency record into its own transactions instead of two of
    their own: `claim` (or `check`) in the first, `complete` in the last. `claim` is for work
    with effects outside the database (a charge, a call to another service), which must
    never run twice at once: the claim is committed with the first transaction and keeps
    concurrent duplicates waiting. `check` is for work whose every effect is in the
    transaction that completes it: nothing is written until `complete`, and of two
    concurrent duplicates the second one's `complete` finds the first's record and rolls
    its transaction back. Without a key the hooks only keep the response.
    """

    def __init__(
        self,
        store: "IdempotencyStore | None",
        *,
        principal: str,
        key: str | None,
        fingerprint: str,
        resource_id: str,
        render: Callable[[T], BaseModel],
        status_code: int | Callable[[Any], int],
    ) -> None:
        self._store = store
        self._principal = principal
        self._key = key
        self._fingerprint = fingerprint
        self._render = render
        self._status_code = status_code
        self.resource_id = resource_id
        self.claimed = False
        self.taken_over = False
        self.response: tuple[int, Any] | None = None

    @property
    def keyed(self) -> bool:
        """Whether the request came with an `Idempotency-Key`."""
        return self._store is not None and self._key is not None

    async def claim(self, session: AsyncSession) -> None:
        """First thing in the work's first transaction: claim the key (see the class)."""
        if self._store is None or self._key is None:
            return
        claim = await self._store.claim_in(
            session, self._principal, self._key, self._fingerprint, self.resource_id
        )
        if claim is None:
            raise _Busy
        if claim.replay:
            raise Replay(claim)
        # A dead claim taken over keeps its resource id: the work resumes what it began.
        self.taken_over = claim.resource_id != self.resource_id
        self.resource_id = claim.resource_id
        self.claimed = True

    async def check(self, session: AsyncSession) -> None:
        """First thing in the work's first transaction: replay a stored response, if any."""
        if self._store is None or self._key is None:
            return
        claim = await self._store.lookup_in(session, self._principal, self._key, self._fingerprint)
        if claim is None:
            return
        if not claim.replay:
            raise _Busy
        raise Replay(claim)

    async def complete(self, session: AsyncSession, result: T) -> None:
        """In the work's last transaction: store the response that every retry gets."""
        status, body = self.respond(result)
        if self._store is None or self._key is None:
            return
        stored = await self._store.record_in(
            session,
            self._principal,
            self._key,
            fingerprint=self._fingerprint,
            resource_id=self.resource_id,
            status_code=status,
            response=body,
            claimed=self.claimed,
        )
        if not stored:
            raise _Busy  # a concurrent duplicate completed first: roll this one back

    def respond(self, result: T) -> tuple[int, Any]:
        """The response to `result`: its status code and JSON body (kept for the answer)."""
        model = self._render(result)
        status = self._status_code(model) if callable(self._status_code) else self._status_code
        self.response = (status, model.model_dump(mode="json"))
        return self.response

    async def release(self) -> None:
        """Forget this attempt's unfinished claim (its work failed in a way worth retrying)."""
        if self._store is not None and self._key is not None and self.claimed:
            await self._store.release(self._principal, self._key, resource_id=self.resource_id)


async def idempotent_call(
    store: IdempotencyStore,
    *,
    principal: str,
    key: str | None,
    request: tuple[str, str, Any],
    new_resource_id: str,
    status_code: int | Callable[[Any], int],
    render: Callable[[T], BaseModel],
    work: Callable[[Attempt[T]], Awaitable[T]],
) -> Response:
    """Run `work(attempt)` at most once per `(principal, key)` and answer alike each time.

    The work claims or checks the key in its first transaction and completes it in its last
    (see `Attempt`). `request` is `(method, path, body)`; it tells a retry from a reuse of
    the key. A 4xx problem is stored and replayed like a success; a 5xx (say, an upstream
    service down) releases the key, so a retry does the work again. `status_code` may be a
    function of the rendered result, for work that answers 200 or 202 depending on what
    happened.
    """
    digest = fingerprint(*request)
    deadline = asyncio.get_running_loop().time() + store.wait_seconds
    delay = 0.02
    while True:
        attempt = Attempt(
            store,
            principal=principal,
            key=key,
            fingerprint=digest,
            resource_id=new_resource_id,
            render=render,
            status_code=status_code,
        )
        try:
            result = await work(attempt)
            break
        except Replay as replay:
            return _replayed(replay.claim)
        except _Busy:
            if asyncio.get_running_loop().time() >= deadline:
                raise IdempotencyInProgressError(
                    "Retry once the first request has finished."
                ) from None
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)
        except ProblemError as exc:
            if key is not None and 400 <= exc.status < 500:
                problem = exc.to_problem(current_request_id())
                await store.record_problem(
                    principal, key, digest, attempt.resource_id, exc.status, problem
                )
            else:
                await attempt.release()
            raise
        except BaseException:
            await attempt.release()
            raise
    if attempt.response is None and key is None:
        attempt.respond(result)
    elif attempt.response is None:
        # The work did not complete the key in a transaction of its own.
        async with store.sessionmaker() as session, session.begin():
            await attempt.complete(session, result)
    assert attempt.response is not None
    status, body = attempt.response
    return JSONResponse(body, status_code=status)


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
    """`idempotent_call` for work that keeps no idempotency record in its own transactions:
    the key is claimed before `work(resource_id)` runs and completed after it, in
    transactions of their own."""

    async def claimed_work(attempt: Attempt[BaseModel]) -> BaseModel:
        async with store.sessionmaker() as session, session.begin():
            await attempt.claim(session)
        return await work(attempt.resource_id)

    return await idempotent_call(
        store,
        principal=principal,
        key=key,
        request=request,
        new_resource_id=new_resource_id,
        status_code=status_code,
        render=_same,
        work=claimed_work,
    )


def _same(model: BaseModel) -> BaseModel:
    return model


def _replayed(claim: Claim) -> Response:
    assert claim.status_code is not None
    return JSONResponse(
        claim.response,
        status_code=claim.status_code,
        media_type=PROBLEM_MEDIA_TYPE if claim.status_code >= 400 else None,
        headers={"Idempotent-Replayed": "true"},
    )
