"""Keyset pagination: `?limit=&cursor=` in, `{items, next_cursor}` out.

A cursor is the opaque, URL-safe encoding of the sort key of the last item returned; the next
page starts strictly after it, so pages never skip or repeat rows when others are added.

A cursor comes back from the client, so it is input like any other: one that is not exactly
what `encode_cursor` makes (a JSON pair of an aware ISO 8601 time and an id of ours) is a 422
`invalid_cursor` before any query sees it. A lone surrogate or a NUL in it would otherwise
reach the database driver, which can't encode them: a 500.
"""

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar, get_args

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from shared.problems import InvalidCursorError
from shared.text import ID_PATTERN

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_CURSOR_CHARS = 200
# `datetime.isoformat()` of an aware time is at most 32 characters.
MAX_TIMESTAMP_CHARS = 40
_ID = re.compile(ID_PATTERN)


def _page_example(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """A page's OpenAPI example: one item, the item model's own example, and no next page."""
    (item,) = get_args(model.model_fields["items"].annotation) or (None,)
    config = getattr(item, "model_config", {})
    extra = config.get("json_schema_extra") if isinstance(config, dict) else None
    if isinstance(extra, dict) and isinstance(extra.get("examples"), list) and extra["examples"]:
        schema["examples"] = [{"items": [extra["examples"][0]], "next_cursor": None}]


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    model_config = ConfigDict(json_schema_extra=_page_example)

    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` to get the next page; null on the last page."
    )


@dataclass(frozen=True, slots=True)
class PageRequest:
    """What the caller asked for: how many items and after which sort key."""

    limit: int
    after: tuple[datetime, str] | None


def encode_cursor(created_at: datetime, id_: str) -> str:
    """The cursor that points just after the item with this sort key."""
    raw = json.dumps([created_at.isoformat(), id_], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The sort key inside a cursor; 422 `invalid_cursor` if it is not one of ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value: Any = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(value, list) or len(value) != 2:
            raise ValueError("not a pair")
        created_at, id_ = value
        if not isinstance(created_at, str) or len(created_at) > MAX_TIMESTAMP_CHARS:
            raise ValueError("not a timestamp")
        # Ids are ours (letters, digits, `_.:@-`): no NUL, control or lone surrogate.
        if not isinstance(id_, str) or not _ID.fullmatch(id_):
            raise ValueError("not an id")
        moment = datetime.fromisoformat(created_at)
        # Exactly as `encode_cursor` writes it (fromisoformat is lenient: it takes a NUL
        # for a separator, for one).
        if moment.tzinfo is None or moment.isoformat() != created_at:
            raise ValueError("not an aware time of ours")
        # In UTC, as stored: an offset that moves it past year 1 or 9999 is no cursor of ours.
        moment = moment.astimezone(UTC)
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeError, RecursionError):
        raise InvalidCursorError("The cursor is not valid; start again without one.") from None
    return moment, id_


def page_request(
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description="Items per page (1 to 100).")
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(max_length=MAX_CURSOR_CHARS, description="`next_cursor` of the previous page."),
    ] = None,
) -> PageRequest:
    """FastAPI dependency that parses the paging query parameters."""
    return PageRequest(limit=limit, after=decode_cursor(cursor) if cursor else None)


def build_page(rows: list[T], request: PageRequest, key: Any) -> tuple[list[T], str | None]:
    """Split `limit + 1` fetched rows into the page and its next cursor.

    `key(row)` returns the row's `(created_at, id)` sort key.
    """
    if len(rows) <= request.limit:
        return rows, None
    page = rows[: request.limit]
    created_at, id_ = key(page[-1])
    return page, encode_cursor(created_at, id_)
