"""Dependencies of the review routes.

They are `async def` even when they await nothing: FastAPI runs a plain `def` dependency in
its thread pool, a thread hand-off on every request.
"""

from typing import Annotated

from fastapi import Depends, Request

from services.review.service import ReviewService
from shared.idempotency import IdempotencyStore


async def review_service(request: Request) -> ReviewService:
    service: ReviewService = request.app.state.review
    return service


async def idempotency_store(request: Request) -> IdempotencyStore:
    store: IdempotencyStore = request.app.state.idempotency
    return store


Review = Annotated[ReviewService, Depends(review_service)]
Idempotency = Annotated[IdempotencyStore, Depends(idempotency_store)]
