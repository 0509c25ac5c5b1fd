"""Keyset cursors: what we hand out comes back intact; anything else is `invalid_cursor`."""

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.pagination import (
    MAX_CURSOR_CHARS,
    PageRequest,
    build_page,
    decode_cursor,
    encode_cursor,
    page_request,
)
from shared.problems import InvalidCursorError
from shared.text import ID_PATTERN


def cursor_of(value: object) -> str:
    """A cursor made by hand: the same encoding as ours, around any JSON value."""
    raw = json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 26, 7, 40, 2, 479920, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
)
def test_a_cursor_round_trips(moment: datetime) -> None:
    cursor = encode_cursor(moment, "prd_abc")

    assert decode_cursor(cursor) == (moment, "prd_abc")
    assert "=" not in cursor
    assert cursor.isascii()


@settings(max_examples=200, database=None)
@given(
    moment=st.datetimes(
        min_value=datetime(1970, 1, 1),
        max_value=datetime(9000, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5, minutes=-30))]),
    ),
    id_=st.from_regex(ID_PATTERN, fullmatch=True),
)
def test_every_cursor_we_make_round_trips_and_is_url_safe(moment: datetime, id_: str) -> None:
    cursor = encode_cursor(moment, id_)

    assert decode_cursor(cursor) == (moment, id_)
    assert not set(cursor) & {"+", "/", "="}
    assert len(cursor) <= MAX_CURSOR_CHARS


def test_a_cursor_comes_back_in_utc() -> None:
    moment = datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))

    decoded, _ = decode_cursor(encode_cursor(moment, "prd_abc"))

    assert decoded == moment
    assert decoded.utcoffset() == timedelta(0)


GARBAGE = {
    "empty": "",
    "punctuation": "!!!!",
    "spaces": "not base64 at all?",
    "non-ascii": "é",
    "truncated": "a",
    "not-utf8": base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode(),
    "string": cursor_of("just a string"),
    "null": cursor_of(None),
    "number": cursor_of(42),
    "empty-list": cursor_of([]),
    "one-item": cursor_of(["2026-01-01T00:00:00+00:00"]),
    "three-items": cursor_of(["2026-01-01T00:00:00+00:00", "prd_a", "extra"]),
    "naive-time": cursor_of(["2026-01-01T00:00:00", "prd_a"]),
    "numeric-id": cursor_of(["2026-01-01T00:00:00+00:00", 7]),
    "null-id": cursor_of(["2026-01-01T00:00:00+00:00", None]),
    "not-a-time": cursor_of(["yesterday", "prd_a"]),
    "numeric-time": cursor_of([20260101, "prd_a"]),
    "object": cursor_of({"created_at": "2026-01-01T00:00:00+00:00", "id": "prd_a"}),
    "before-year-1-in-utc": cursor_of(["0001-01-01T00:00:00+05:00", "prd_a"]),
    "after-year-9999-in-utc": cursor_of(["9999-12-31T23:59:59-05:00", "prd_a"]),
    "lone-surrogate-id": cursor_of(["2026-01-01T00:00:00+00:00", "\ud800"]),
    "nul-id": cursor_of(["2026-01-01T00:00:00+00:00", "prd_\u0000"]),
    "control-id": cursor_of(["2026-01-01T00:00:00+00:00", "prd_\n"]),
    "bidi-id": cursor_of(["2026-01-01T00:00:00+00:00", "prd_\u202e"]),
    "slash-id": cursor_of(["2026-01-01T00:00:00+00:00", "prd/../x"]),
    "empty-id": cursor_of(["2026-01-01T00:00:00+00:00", ""]),
    "long-id": cursor_of(["2026-01-01T00:00:00+00:00", "p" * 65]),
    "lone-surrogate-time": cursor_of(["2026-01-01T00:00:00+00:00\ud800", "prd_a"]),
    "nul-time": cursor_of(["2026-01-01T00:00:00\u0000+00:00", "prd_a"]),
    "nested": cursor_of([["2026-01-01T00:00:00+00:00"], "prd_a"]),
    "deep": base64.urlsafe_b64encode(b"[" * 100).decode(),
}


@pytest.mark.parametrize("cursor", GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_cursors_are_invalid(cursor: str) -> None:
    with pytest.raises(InvalidCursorError) as caught:
        decode_cursor(cursor)

    assert caught.value.status == 422
    assert caught.value.code == "invalid_cursor"


def test_page_request_decodes_the_cursor_and_keeps_the_limit() -> None:
    moment = datetime(2026, 1, 1, tzinfo=UTC)

    request = page_request(limit=5, cursor=encode_cursor(moment, "prd_a"))

    assert request == PageRequest(limit=5, after=(moment, "prd_a"))
    assert page_request(limit=20, cursor=None).after is None


def test_build_page_returns_no_cursor_when_everything_fits() -> None:
    rows = [(datetime(2026, 1, 1, tzinfo=UTC), f"prd_{i}") for i in range(3)]

    page, cursor = build_page(rows, PageRequest(limit=3, after=None), lambda r: r)

    assert page == rows
    assert cursor is None


def test_build_page_cuts_the_extra_row_and_points_after_the_last_kept() -> None:
    rows = [(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=i), f"prd_{i}") for i in range(4)]

    page, cursor = build_page(rows, PageRequest(limit=3, after=None), lambda r: r)

    assert page == rows[:3]
    assert cursor is not None
    assert decode_cursor(cursor) == rows[2]
