"""The LISTEN connection: healthy only while sound, back by itself, never raising.

Most tests give it a fake connection (the database's failures are hard to stage on demand);
the last ones listen on the real PostgreSQL test database.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import func, select

import shared.notifications
from shared.db import Database
from shared.notifications import NotificationListener, asyncpg_connect_args
from tests.conftest import POSTGRES_URL

DEADLINE_SECONDS = 10.0


async def eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await asyncio.sleep(0.005)


class FakeConnection:
    """The part of an asyncpg connection the listener uses."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.closed = False
        self.hang = False
        self.channels: dict[str, Callable[..., None]] = {}
        self._on_termination: list[Callable[[Any], None]] = []

    def add_termination_listener(self, callback: Callable[[Any], None]) -> None:
        self._on_termination.append(callback)

    async def add_listener(self, channel: str, callback: Callable[..., None]) -> None:
        self.channels[channel] = callback

    async def fetchval(self, _query: str, **options: float) -> int:
        if self.hang:
            await asyncio.sleep(options["timeout"])
            raise TimeoutError
        return 1

    def is_closed(self) -> bool:
        return self.closed

    def get_server_pid(self) -> int:
        return self.pid

    def terminate(self) -> None:
        self.closed = True

    async def close(self, **_options: float) -> None:
        self.closed = True

    def lose(self) -> None:
        self.closed = True
        for callback in self._on_termination:
            callback(self)

    def notify(self, channel: str, payload: str) -> None:
        self.channels[channel](self, 4242, channel, payload)


class Recorder:
    def __init__(self) -> None:
        self.payloads: list[str] = []
        self.listening = 0

    def on_notification(self, payload: str) -> None:
        if payload == "boom":
            raise RuntimeError("a bad handler")
        self.payloads.append(payload)

    def on_listening(self) -> None:
        self.listening += 1


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[FakeConnection]:
    """Every connection the listener opens, newest last."""
    opened: list[FakeConnection] = []

    async def fake_connect(_args: dict[str, Any]) -> FakeConnection:
        opened.append(FakeConnection(pid=len(opened) + 1))
        return opened[-1]

    monkeypatch.setattr(shared.notifications, "connect", fake_connect)
    return opened


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def listener(
    connections: list[FakeConnection], recorder: Recorder
) -> AsyncIterator[NotificationListener]:
    listener = NotificationListener(
        {},
        "changes",
        on_notification=recorder.on_notification,
        on_listening=recorder.on_listening,
        check_seconds=0.05,
        first_retry_seconds=0.01,
    )
    listener.start()
    yield listener
    await listener.close()


async def test_it_is_healthy_once_listening_and_hands_over_payloads(
    connections: list[FakeConnection], recorder: Recorder, listener: NotificationListener
) -> None:
    await eventually(lambda: listener.healthy, "listening")

    connections[0].notify("changes", "prd_1")
    connections[0].notify("changes", "boom")  # a failing handler stops nothing
    connections[0].notify("changes", "prd_2")

    assert recorder.payloads == ["prd_1", "prd_2"]
    assert recorder.listening == 1
    assert listener.healthy
    assert listener.server_pid == 1


async def test_a_lost_connection_is_unhealthy_at_once_and_comes_back_cleared(
    connections: list[FakeConnection], recorder: Recorder, listener: NotificationListener
) -> None:
    await eventually(lambda: listener.healthy, "listening")

    connections[0].lose()

    assert not listener.healthy
    await eventually(lambda: listener.healthy, "listening again")
    assert len(connections) == 2
    assert recorder.listening == 2  # the memory it guards was cleared before trust came back


async def test_close_as_the_connection_is_lost_stops_it(
    connections: list[FakeConnection],
    listener: NotificationListener,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await eventually(lambda: listener.healthy, "listening")

    connections[0].lose()  # the listener's wait ends just as close() cancels it
    await listener.close()

    assert "did not stop" not in caplog.text
    assert len(connections) == 1


async def test_a_check_that_does_not_answer_makes_it_unhealthy_until_it_reconnects(
    connections: list[FakeConnection], recorder: Recorder, listener: NotificationListener
) -> None:
    await eventually(lambda: listener.healthy, "listening")

    connections[0].hang = True

    await eventually(lambda: not listener.healthy, "the check failed")
    await eventually(lambda: listener.healthy, "listening on a new connection")
    assert connections[0].closed
    assert recorder.listening == 2


async def test_an_unreachable_database_leaves_it_unhealthy_and_retrying(
    monkeypatch: pytest.MonkeyPatch, recorder: Recorder
) -> None:
    attempts = 0

    async def refused(_args: dict[str, Any]) -> Any:
        nonlocal attempts
        attempts += 1
        raise ConnectionRefusedError("nobody listens there")

    monkeypatch.setattr(shared.notifications, "connect", refused)
    listener = NotificationListener(
        {},
        "changes",
        on_notification=recorder.on_notification,
        on_listening=recorder.on_listening,
        first_retry_seconds=0.01,
    )
    listener.start()
    try:
        await eventually(lambda: attempts >= 3, "it tried again, with backoff")
        assert not listener.healthy
        assert listener.server_pid is None
        assert recorder.listening == 0
    finally:
        await listener.close()


async def test_close_while_it_waits_to_reconnect(
    monkeypatch: pytest.MonkeyPatch, recorder: Recorder
) -> None:
    async def refused(_args: dict[str, Any]) -> Any:
        raise ConnectionRefusedError("nobody listens there")

    monkeypatch.setattr(shared.notifications, "connect", refused)
    listener = NotificationListener(
        {}, "changes", on_notification=recorder.on_notification, on_listening=recorder.on_listening
    )
    listener.start()
    await asyncio.sleep(0)

    await asyncio.wait_for(listener.close(), DEADLINE_SECONDS)

    assert not listener.healthy


# -- on the real PostgreSQL --------------------------------------------------------------------


@pytest.fixture
async def catalog_db(database_url: Callable[[str], str]) -> AsyncIterator[Database]:
    database = Database(database_url("catalog"))
    yield database
    await database.dispose()


@pytest.mark.skipif(not POSTGRES_URL, reason="NOTIFY needs PostgreSQL")
async def test_only_committed_notifications_arrive(catalog_db: Database) -> None:
    recorder = Recorder()
    listener = NotificationListener(
        asyncpg_connect_args(catalog_db.engine),
        "test_changes",
        on_notification=recorder.on_notification,
        on_listening=recorder.on_listening,
    )
    listener.start()
    try:
        await eventually(lambda: listener.healthy, "listening")
        async with catalog_db.engine.connect() as conn:
            transaction = await conn.begin()
            await conn.execute(select(func.pg_notify("test_changes", "rolled-back")))
            await transaction.rollback()
        async with catalog_db.engine.begin() as conn:
            await conn.execute(select(func.pg_notify("test_changes", "committed")))

        await eventually(lambda: recorder.payloads != [], "a notification arrived")

        assert recorder.payloads == ["committed"]
    finally:
        await listener.close()
    assert listener.server_pid is None
