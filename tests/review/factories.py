"""Typed helpers for review tests."""

from typing import Any

import httpx

from tests.conftest import TestKeys


class ReviewDriver:
    """Walks the review API as a partner and as reviewers."""

    def __init__(self, client: httpx.AsyncClient, keys: TestKeys, partner: str = "acme") -> None:
        self.client = client
        self.keys = keys
        self.partner = partner

    def as_partner(self, partner: str | None = None) -> dict[str, str]:
        return self.keys.headers("partner", partner or self.partner)

    def as_reviewer(self, reviewer: str = "rita") -> dict[str, str]:
        return self.keys.headers("reviewer", reviewer)

    async def submit(self, product_id: str, **extra: Any) -> httpx.Response:
        headers = self.as_partner()
        if "key" in extra:
            headers["Idempotency-Key"] = extra.pop("key")
        return await self.client.post(
            "/v1/submissions", json={"product_id": product_id, **extra}, headers=headers
        )

    async def submitted(self, product_id: str) -> dict[str, Any]:
        response = await self.submit(product_id)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def act(
        self, submission_id: str, action: str, headers: dict[str, str], **body: Any
    ) -> httpx.Response:
        return await self.client.post(
            f"/v1/submissions/{submission_id}/{action}", json=body or None, headers=headers
        )

    async def claim(self, submission_id: str, reviewer: str = "rita") -> httpx.Response:
        return await self.act(submission_id, "claim", self.as_reviewer(reviewer))

    async def approve(self, submission_id: str, reviewer: str = "rita") -> httpx.Response:
        return await self.act(submission_id, "approve", self.as_reviewer(reviewer))

    async def withdraw(self, submission_id: str) -> httpx.Response:
        return await self.act(submission_id, "withdraw", self.as_partner())
