"""The FastAPI side of idempotency: the `Idempotency-Key` header and `idempotent_call`.

`idempotent_call` runs a keyed request's work (trying again while a duplicate holds the
key), stores a 4xx answer like a success, releases the key on anything else, and answers
with the work's response or the stored one (`Idempotent-Replayed: true`).
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Header
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from shared.auth import Principal
from shared.idempotency.attempt import Attempt, Busy, Replay
from shared.idempotency.store import (
    Claim,
    IdempotencyInProgressError,
    IdempotencyStore,
    fingerprint,
)
from shared.observability import current_request_id
from shared.problems import PROBLEM_MEDIA_TYPE, ProblemError

T = TypeVar("T")

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Retry-safe key: the same key and body answer with the first response.",
    ),
]


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
        except Busy:
            if asyncio.get_running_loop().time() >= deadline:
                raise IdempotencyInProgressError(
                    "Retry once the first request has finished."
                ) from None
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)
        except ProblemError as exc:
            # A request that only looked at another's claim (`held`) stores nothing on it.
            if key is not None and 400 <= exc.status < 500 and not attempt.held:
                await _record_problem(store, caller, key, digest, attempt.resource_id, exc)
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


async def _record_problem(
    store: IdempotencyStore,
    caller: Principal,
    key: str,
    digest: str,
    resource_id: str,
    error: ProblemError,
) -> None:
    """Store a 4xx answer, on the request's claim or (if it had none) as a new record."""
    problem = error.to_problem(current_request_id())
    async with store.sessionmaker() as session, session.begin():
        for claimed in (True, False):
            if await store.record(
                session,
                caller,
                key,
                fingerprint=digest,
                resource_id=resource_id,
                status_code=error.status,
                response=problem,
                claimed=claimed,
            ):
                return


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
