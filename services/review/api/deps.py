"""Dependencies of the review routes."""

from typing import Annotated

from fastapi import Depends, Request

from services.review.service import ReviewService
from shared.idempotency import IdempotencyStore


def review_service(request: Request) -> ReviewService:
    service: ReviewService = request.app.state.review
    return service


def idempotency_store(request: Request) -> IdempotencyStore:
    store: IdempotencyStore = request.app.state.idempotency
    return store


Review = Annotated[ReviewService, Depends(review_service)]
Idempotency = Annotated[IdempotencyStore, Depends(idempotency_store)]
