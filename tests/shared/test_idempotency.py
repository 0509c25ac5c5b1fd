"""Idempotency keys on a real database (the review service's, built by its migrations)."""

import asyncio
import json
from collections.abc import AsyncIterator, Callable

import pytest
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import insert, select, update

from services.review.db.models import Base, idempotency_records, outbox
from shared.auth import Principal, Role
from shared.clock import utcnow
from shared.db import Database
from shared.idempotency import (
    Attempt,
    Claim,
    IdempotencyInProgressError,
    IdempotencyKeyReusedError,
    IdempotencyStore,
    fingerprint,
    idempotent_call,
    idempotent_response,
)
from shared.problems import ConflictError, ServiceUnavailableError
from tests.conftest import empty_tables

ACME = Principal(sub="acme", role=Role.partner)


class Made(BaseModel):
    id: str


@pytest.fixture
async def store(database_url: Callable[[str], str]) -> AsyncIterator[IdempotencyStore]:
    database = Database(database_url("review"))
    await empty_tables(database, Base.metadata)
    yield IdempotencyStore(idempotency_records, database.sessionmaker, wait_seconds=2)
    await database.dispose()


class Counter:
    def __init__(self, delay: float = 0.0) -> None:
        self.calls = 0
        self.delay = delay

    async def __call__(self, resource_id: str) -> Made:
        self.calls += 1
        await asyncio.sleep(self.delay)
        return Made(id=resource_id)


async def call(
    store: IdempotencyStore,
    work: Callable[[str], object],
    *,
    key: str | None = "k",
    body: object = None,
    new_id: str = "res_1",
    caller: Principal = ACME,
) -> Response:
    return await idempotent_response(
        store,
        caller=caller,
        key=key,
        request=("POST", "/v1/things", body or {"a": 1}),
        new_resource_id=new_id,
        status_code=201,
        work=work,  # type: ignore[arg-type]
    )


async def test_same_key_and_body_replays_the_first_response(store: IdempotencyStore) -> None:
    work = Counter()

    first = await call(store, work, new_id="res_1")
    second = await call(store, work, new_id="res_2")

    assert work.calls == 1
    assert first.body == second.body == b'{"id":"res_1"}'
    assert second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"


async def test_same_key_other_body_is_refused(store: IdempotencyStore) -> None:
    await call(store, Counter())

    with pytest.raises(IdempotencyKeyReusedError):
        await call(store, Counter(), body={"a": 2})


async def test_a_key_belongs_to_the_role_and_sub_together(store: IdempotencyStore) -> None:
    work = Counter()
    customer = Principal(sub="acme", role=Role.customer)

    as_partner = await call(store, work, new_id="res_1")
    as_customer = await call(store, work, body={"a": 2}, new_id="res_2", caller=customer)
    again_as_customer = await call(store, work, body={"a": 2}, new_id="res_3", caller=customer)

    assert work.calls == 2
    assert as_partner.body == b'{"id":"res_1"}'
    assert as_customer.status_code == 201
    assert as_customer.body == again_as_customer.body == b'{"id":"res_2"}'


async def test_without_a_key_work_runs_every_time(store: IdempotencyStore) -> None:
    work = Counter()

    await call(store, work, key=None)
    await call(store, work, key=None)

    assert work.calls == 2


async def test_concurrent_duplicates_run_the_work_once(store: IdempotencyStore) -> None:
    work = Counter(delay=0.05)

    responses = await asyncio.gather(*(call(store, work, new_id=f"r{i}") for i in range(6)))

    assert work.calls == 1
    assert len({r.body for r in responses}) == 1


async def test_a_4xx_is_stored_and_replayed(store: IdempotencyStore) -> None:
    async def refuse(resource_id: str) -> Made:
        raise ConflictError("no")

    with pytest.raises(ConflictError):
        await call(store, refuse)
    replay = await call(store, Counter())

    assert replay.status_code == 409
    assert replay.headers["content-type"] == "application/problem+json"


async def test_a_5xx_releases_the_key_for_a_retry(store: IdempotencyStore) -> None:
    async def unavailable(resource_id: str) -> Made:
        raise ServiceUnavailableError("down")

    with pytest.raises(ServiceUnavailableError):
        await call(store, unavailable)
    work = Counter()
    retry = await call(store, work)

    assert work.calls == 1
    assert retry.status_code == 201


async def claim(store: IdempotencyStore, fingerprint: str, new_id: str) -> Claim:
    async with store.sessionmaker() as session, session.begin():
        return await store.claim(session, ACME, "k", fingerprint, new_id)


async def test_a_claim_in_progress_waits_then_gives_up(store: IdempotencyStore) -> None:
    await claim(store, fingerprint("POST", "/v1/things", {"a": 1}), "res_1")
    store.wait_seconds = 0.1

    with pytest.raises(IdempotencyInProgressError):
        await call(store, Counter(), new_id="res_2")


async def test_a_dead_claim_is_taken_over_with_the_same_resource_id(
    store: IdempotencyStore,
) -> None:
    await claim(store, "fp", "res_1")
    async with store.sessionmaker() as session, session.begin():
        await session.execute(update(idempotency_records).values(locked_until=utcnow()))

    claimed = await claim(store, "fp", "res_2")

    assert claimed.resource_id == "res_1"
    assert not claimed.replay


# -- the key inside the work's own transactions (`idempotent_call`) ---------------------------


class Recorded(BaseModel):
    id: str
    attempt: int


class RecordingWork:
    """Work whose only effect is a row written in the transaction that completes the key."""

    def __init__(self, store: IdempotencyStore, *, claim: bool, delay: float = 0.0) -> None:
        self.store = store
        self.claim = claim
        self.delay = delay
        self.calls = 0

    async def __call__(self, attempt: Attempt[Recorded]) -> Recorded:
        async with self.store.sessionmaker() as session, session.begin():
            if self.claim:
                await attempt.claim(session)
            else:
                await attempt.check(session)
        self.calls += 1  # got past the key
        number = self.calls
        await asyncio.sleep(self.delay)
        async with self.store.sessionmaker() as session, session.begin():
            await session.execute(
                insert(outbox).values(
                    id=f"{attempt.resource_id}-{number}",
                    topic="made",
                    payload={},
                    created_at=utcnow(),
                    available_at=utcnow(),
                    attempts=0,
                )
            )
            result = Recorded(id=attempt.resource_id, attempt=number)
            await attempt.complete(session, result)
        return result


async def keyed_call(store: IdempotencyStore, work: RecordingWork, new_id: str) -> Response:
    return await idempotent_call(
        store,
        caller=ACME,
        key="k",
        request=("POST", "/v1/things", {"a": 1}),
        new_resource_id=new_id,
        status_code=201,
        render=lambda result: result,
        work=work,
    )


async def rows_written(store: IdempotencyStore) -> int:
    async with store.sessionmaker() as session:
        return len((await session.execute(select(outbox.c.id))).all())


@pytest.mark.parametrize("claim", [True, False], ids=["claim", "check"])
async def test_concurrent_duplicates_write_once_and_answer_alike(
    store: IdempotencyStore, claim: bool
) -> None:
    work = RecordingWork(store, claim=claim, delay=0.05)

    responses = await asyncio.gather(*(keyed_call(store, work, f"r{i}") for i in range(6)))
    replay = await keyed_call(store, work, "r9")

    assert await rows_written(store) == 1
    assert len({r.body for r in responses} | {replay.body}) == 1
    assert replay.headers["Idempotent-Replayed"] == "true"
    if claim:
        assert work.calls == 1  # the others waited for the claim, then replayed
    else:
        assert work.calls > 1  # they all went ahead; all but one rolled back


async def test_a_checked_key_writes_nothing_before_it_completes(store: IdempotencyStore) -> None:
    async def fail_after_check(attempt: Attempt[Recorded]) -> Recorded:
        async with store.sessionmaker() as session, session.begin():
            await attempt.check(session)
        raise ServiceUnavailableError("down")

    with pytest.raises(ServiceUnavailableError):
        await idempotent_call(
            store,
            caller=ACME,
            key="k",
            request=("POST", "/v1/things", {"a": 1}),
            new_resource_id="r1",
            status_code=201,
            render=lambda result: result,
            work=fail_after_check,
        )
    retry = await keyed_call(store, RecordingWork(store, claim=False), "r2")

    assert retry.status_code == 201
    assert json.loads(bytes(retry.body)) == {"id": "r2", "attempt": 1}
