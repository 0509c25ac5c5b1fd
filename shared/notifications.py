"""PostgreSQL LISTEN on a dedicated connection, and whether it can be trusted right now.

A process that keeps in memory something another process's commit can make stale needs to hear
of that commit, and to know when it may have missed one. `NotificationListener` holds one
asyncpg connection of its own (outside the pool), LISTENs on a channel and hands each payload
to `on_notification`. PostgreSQL delivers a NOTIFY only when the transaction that sent it
commits, to every session of the same database listening at that moment, the sender's own
process included.

The listener is `healthy` only while its connection is up and answered its latest liveness
check (`SELECT 1` every `check_seconds`, within `check_seconds`). It stops being healthy the
moment the connection closes or a check fails, then reconnects in the background with
backoff. Notifications sent while it was away are lost, so after every (re)connection it
calls `on_listening` (throw away what the notifications guard) before it counts as healthy
again. Nothing here raises into the caller: a listener problem only makes it unhealthy.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("market.notifications")

# Arguments SQLAlchemy's asyncpg dialect takes for itself, not for `asyncpg.connect`.
_SQLALCHEMY_ONLY_ARGUMENTS = frozenset(
    {"prepared_statement_cache_size", "prepared_statement_name_func", "async_creator_fn"}
)


def asyncpg_connect_args(engine: AsyncEngine) -> dict[str, Any]:
    """The `asyncpg.connect` arguments that reach the database of an asyncpg `engine`."""
    _args, kwargs = engine.dialect.create_connect_args(engine.url)
    return {k: v for k, v in kwargs.items() if k not in _SQLALCHEMY_ONLY_ARGUMENTS}


async def connect(args: dict[str, Any]) -> Any:
    """Open the listener's connection (a module function, so tests can hold it back)."""
    return await asyncpg.connect(**args)


class NotificationListener:
    """LISTEN on `channel` over a dedicated connection; see the module docstring."""

    def __init__(
        self,
        connect_args: dict[str, Any],
        channel: str,
        *,
        on_notification: Callable[[str], None],
        on_listening: Callable[[], None],
        check_seconds: float = 1.0,
        first_retry_seconds: float = 0.2,
        max_retry_seconds: float = 10.0,
    ) -> None:
        self.channel = channel
        self._connect_args = connect_args
        self._on_notification = on_notification
        self._on_listening = on_listening
        self._check_seconds = check_seconds
        # A check fails within `check_seconds` of starting, and starts `check_seconds` after
        # the previous one: a success older than this means the checks have stalled.
        self._stale_after = 3 * check_seconds
        self._first_retry = first_retry_seconds
        self._max_retry = max_retry_seconds
        self._retry = first_retry_seconds
        self._connection: Any = None
        self._listening = False
        self._checked_at = 0.0
        self._task: asyncio.Task[None] | None = None

    @property
    def healthy(self) -> bool:
        """Listening now, and the latest liveness check is recent: no notification missed."""
        return self._listening and time.monotonic() - self._checked_at < self._stale_after

    @property
    def server_pid(self) -> int | None:
        """The PostgreSQL backend pid of the listening connection, while there is one."""
        connection = self._connection
        if connection is None or connection.is_closed():
            return None
        pid: int = connection.get_server_pid()
        return pid

    def start(self) -> None:
        """Connect and listen in the background (called from an app's lifespan)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"listen-{self.channel}")

    async def close(self) -> None:
        """Stop listening and close the connection."""
        self._listening = False
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait({task}, timeout=5 * self._check_seconds)
            if not task.done():
                log.error("notification listener did not stop", extra={"channel": self.channel})
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            try:
                await connection.close(timeout=self._check_seconds)
            except Exception:
                connection.terminate()

    async def _run(self) -> None:
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "notification listener down; retrying",
                    extra={"channel": self.channel, "error": repr(exc), "retry_in": self._retry},
                )
            self._drop_connection()
            await asyncio.sleep(self._retry)
            self._retry = min(self._retry * 2, self._max_retry)

    async def _listen(self) -> None:
        """Connect, LISTEN, then check the connection until it is lost (or a check fails)."""
        lost = asyncio.Event()
        connection = await connect({**self._connect_args, "timeout": 5 * self._check_seconds})
        self._connection = connection

        def on_termination(_connection: Any) -> None:
            self._listening = False
            lost.set()

        connection.add_termination_listener(on_termination)
        await connection.add_listener(self.channel, self._notified)
        self._on_listening()
        self._checked_at = time.monotonic()
        self._listening = not connection.is_closed()
        log.info(
            "notification listener up",
            extra={"channel": self.channel, "server_pid": connection.get_server_pid()},
        )
        while True:
            # `asyncio.timeout`, not `wait_for`: on 3.11 `wait_for` can swallow the cancellation
            # of `close()` when the event is set at the same moment, and never end.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._check_seconds):
                    await lost.wait()
            if lost.is_set() or connection.is_closed():
                raise ConnectionError("the listening connection was closed")
            await connection.fetchval("SELECT 1", timeout=self._check_seconds)
            self._checked_at = time.monotonic()
            self._retry = self._first_retry

    def _notified(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            self._on_notification(payload)
        except Exception:
            log.exception("notification handler failed", extra={"channel": self.channel})

    def _drop_connection(self) -> None:
        self._listening = False
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            connection.terminate()
