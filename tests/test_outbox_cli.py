"""`market outbox list|retry` on a service's real database, found from its settings.

The tests are synchronous, as the CLI is (it runs its own event loop); the relay's side runs
in loops of its own (`run_sync`), each with its own engine.
"""

import json
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from services.cli import main
from services.review.db.models import Base, outbox
from shared.db import Database
from shared.http import UpstreamProblem
from shared.outbox import Outbox
from tests.conftest import empty_tables, run_sync

T = TypeVar("T")


class Catalog:
    """Plays the receiver of `catalog.unlock`: refuses (422) until told otherwise."""

    def __init__(self) -> None:
        self.refusing = True
        self.unlocked: list[str] = []

    async def unlock(self, payload: dict[str, str]) -> None:
        if self.refusing:
            raise UpstreamProblem("catalog", 422, {"code": "validation_error"})
        self.unlocked.append(payload["submission_id"])


@pytest.fixture
def review_url(database_url: Callable[[str], str], monkeypatch: pytest.MonkeyPatch) -> str:
    """The review database, named to the CLI as the service's settings would name it."""
    url = database_url("review")
    monkeypatch.setenv("REVIEW_DATABASE_URL", url)
    monkeypatch.setenv("ORDERS_DATABASE_URL", database_url("orders"))
    run_sync(with_db(url, lambda db: empty_tables(db, Base.metadata)))
    return url


async def with_db(url: str, use: Callable[[Database], Awaitable[T]]) -> T:
    db = Database(url)
    try:
        return await use(db)
    finally:
        await db.dispose()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_a_failed_entry_is_listed_and_retried_until_delivered(
    review_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = Catalog()

    def relay(db: Database) -> Outbox:
        box = Outbox(outbox, db.sessionmaker)
        box.register("catalog.unlock", catalog.unlock)
        return box

    async def add_and_deliver(db: Database) -> str:
        async with db.sessionmaker() as session, session.begin():
            entry = await relay(db).add(session, "catalog.unlock", {"submission_id": "sub_1"})
        await relay(db).deliver_now(entry)
        return entry

    entry = run_sync(with_db(review_url, add_and_deliver))

    code, out = run(capsys, "outbox", "list", "review", "--failed")
    assert code == 0
    assert entry in out
    assert "catalog.unlock  failed" in out
    assert "catalog answered 422 validation_error" in out
    code, out = run(capsys, "outbox", "list", "--failed", "--json")
    [listed] = [json.loads(line) for line in out.splitlines()]
    assert (listed["id"], listed["service"], listed["state"]) == (entry, "review", "failed")

    catalog.refusing = False  # the operator fixed the cause
    code, out = run(capsys, "outbox", "retry", entry)
    assert code == 0
    assert "is due again" in out
    assert run(capsys, "outbox", "list", "review", "--failed")[1].strip() == "no failed entries"
    assert run_sync(with_db(review_url, lambda db: relay(db).run_once())) == 1
    assert catalog.unlocked == ["sub_1"]

    assert run(capsys, "outbox", "list", "review")[1].strip() == "no entries waiting"
    code, out = run(capsys, "outbox", "retry", entry)
    assert code == 1
    assert "was delivered" in out


def test_retrying_an_unknown_entry_says_so(
    review_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "outbox", "retry", "obx_nothing")

    assert code == 1
    assert "no outbox entry obx_nothing in review, orders" in out
