"""The transactional outbox on a real database (the review service's, built by its migrations)."""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import select, update

from services.review.db.models import Base, outbox
from shared.clock import utcnow
from shared.db import Database
from shared.http import UpstreamProblem
from shared.observability import Metrics
from shared.outbox import Outbox, PermanentFailure, list_entries, retry_entry
from tests.conftest import empty_tables


@pytest.fixture
async def db(database_url: Callable[[str], str]) -> AsyncIterator[Database]:
    database = Database(database_url("review"))
    await empty_tables(database, Base.metadata)
    yield database
    await database.dispose()


class Recorder:
    """A handler that records deliveries and fails while told to."""

    def __init__(self) -> None:
        self.delivered: list[dict[str, Any]] = []
        self.failures_left = 0
        self.permanent = False
        self.refusal: int | None = None  # the receiver's status, if it refuses
        self.delay = 0.0

    async def __call__(self, payload: dict[str, Any]) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.permanent:
            raise PermanentFailure("refused")
        if self.refusal is not None:
            problem = {"code": "validation_error", "detail": "reason: bad character"}
            raise UpstreamProblem("license", self.refusal, problem)
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionError("down")
        self.delivered.append(payload)


def relay(db: Database, handler: Recorder, **options: Any) -> Outbox:
    options.setdefault("claim_grace_seconds", 0)
    box = Outbox(outbox, db.sessionmaker, base_delay_seconds=0, **options)
    box.register("t", handler)
    return box


async def add(box: Outbox, db: Database, n: int = 1) -> list[str]:
    async with db.sessionmaker() as session, session.begin():
        return [await box.add(session, "t", {"n": i}) for i in range(n)]


async def make_due(db: Database) -> None:
    async with db.sessionmaker() as session, session.begin():
        await session.execute(update(outbox).values(available_at=utcnow()))


async def test_entry_added_in_a_rolled_back_transaction_is_never_delivered(db: Database) -> None:
    handler = Recorder()
    box = relay(db, handler)

    async def failing_use_case() -> None:
        async with db.sessionmaker() as session, session.begin():
            await box.add(session, "t", {"n": 1})
            raise RuntimeError("the use case failed")

    with pytest.raises(RuntimeError):
        await failing_use_case()

    assert await box.run_once() == 0
    assert handler.delivered == []


async def test_a_topic_is_delivered_by_the_handler_registered_for_it(db: Database) -> None:
    box = relay(db, Recorder())
    other = Recorder()
    box.register("u", other)

    async with db.sessionmaker() as session, session.begin():
        entry = await box.add(session, "u", {"n": 1})
        with pytest.raises(ValueError, match="no outbox handler"):
            await box.add(session, "unregistered", {})
    with pytest.raises(ValueError, match="registered already"):
        box.register("u", Recorder())

    assert await box.deliver_now(entry) is True
    assert other.delivered == [{"n": 1}]


async def test_deliver_now_delivers_once(db: Database) -> None:
    handler = Recorder()
    box = relay(db, handler)
    [entry] = await add(box, db)

    assert await box.deliver_now(entry) is True
    assert await box.deliver_now(entry) is True
    assert await box.run_once() == 0
    assert handler.delivered == [{"n": 0}]


async def test_failed_delivery_is_retried_with_backoff(db: Database) -> None:
    handler = Recorder()
    handler.failures_left = 2
    box = relay(db, handler)
    box.base_delay = 60
    [entry] = await add(box, db)

    assert await box.deliver_now(entry) is False
    assert await box.run_once() == 0  # backing off: not due yet
    for _ in range(2):
        await make_due(db)
        await box.run_once()

    assert handler.delivered == [{"n": 0}]
    async with db.sessionmaker() as session:
        attempts = (await session.execute(select(outbox.c.attempts))).scalar_one()
    assert attempts == 3


async def test_permanent_failure_is_set_aside(db: Database) -> None:
    handler = Recorder()
    handler.permanent = True
    box = relay(db, handler)
    await add(box, db)

    await box.run_once()
    await make_due(db)

    assert await box.run_once() == 0
    assert await box.pending_count() == 0
    async with db.sessionmaker() as session:
        failed_at = (await session.execute(select(outbox.c.failed_at))).scalar_one()
    assert failed_at is not None


async def test_two_relays_never_deliver_the_same_entry(db: Database) -> None:
    handler = Recorder()
    handler.delay = 0.01
    first, second = relay(db, handler, batch_size=5), relay(db, handler, batch_size=5)
    await add(first, db, 40)

    while await first.pending_count():
        await asyncio.gather(first.run_once(), second.run_once())

    assert sorted(p["n"] for p in handler.delivered) == list(range(40))


async def test_a_claim_whose_relay_died_is_delivered_after_the_lease(db: Database) -> None:
    handler = Recorder()
    box = relay(db, handler, lease_seconds=60)
    await add(box, db)
    claimed = await box._claim()  # a relay claims, then dies before delivering
    assert len(claimed) == 1

    assert await box.run_once() == 0  # leased: nobody else takes it yet
    await make_due(db)  # the lease runs out
    assert await box.run_once() == 1
    assert handler.delivered == [{"n": 0}]


async def test_background_loop_delivers_after_wake(db: Database) -> None:
    handler = Recorder()
    box = relay(db, handler, poll_seconds=30)
    box.start()
    try:
        await add(box, db)
        box.wake()
        for _ in range(1000):  # up to 10 s: a loaded CI machine may be slow to schedule it
            if handler.delivered:
                break
            await asyncio.sleep(0.01)
    finally:
        await box.stop()
    assert handler.delivered == [{"n": 0}]


async def test_a_new_entry_is_left_to_its_caller_for_the_grace_period(db: Database) -> None:
    handler = Recorder()
    box = relay(db, handler, claim_grace_seconds=60)
    [entry] = await add(box, db)

    assert await box.run_once() == 0  # the relay leaves it to the caller...
    assert await box.deliver_now(entry) is True  # ...who delivers it
    assert handler.delivered == [{"n": 0}]


async def test_an_entry_its_caller_never_delivered_is_taken_after_the_grace(db: Database) -> None:
    handler = Recorder()
    box = relay(db, handler, claim_grace_seconds=60)
    await add(box, db)  # the caller dies before deliver_now

    await make_due(db)  # the grace runs out

    assert await box.run_once() == 1
    assert handler.delivered == [{"n": 0}]


async def failed_entries(db: Database) -> list[Any]:
    async with db.sessionmaker() as session, session.begin():
        return await list_entries(session, outbox, failed_only=True)


async def test_a_receivers_refusal_for_good_is_kept_logged_and_counted(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    handler = Recorder()
    handler.refusal = 422
    metrics = Metrics()
    box = relay(db, handler, metrics=metrics)
    [entry] = await add(box, db)

    with caplog.at_level(logging.ERROR, logger="market.outbox"):
        assert await box.deliver_now(entry) is False

    [failed] = await failed_entries(db)
    assert (failed.id, failed.state, failed.attempts) == (entry, "failed", 1)
    assert "license answered 422 validation_error: reason: bad character" in str(failed.last_error)
    [record] = [r for r in caplog.records if r.name == "market.outbox"]
    assert record.levelno == logging.ERROR
    assert (record.entry, record.topic) == (entry, "t")  # type: ignore[attr-defined]
    assert metrics.registry.get_sample_value("outbox_entries_failed_total", {"topic": "t"}) == 1
    await box.observe()
    assert metrics.registry.get_sample_value("outbox_failed_entries", {"topic": "t"}) == 1
    assert metrics.registry.get_sample_value("outbox_pending_entries", {"topic": "t"}) == 0


@pytest.mark.parametrize("status", [401, 403, 408, 425, 429])
async def test_a_refusal_that_means_later_is_retried(db: Database, status: int) -> None:
    handler = Recorder()
    handler.refusal = status
    box = relay(db, handler)
    [entry] = await add(box, db)

    assert await box.deliver_now(entry) is False

    assert await failed_entries(db) == []
    assert await box.pending_count() == 1
    handler.refusal = None
    await make_due(db)
    assert await box.run_once() == 1
    assert handler.delivered == [{"n": 0}]


async def test_an_entry_out_of_attempts_is_failed_and_counted(db: Database) -> None:
    handler = Recorder()
    handler.failures_left = 5
    metrics = Metrics()
    box = relay(db, handler, max_attempts=2, metrics=metrics)
    [entry] = await add(box, db)

    await box.deliver_now(entry)
    await make_due(db)
    await box.run_once()

    [failed] = await failed_entries(db)
    assert failed.last_error.startswith("gave up after 2 attempts: ConnectionError")
    assert metrics.registry.get_sample_value("outbox_entries_failed_total", {"topic": "t"}) == 1


async def test_a_failed_entry_retried_is_delivered_by_the_relay(db: Database) -> None:
    handler = Recorder()
    handler.refusal = 422
    box = relay(db, handler)
    [entry] = await add(box, db)
    await box.deliver_now(entry)
    handler.refusal = None  # the operator fixed the cause

    async with db.sessionmaker() as session, session.begin():
        retried = await retry_entry(session, outbox, entry)

    assert retried is not None
    assert (retried.state, retried.attempts) == ("pending", 0)
    assert await failed_entries(db) == []
    assert await box.run_once() == 1
    assert handler.delivered == [{"n": 0}]
    async with db.sessionmaker() as session, session.begin():
        assert await list_entries(session, outbox) == []
        delivered = await retry_entry(session, outbox, entry)
    assert delivered is not None
    assert delivered.state == "delivered"
