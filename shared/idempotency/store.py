"""The `idempotency_records` table and its queries.

Every query runs in a transaction its caller opened: the claim in the work's first
transaction, the response in its last, so a keyed request costs no transaction of its own
(see `shared.idempotency`).
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

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
from shared.problems import ConflictError, ValidationProblem


class IdempotencyKeyReusedError(ValidationProblem):
    code = "idempotency_key_reused"
    title = "This Idempotency-Key was used for another request"


class IdempotencyInProgressError(ConflictError):
    code = "idempotency_request_in_progress"
    title = "A request with this Idempotency-Key is still being processed"


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

    Each method works in the transaction of the session it is given.
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
        self,
        session: AsyncSession,
        caller: Principal,
        key: str,
        fingerprint: str,
        new_resource_id: str,
    ) -> Claim:
        """Claim `key` for this request: a claim to go ahead with (a dead one taken over
        keeps its `resource_id`), the stored response, or (`held`) the `resource_id` of the
        request that holds the key now."""
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

    async def lookup(
        self, session: AsyncSession, caller: Principal, key: str, fingerprint: str
    ) -> Claim | None:
        """The key's record as the transaction sees it, without taking it."""
        result = await session.execute(self._record, {**_scope(caller), "key": key})
        row = result.one_or_none()
        if row is None:
            return None
        if row.fingerprint != fingerprint:
            raise IdempotencyKeyReusedError("Use a new Idempotency-Key for a different request.")
        return Claim(row.resource_id, row.status_code, row.response, held=row.status_code is None)

    async def record(
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
        """Store the response that every later request with this key gets: on the key's
        unfinished claim if the request `claimed` it (or looked at another's), else as a new
        record. The first response stored stays: False if the key has one already (a
        concurrent duplicate, a request that took over a claim or reported on its work,
        answered first; the caller rolls back and answers with that one), or if `claimed`
        and there is no unfinished claim."""
        if claimed:
            c = self.table.c
            result = await session.execute(
                update(self.table)
                .where(*self._where(caller, key), c.status_code.is_(None))
                .values(status_code=status_code, response=response)
            )
            return _rowcount(result) == 1
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

    async def lock(self, session: AsyncSession, caller: Principal, key: str) -> None:
        """Lock the key's record (see `Attempt.lock`)."""
        await session.execute(
            select(self.table.c.key).where(*self._where(caller, key)).with_for_update()
        )

    async def rebind(
        self, session: AsyncSession, caller: Principal, key: str, resource_id: str
    ) -> None:
        """Point an unfinished claim at another resource: the work went on with an existing
        resource (a payment already under way), and a retry that takes the claim over must
        find that one."""
        c = self.table.c
        await session.execute(
            update(self.table)
            .where(*self._where(caller, key), c.status_code.is_(None))
            .values(resource_id=resource_id)
        )

    async def release(
        self, session: AsyncSession, caller: Principal, key: str, *, resource_id: str
    ) -> None:
        """End the lease of the unfinished claim made for `resource_id` now (the work failed
        in a way worth retrying): a retry takes it over at once, with its `resource_id`, so
        it resumes what this request began (a payment already under way) instead of starting
        afresh; the key stays bound to its request."""
        c = self.table.c
        await session.execute(
            update(self.table)
            .where(
                *self._where(caller, key),
                c.status_code.is_(None),
                c.resource_id == resource_id,
            )
            .values(locked_until=utcnow())
        )

    def _where(self, caller: Principal, key: str) -> tuple[ColumnElement[bool], ...]:
        c = self.table.c
        return (c.role == caller.role.value, c.principal == caller.sub, c.key == key)

    async def _insert_new(self, session: AsyncSession, **values: Any) -> bool:
        """Insert a record unless the key has one (never an error that aborts the
        transaction); True if this inserted it."""
        statement = self._insert_new_by_dialect[session.get_bind().dialect.name]
        return _rowcount(await session.execute(statement, values)) == 1


def _scope(caller: Principal) -> dict[str, str]:
    """The record's columns that name its caller."""
    return {"role": caller.role.value, "principal": caller.sub}


def _rowcount(result: Result[Any]) -> int:
    """Rows an INSERT, UPDATE or DELETE touched."""
    assert isinstance(result, CursorResult)
    return result.rowcount
