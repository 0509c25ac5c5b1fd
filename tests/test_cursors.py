"""Every list of every service takes any `cursor` without a 500 (SQLite and PostgreSQL).

The lists are found in each app's own OpenAPI document (every GET with a `cursor` query
parameter), so a new list is covered the day it is added. Cursors are generated: arbitrary
strings, and our own encoding around arbitrary times and ids (lone surrogates, NUL, controls,
bidi characters). One that is not a cursor of ours gets 422 `invalid_cursor`.
"""

import base64
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.auth import Role
from shared.text import ID_PATTERN
from tests.conftest import TestKeys
from tests.problems import assert_problem

# Who lists what: the role that may call each list.
ROLES = {"catalog": None, "review": Role.reviewer, "orders": Role.customer, "license": None}


def encoded(value: Any) -> str:
    raw = json.dumps(value).encode()  # ASCII: lone surrogates travel as `\ud800`
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


ANY_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.sampled_from("\x00\n\u202e\u200b\ud800\udfff"),
    ),
    max_size=40,
)
TIMES = st.one_of(
    st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(9000, 1, 1), timezones=st.just(UTC)
    ).map(datetime.isoformat),
    ANY_TEXT,
)
IDS = st.one_of(st.from_regex(ID_PATTERN, fullmatch=True), ANY_TEXT)
CURSORS = st.one_of(
    st.tuples(TIMES, IDS).map(lambda pair: encoded(list(pair))),
    st.builds(encoded, st.recursive(st.none() | st.integers() | ANY_TEXT, st.lists, max_leaves=4)),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=60),
)


def list_paths(app: FastAPI) -> list[str]:
    """The paths of the app's lists: GETs with a `cursor` query parameter."""
    paths = []
    for path, item in app.openapi()["paths"].items():
        parameters = item.get("get", {}).get("parameters", [])
        if any(p["name"] == "cursor" and p["in"] == "query" for p in parameters):
            paths.append(path.replace("{instance_id}", "ins_q2w3e4r5t6y7u8i9o0p1a2s3"))
    return paths


@pytest.fixture
def lists(
    catalog: httpx.AsyncClient,
    review: httpx.AsyncClient,
    orders: httpx.AsyncClient,
    orders_license: httpx.AsyncClient,
    keys: TestKeys,
) -> list[tuple[httpx.AsyncClient, str, dict[str, str]]]:
    clients = {"catalog": catalog, "review": review, "orders": orders, "license": orders_license}
    found: list[tuple[httpx.AsyncClient, str, dict[str, str]]] = []
    for service, client in clients.items():
        app = client._transport.app  # type: ignore[attr-defined]
        user = keys.headers(ROLES[service] or Role.customer, "globex")
        # An internal list is for the one service that calls it (license's: orders).
        caller = keys.headers(Role.service, "orders")
        found.extend(
            (client, path, caller if path.startswith("/v1/internal/") else user)
            for path in list_paths(app)
        )
    return found


def test_every_service_has_its_lists_found(
    lists: list[tuple[httpx.AsyncClient, str, dict[str, str]]],
) -> None:
    paths = {path for _, path, _ in lists}
    assert {"/v1/products", "/v1/submissions", "/v1/orders", "/v1/instances"} <= paths
    assert "/v1/instances/ins_q2w3e4r5t6y7u8i9o0p1a2s3/licenses" in paths


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cursor=CURSORS)
async def test_no_cursor_gets_a_server_error(
    lists: list[tuple[httpx.AsyncClient, str, dict[str, str]]], cursor: str
) -> None:
    for client, path, headers in lists:
        response = await client.get(path, params={"cursor": cursor}, headers=headers)

        assert response.status_code < 500, (path, cursor, response.text)
        if response.status_code == 422:
            code = response.json()["code"]
            assert code in ("invalid_cursor", "validation_error"), (path, cursor, code)
            assert_problem(response, 422, code)


async def test_the_cursors_of_the_finding_are_invalid(
    lists: list[tuple[httpx.AsyncClient, str, dict[str, str]]],
) -> None:
    time = "2026-01-01T00:00:00+00:00"
    for value in ([time, "\ud800"], [time, "prd_\x00"], [time, "prd_\u202e"]):
        for client, path, headers in lists:
            response = await client.get(path, params={"cursor": encoded(value)}, headers=headers)
            assert_problem(response, 422, "invalid_cursor")
