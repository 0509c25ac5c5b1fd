"""The transactional outbox: effects on other services that must follow a local commit.

A use case adds an entry in the same transaction as its own rows (`Outbox.add`), so either
both are committed or neither is. A relay then delivers entries with retries and exponential
backoff; receivers are idempotent, so a delivery repeated after a crash is harmless.

Delivery never holds a database transaction across an HTTP call. An entry is *claimed* in a
short transaction that pushes its `available_at` one lease into the future (on PostgreSQL the
claim query uses `FOR UPDATE SKIP LOCKED`, so several replicas never claim the same entry;
on SQLite the write lock serialises claims). The HTTP call happens after that commit, and a
second short transaction records the outcome. If the process dies mid-delivery, the lease
runs out and another relay (or this one, restarted) delivers again.

A use case usually delivers its entry itself right after the commit (`deliver_now`), so its
answer can say whether the effect has landed. A new entry is therefore left to that caller
for `claim_grace_seconds` before the relay takes it: the relay is for what the caller could
not deliver (the receiver was down, the process died).

Nothing is lost silently. A receiver that refuses an entry for good (a 4xx other than those
that say "later" or "not you": 401, 403, 408, 425, 429), or a handler that raises
`PermanentFailure`, sets the entry aside as *failed*: it is logged at error level, counted
in `/metrics` (`outbox_entries_failed_total`, and the gauge `outbox_failed_entries` of those
still waiting), and kept, so an operator can list it and, once the cause is fixed, make it
due again (`list_entries`, `retry_entry`; the `market outbox` commands). Anything else
(unreachable, 5xx, 401/403, 429...) is retried with backoff, up to `max_attempts`.
"""

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.clock import utcnow
from shared.db import JSONDocument, UTCDateTime
from shared.http import UpstreamProblem
from shared.ids import new_id
from shared.observability import Metrics

log = logging.getLogger("market.outbox")


def outbox_table(metadata: MetaData) -> Table:
    """The `outbox` table, defined in the metadata of the service that owns it."""
    return Table(
        "outbox",
        metadata,
        Column("id", String(40), primary_key=True),
        Column("topic", String(100), nullable=False),
        Column("payload", JSONDocument, nullable=False),
        Column("created_at", UTCDateTime, nullable=False),
        Column("available_at", UTCDateTime, nullable=False),
        Column("attempts", Integer, nullable=False, default=0),
        Column("last_error", Text),
        Column("delivered_at", UTCDateTime),
        Column("failed_at", UTCDateTime),
        Index("ix_outbox_pending", "delivered_at", "failed_at", "available_at"),
    )


class PermanentFailure(Exception):
    """Raised by a handler when retrying can't help: the entry is set aside as failed."""


# Refusals that say "not now" (408, 425, 429) or "not you" (401, 403: this service's
# credentials, which a key rotation or an operator fixes) rather than "never this entry".
RETRYABLE_REFUSALS = frozenset({401, 403, 408, 425, 429})


def is_permanent(problem: UpstreamProblem) -> bool:
    """Whether a receiver's refusal is for good: retrying the same entry can't help."""
    return problem.upstream_status not in RETRYABLE_REFUSALS


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    topic: str
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True, slots=True)
class EntryView:
    """An entry as an operator sees it (`market outbox list`)."""

    id: str
    topic: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime
    available_at: datetime
    delivered_at: datetime | None
    failed_at: datetime | None
    last_error: str | None

    @property
    def state(self) -> str:
        """`delivered`, `failed` or `pending`."""
        if self.delivered_at is not None:
            return "delivered"
        return "failed" if self.failed_at is not None else "pending"


Handler = Callable[[dict[str, Any]], Awaitable[None]]


class Outbox:
    """Adds entries (inside a use case's transaction) and delivers them (outside any)."""

    def __init__(
        self,
        table: Table,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        lease_seconds: float = 30.0,
        base_delay_seconds: float = 0.5,
        max_delay_seconds: float = 60.0,
        max_attempts: int = 1000,
        poll_seconds: float = 1.0,
        batch_size: int = 20,
        claim_grace_seconds: float = 5.0,
        metrics: Metrics | None = None,
    ) -> None:
        self.table = table
        self.sessionmaker = sessionmaker
        self._handlers: dict[str, Handler] = {}
        self.lease = timedelta(seconds=lease_seconds)
        self.base_delay = base_delay_seconds
        self.max_delay = max_delay_seconds
        self.max_attempts = max_attempts
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.claim_grace = timedelta(seconds=claim_grace_seconds)
        self.metrics = metrics
        self._insert = insert(table)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def register(self, topic: str, handler: Handler) -> None:
        """Deliver entries of `topic` with `handler`; every topic is registered once, before
        the relay starts (an entry added for an unregistered topic is refused)."""
        if topic in self._handlers:
            raise ValueError(f"outbox topic {topic!r} is registered already")
        self._handlers[topic] = handler

    async def add(
        self,
        session: AsyncSession,
        topic: str,
        payload: dict[str, Any],
        *,
        delay_seconds: float | None = None,
    ) -> str:
        """Add an entry in the caller's open transaction; returns its id.

        With `delay_seconds` the relay delivers it once that much time has passed; without,
        the caller is expected to `deliver_now` and the relay waits out the claim grace.
        """
        if topic not in self._handlers:
            raise ValueError(f"no outbox handler for {topic!r}")
        entry_id = new_id("obx")
        now = utcnow()
        await session.execute(
            self._insert,
            {
                "id": entry_id,
                "topic": topic,
                "payload": payload,
                "created_at": now,
                "available_at": now
                + (self.claim_grace if delay_seconds is None else timedelta(seconds=delay_seconds)),
                "attempts": 0,
            },
        )
        return entry_id

    async def discard(self, session: AsyncSession, entry_id: str) -> None:
        """Drop an entry that became pointless, in the caller's open transaction (a resume
        of work that has just finished)."""
        await session.execute(delete(self.table).where(self.table.c.id == entry_id))

    def wake(self) -> None:
        """Tell the relay that entries were just committed."""
        self._wake.set()

    async def deliver_now(self, entry_id: str) -> bool:
        """Try to deliver one entry at once (after its commit); True if it is delivered.

        An entry another relay holds, or one that fails now, is left to the relay.
        """
        entries = await self._claim(entry_id=entry_id)
        if not entries:
            return await self.is_delivered(entry_id)
        return await self._deliver(entries[0])

    async def is_delivered(self, entry_id: str) -> bool:
        async with self.sessionmaker() as session, session.begin():
            result = await session.execute(
                select(self.table.c.delivered_at).where(self.table.c.id == entry_id)
            )
            return result.scalar_one_or_none() is not None

    async def run_once(self) -> int:
        """Claim and deliver one batch of due entries; returns how many were claimed."""
        entries = await self._claim()
        for entry in entries:
            await self._deliver(entry)
        return len(entries)

    async def pending_count(self) -> int:
        """Entries not yet delivered nor set aside (for tests and metrics)."""
        c = self.table.c
        async with self.sessionmaker() as session, session.begin():
            result = await session.execute(
                select(func.count())
                .select_from(self.table)
                .where(c.delivered_at.is_(None), c.failed_at.is_(None))
            )
            return int(result.scalar_one())

    async def observe(self) -> None:
        """Set the gauges of pending and failed entries per topic (before a metrics scrape)."""
        if self.metrics is None:
            return
        c = self.table.c
        async with self.sessionmaker() as session, session.begin():
            rows = (
                await session.execute(
                    select(c.topic, c.failed_at.is_not(None), func.count())
                    .where(c.delivered_at.is_(None))
                    .group_by(c.topic, c.failed_at.is_not(None))
                )
            ).all()
        counts = {(topic, bool(failed)): int(n) for topic, failed, n in rows}
        for topic in {*self._handlers, *(topic for topic, _ in counts)}:
            self.metrics.outbox_failed.labels(topic).set(counts.get((topic, True), 0))
            self.metrics.outbox_pending.labels(topic).set(counts.get((topic, False), 0))

    def start(self) -> None:
        """Run the relay loop in the background (called from an app's lifespan)."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                claimed = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay pass failed")
                claimed = 0
            if claimed < self.batch_size:
                self._wake.clear()
                # `asyncio.timeout`, not `wait_for`: on 3.11 `wait_for` swallows a cancellation
                # that lands as the event fires, and `stop` would then wait forever.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_seconds):
                        await self._wake.wait()

    async def _claim(self, entry_id: str | None = None) -> Sequence[Entry]:
        c = self.table.c
        now = utcnow()
        # The caller of deliver_now may take its own entry before it is due, if never tried.
        ready = (
            c.available_at <= now
            if entry_id is None
            else (c.available_at <= now) | (c.attempts == 0)
        )
        due = (
            select(c.id, c.topic, c.payload, c.attempts)
            .where(c.delivered_at.is_(None), c.failed_at.is_(None), ready)
            .order_by(c.available_at)
            .limit(1 if entry_id else self.batch_size)
            .with_for_update(skip_locked=True)
        )
        if entry_id is not None:
            due = due.where(c.id == entry_id)
        async with self.sessionmaker() as session, session.begin():
            rows = (await session.execute(due)).all()
            if not rows:
                return []
            await session.execute(
                update(self.table)
                .where(c.id.in_([r.id for r in rows]))
                .values(available_at=now + self.lease, attempts=c.attempts + 1)
            )
        return [Entry(r.id, r.topic, dict(r.payload), r.attempts + 1) for r in rows]

    async def _deliver(self, entry: Entry) -> bool:
        try:
            await self._handlers[entry.topic](entry.payload)
        except PermanentFailure as exc:
            await self._fail(entry, str(exc))
            return False
        except UpstreamProblem as exc:
            if is_permanent(exc):
                await self._fail(entry, _refusal(exc))
                return False
            await self._retry_later(entry, _refusal(exc))
            return False
        except Exception as exc:
            await self._retry_later(entry, f"{type(exc).__name__}: {exc}")
            return False
        await self._record(entry.id, delivered_at=utcnow(), last_error=None)
        return True

    async def _fail(self, entry: Entry, error: str) -> None:
        """Set the entry aside for an operator: logged, counted, kept (see the docstring)."""
        log.error(
            "outbox entry failed for good; `market outbox retry` once the cause is fixed",
            extra={
                "entry": entry.id,
                "topic": entry.topic,
                "attempts": entry.attempts,
                "error": error,
            },
        )
        if self.metrics is not None:
            self.metrics.outbox_failed_total.labels(entry.topic).inc()
        await self._record(entry.id, failed_at=utcnow(), last_error=error[:2000])

    async def _retry_later(self, entry: Entry, error: str) -> None:
        if entry.attempts >= self.max_attempts:
            await self._fail(entry, f"gave up after {entry.attempts} attempts: {error}")
            return
        delay = self._delay(entry.attempts)
        log.warning(
            "outbox delivery failed; will retry",
            extra={
                "entry": entry.id,
                "topic": entry.topic,
                "retry_in": round(delay, 2),
                "error": error,
            },
        )
        await self._record(
            entry.id,
            available_at=utcnow() + timedelta(seconds=delay),
            last_error=error[:2000],
        )

    async def _record(self, entry_id: str, **values: Any) -> None:
        async with self.sessionmaker() as session, session.begin():
            await session.execute(
                update(self.table).where(self.table.c.id == entry_id).values(**values)
            )

    def _delay(self, attempts: int) -> float:
        delay: float = min(self.max_delay, self.base_delay * 2 ** max(attempts - 1, 0))
        return delay * random.uniform(0.8, 1.2)  # noqa: S311 (jitter, not security)


def _refusal(problem: UpstreamProblem) -> str:
    """What a receiver's refusal said, for the entry's `last_error` and the log."""
    detail = f": {problem.upstream_detail}" if problem.upstream_detail else ""
    errors = "; ".join(f"{'/'.join(map(str, e.loc))}: {e.msg}" for e in problem.upstream_errors)
    return f"{problem}{detail}" + (f" ({errors})" if errors else "")


# -- operating on entries (`market outbox`) ----------------------------------------------


async def list_entries(
    session: AsyncSession, table: Table, *, failed_only: bool = False, limit: int = 100
) -> list[EntryView]:
    """Entries not delivered yet (only the failed ones with `failed_only`), oldest first."""
    c = table.c
    query = select(table).where(c.delivered_at.is_(None))
    if failed_only:
        query = query.where(c.failed_at.is_not(None))
    rows = (await session.execute(query.order_by(c.created_at, c.id).limit(limit))).all()
    return [_view(row) for row in rows]


async def get_entry(session: AsyncSession, table: Table, entry_id: str) -> EntryView | None:
    """One entry, whatever its state."""
    row = (await session.execute(select(table).where(table.c.id == entry_id))).first()
    return _view(row) if row is not None else None


async def retry_entry(session: AsyncSession, table: Table, entry_id: str) -> EntryView | None:
    """Make an undelivered entry due now with its attempts reset (a failed one leaves the
    failed state); the running relay delivers it on its next pass. None if there is no such
    entry; a delivered entry is returned unchanged."""
    entry = await get_entry(session, table, entry_id)
    if entry is None or entry.delivered_at is not None:
        return entry
    await session.execute(
        update(table)
        .where(table.c.id == entry_id, table.c.delivered_at.is_(None))
        .values(failed_at=None, attempts=0, available_at=utcnow())
    )
    return await get_entry(session, table, entry_id)


def _view(row: Any) -> EntryView:
    return EntryView(
        id=row.id,
        topic=row.topic,
        payload=dict(row.payload),
        attempts=row.attempts,
        created_at=row.created_at,
        available_at=row.available_at,
        delivered_at=row.delivered_at,
        failed_at=row.failed_at,
        last_error=row.last_error,
    )
