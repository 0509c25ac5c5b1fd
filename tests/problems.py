"""Assertions on problem+json responses, for every tier of tests."""

from typing import Any

import httpx

from shared.problems import PROBLEM_MEDIA_TYPE


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Check that `response` is an RFC 9457 problem with this status and code; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE, response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code, body
    assert body["type"] == f"urn:market:problem:{code}"
    assert body["title"]
    assert body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body
