"""Dependencies of the review routes: what the lifespan built, through one typed accessor.

They are `async def` even when they await nothing: FastAPI runs a plain `def` dependency in
its thread pool, a thread hand-off on every request.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from services.review.service import ReviewService
from shared.db import Database
from shared.idempotency import IdempotencyStore
from shared.outbox import Outbox


@dataclass(frozen=True, slots=True)
class ReviewRuntime:
    """What the review service's lifespan builds, once per process, on `app.state.runtime`."""

    db: Database
    review: ReviewService
    outbox: Outbox
    idempotency: IdempotencyStore


def runtime_of(app: FastAPI) -> ReviewRuntime:
    """The running app's `ReviewRuntime` (set by its lifespan)."""
    runtime: ReviewRuntime = app.state.runtime
    return runtime


async def review_service(request: Request) -> ReviewService:
    return runtime_of(request.app).review


async def idempotency_store(request: Request) -> IdempotencyStore:
    return runtime_of(request.app).idempotency


Review = Annotated[ReviewService, Depends(review_service)]
Idempotency = Annotated[IdempotencyStore, Depends(idempotency_store)]
