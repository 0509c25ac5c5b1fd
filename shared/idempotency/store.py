"""`Idempotency-Key` for POSTs that create or move state.

The same key with the same request answers with the first response; the same key with another
request gets 422 `idempotency_key_reused`. A key belongs to one caller: its role and `sub`
together (a customer and a partner may both be called `acme`; their keys never meet).

The record lives in the use case's own transactions (`idempotent_call` and `Attempt`), so a
keyed request costs no transaction of its own. Work with effects outside the database (a
charge, a call to another service) *claims* the key in its first transaction: a duplicate
that arrives meanwhile waits for the first one's response (409
`idempotency_request_in_progress` if it takes too long), and a claim whose worker died is
taken over once its lease runs out (at once if it failed with a 5xx), with the same
`resource_id`, so resumable work picks up where it stopped; such work may also look at a
claim another request holds (`Attempt.claim(wait=False)`) and report what that request
achieved instead of waiting. The first response stored stays. Work whose every effect is in
one transaction only *checks* the key first and records it with its rows: of two concurrent
duplicates, the second finds the first's record and rolls back. `idempotent_response` wraps
work that knows nothing of this: the key is claimed before it runs and completed after, in
transactions of their own.
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
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Result
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from shared.auth import Principal
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
        # The caller: its role and its `sub` (`principal`) together.
        Column("role", String(20), primary_key=True),
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
    """Either a stored response to replay, or the go-ahead to do the work.

    `held` means another request holds the key right now (its lease runs): the caller may
    wait for it, or (work that can tell from `resource_id` how far the holder got) report
    what it finds without doing the work.
    """

    resource_id: str
    status_code: int | None = None
    response: Any = None
    held: bool = False

    @property
    def replay(self) -> bool:
        return self.status_code is not None


class IdempotencyStore:
    """The `idempotency_records` of one service, in its own database.

    `lease_seconds` is how long a claim keeps duplicates out: after that, its holder is
    taken for dead and a duplicate takes the claim over (with its `resource_id`). It should
    outlast the work; work that may be resumed by its `resource_id` (a payment charged again
    with the same id) can take a shorter one, since a holder that is merely slow then does
    nothing twice. A duplicate waits up to `wait_seconds` for the holder (or for the lease
    to run out) before it is answered 409 `idempotency_request_in_progress`.
    """

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
            c.role == bindparam("role"),
            c.principal == bindparam("principal"),
            c.key == bindparam("key"),
        )
        self._insert_new_by_dialect = {
            "postgresql": postgresql_insert(table).on_conflict_do_nothing(),
            "sqlite": sqlite_insert(table).on_conflict_do_nothing(),
        }

    async def claim(
        self, caller: Principal, key: str, fingerprint: str, new_resource_id: str
    ) -> Claim:
        """Claim `key` for this request in a transaction of its own, or return the response
        it already has; waits while another request holds it."""
        deadline = asyncio.get_running_loop().time() + self.wait_seconds
        delay = 0.02
        while True:
            async with self.sessionmaker() as session, session.begin():
                claim = await self.claim_in(session, caller, key, fingerprint, new_resource_id)
            if not claim.held:
                return claim
            if asyncio.get_running_loop().time() >= deadline:
                raise IdempotencyInProgressError("Retry once the first request has finished.")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    async def claim_in(
        self,
        session: AsyncSession,
        caller: Principal,
        key: str,
        fingerprint: str,
        new_resource_id: str,
    ) -> Claim:
        """Claim `key` in the caller's transaction: a claim to go ahead with (a dead one
        taken over keeps its `resource_id`), the stored response, or (`held`) the
        `resource_id` of the request that holds the key now."""
        now = utcnow()
        inserted = await self._insert_new(
            session,
            **_scope(caller),
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
                select(self.table).where(*self._where(caller, key)).with_for_update()
            )
        ).one_or_none()
        if row is None:
            # Released between the two statements: held for this moment; try again.
            return Claim(resource_id=new_resource_id, held=True)
        if row.fingerprint != fingerprint:
            raise IdempotencyKeyReusedError("Use a new Idempotency-Key for a different request.")
        if row.status_code is not None:
            return Claim(row.resource_id, row.status_code, row.response)
        if row.locked_until > now:
            return Claim(resource_id=row.resource_id, held=True)
        await session.execute(
            update(self.table)
            .where(*self._where(caller, key))
            .values(locked_until=now + self.lease)
        )
        return Claim(resource_id=row.resource_id)

    async def lookup_in(
        self, session: AsyncSession, caller: Principal, key: str, fingerprint: str
    ) -> Claim | None:
        """The key's record as the caller's transaction sees it, without taking it."""
        result = await session.execute(self._record, {**_scope(caller), "key": key})
        row = result.one_or_none()
        if row is None:
            return None
        if row.fingerprint != fingerprint:
            raise IdempotencyKeyReusedError("Use a new Idempotency-Key for a different request.")
        return Claim(row.resource_id, row.status_code, row.response, held=row.status_code is None)

    async def record_in(
        self,
        session: AsyncSession,
        caller: Principal,
        key: str,
        *,
        fingerprint: str,
        resource_id: str,
        status_code: int,
        response: Any,
        claimed: bool,
    ) -> bool:
        """Store the response in the caller's transaction: on the claim, or as a new record.
        False if another request recorded the key's response first (the caller rolls back
        and answers with that one)."""
        if claimed:
            return await self.complete_in(session, caller, key, status_code, response)
        now = utcnow()
        return await self._insert_new(
            session,
            **_scope(caller),
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
        caller: Principal,
        key: str,
        fingerprint: str,
        resource_id: str,
        status_code: int,
        problem: Any,
    ) -> None:
        """Store a 4xx answer, on the request's claim or (if it had none) as a new record."""
        async with self.sessionmaker() as session, session.begin():
            if not await self.complete_in(session, caller, key, status_code, problem):
                now = utcnow()
                await self._insert_new(
                    session,
                    **_scope(caller),
                    key=key,
                    fingerprint=fingerprint,
                    resource_id=resource_id,
                    status_code=status_code,
                    response=problem,
                    created_at=now,
                    locked_until=now,
                )

    async def complete(self, caller: Principal, key: str, status_code: int, response: Any) -> bool:
        """Store the response that every later request with this key gets (see
        `complete_in`)."""
        async with self.sessionmaker() as session, session.begin():
            return await self.complete_in(session, caller, key, status_code, response)

    async def complete_in(
        self, session: AsyncSession, caller: Principal, key: str, status_code: int, response: Any
    ) -> bool:
        """`complete` inside the caller's transaction (with the work's own rows). The first
        response stored stays: False if the key has one already (a request that took over
        a claim, or reported on its work, answered first)."""
        c = self.table.c
        result = await session.execute(
            update(self.table)
            .where(*self._where(caller, key), c.status_code.is_(None))
            .values(status_code=status_code, response=response)
        )
        return rowcount(result) == 1

    async def lock_in(self, session: AsyncSession, caller: Principal, key: str) -> None:
        """Lock the key's record in the caller's transaction (see `Attempt.lock`)."""
        await session.execute(
            select(self.table.c.key).where(*self._where(caller, key)).with_for_update()
        )

    async def rebind_in(
        self, session: AsyncSession, caller: Principal, key: str, resource_id: str
    ) -> None:
        """Point an unfinished claim at another resource, in the caller's transaction: the
        work went on with an existing resource (a payment already under way), and a retry
        that takes the claim over must find that one."""
        c = self.table.c
        await session.execute(
            update(self.table)
            .where(*self._where(caller, key), c.status_code.is_(None))
            .values(resource_id=resource_id)
        )

    async def release(self, caller: Principal, key: str, *, resource_id: str | None = None) -> None:
        """End an unfinished claim's lease now (the work failed in a way worth retrying): a
        retry takes it over at once, with its `resource_id`, so it resumes what this request
        began (a payment already under way) instead of starting afresh; the key stays bound
        to its request. With `resource_id`, only the claim made for that resource."""
        c = self.table.c
        query = (
            update(self.table)
            .where(*self._where(caller, key), c.status_code.is_(None))
            .values(locked_until=utcnow())
        )
        if resource_id is not None:
            query = query.where(c.resource_id == resource_id)
        async with self.sessionmaker() as session, session.begin():
            await session.execute(query)

    def _where(self, caller: Principal, key: str) -> tuple[ColumnElement[bool], ...]:
        c = self.table.c
        return (c.role == caller.role.value, c.principal == caller.sub, c.key == key)

    async def _insert_new(self, session: AsyncSession, **values: Any) -> bool:
        """Insert a record unless the key has one (never an error that aborts the
        transaction); True if this inserted it."""
        statement = self._insert_new_by_dialect[session.get_bind().dialect.name]
        return rowcount(await session.execute(statement, values)) == 1


def _scope(caller: Principal) -> dict[str, str]:
    """The record's columns that name its caller."""
    return {"role": caller.role.value, "principal": caller.sub}


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
        caller: Principal,
        key: str | None,
        fingerprint: str,
        resource_id: str,
        render: Callable[[T], BaseModel],
        status_code: int | Callable[[Any], int],
    ) -> None:
        self._store = store
        self._caller = caller
        self._key = key
        self._fingerprint = fingerprint
        self._render = render
        self._status_code = status_code
        self.resource_id = resource_id
        self.claimed = False
        self.taken_over = False
        self.held = False
        self.response: tuple[int, Any] | None = None

    @property
    def keyed(self) -> bool:
        """Whether the request came with an `Idempotency-Key`."""
        return self._store is not None and self._key is not None

    @property
    def resuming(self) -> bool:
        """Whether an earlier request with this key began the work (`resource_id` is its):
        it holds the key now (`held`), or it died and this one took the key over."""
        return self.held or self.taken_over

    async def claim(self, session: AsyncSession, *, wait: bool = True) -> None:
        """First thing in the work's first transaction: claim the key (see the class).

        With `wait=False`, a key another request holds does not send this one waiting at
        once: `held` is set and `resource_id` is the holder's, for work that can report
        what the holder achieved (say, its payment settled meanwhile); such work calls
        `wait` when it can't, and never does the work itself while `held`.
        """
        if self._store is None or self._key is None:
            return
        claim = await self._store.claim_in(
            session, self._caller, self._key, self._fingerprint, self.resource_id
        )
        if claim.replay:
            raise Replay(claim)
        if claim.held and wait:
            raise _Busy
        # A dead claim taken over keeps its resource id: the work resumes what it began.
        self.held = claim.held
        self.taken_over = not claim.held and claim.resource_id != self.resource_id
        self.resource_id = claim.resource_id
        self.claimed = not claim.held

    def wait(self) -> None:
        """Give up this try while another request holds the key: `idempotent_call` tries
        again shortly (and answers 409 `idempotency_request_in_progress` past its wait)."""
        raise _Busy

    async def rebind(self, session: AsyncSession, resource_id: str) -> None:
        """In the work's first transaction: the work goes on with an existing resource
        instead of `resource_id` (see `IdempotencyStore.rebind_in`)."""
        if self._store is not None and self._key is not None and self.claimed:
            await self._store.rebind_in(session, self._caller, self._key, resource_id)
        self.resource_id = resource_id

    async def lock(self, session: AsyncSession) -> None:
        """First thing in a transaction that locks the work's rows and then completes the
        key: lock the key's record before them. `claim` locks the record first and the
        work's rows after it; a last transaction that took them the other way round could
        deadlock with a retry's first one."""
        if self._store is not None and self._key is not None and (self.claimed or self.held):
            await self._store.lock_in(session, self._caller, self._key)

    async def check(self, session: AsyncSession) -> None:
        """First thing in the work's first transaction: replay a stored response, if any."""
        if self._store is None or self._key is None:
            return
        claim = await self._store.lookup_in(session, self._caller, self._key, self._fingerprint)
        if claim is None:
            return
        if not claim.replay:
            raise _Busy
        raise Replay(claim)

    async def complete(self, session: AsyncSession, result: T) -> None:
        """In the work's last transaction: store the response that every retry gets.

        If another request stored the key's response first, this transaction is rolled
        back and that response is answered instead.
        """
        status, body = self.respond(result)
        if self._store is None or self._key is None:
            return
        stored = await self._store.record_in(
            session,
            self._caller,
            self._key,
            fingerprint=self._fingerprint,
            resource_id=self.resource_id,
            status_code=status,
            response=body,
            claimed=self.claimed or self.held,
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
        """Let a retry take this attempt's unfinished claim over at once (its work failed in
        a way worth retrying)."""
        if self._store is not None and self._key is not None and self.claimed:
            await self._store.release(self._caller, self._key, resource_id=self.resource_id)


async def idempotent_call(
    store: IdempotencyStore,
    *,
    caller: Principal,
    key: str | None,
    request: tuple[str, str, Any],
    new_resource_id: str,
    status_code: int | Callable[[Any], int],
    render: Callable[[T], BaseModel],
    work: Callable[[Attempt[T]], Awaitable[T]],
) -> Response:
    """Run `work(attempt)` at most once per `(caller, key)` and answer alike each time.

    The work claims or checks the key in its first transaction and completes it in its last
    (see `Attempt`). `caller` scopes the key (its role and `sub`). `request` is `(method,
    path, body)`; it tells a retry from a reuse of the key. A 4xx problem is stored and
    replayed like a success; a 5xx (say, an upstream service down) releases the key, so a
    retry takes it over at once and resumes the work. `status_code` may be a function of
    the rendered result, for work that answers 200 or 202 depending on what happened.
    """
    digest = fingerprint(*request)
    deadline = asyncio.get_running_loop().time() + store.wait_seconds
    delay = 0.02
    while True:
        attempt = Attempt(
            store,
            caller=caller,
            key=key,
            fingerprint=digest,
            resource_id=new_resource_id,
            render=render,
            status_code=status_code,
        )
        try:
            result = await work(attempt)
            if attempt.response is None and key is not None:
                # The work did not complete the key in a transaction of its own.
                async with store.sessionmaker() as session, session.begin():
                    await attempt.complete(session, result)
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
            # A request that only looked at another's claim (`held`) stores nothing on it.
            if key is not None and 400 <= exc.status < 500 and not attempt.held:
                problem = exc.to_problem(current_request_id())
                await store.record_problem(
                    caller, key, digest, attempt.resource_id, exc.status, problem
                )
            else:
                await attempt.release()
            raise
        except BaseException:
            await attempt.release()
            raise
    if attempt.response is None:
        attempt.respond(result)
    assert attempt.response is not None
    status, body = attempt.response
    return JSONResponse(body, status_code=status)


async def idempotent_response(
    store: IdempotencyStore,
    *,
    caller: Principal,
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
        caller=caller,
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
