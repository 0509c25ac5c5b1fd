"""The load generator the benchmarks share: HTTP/1.1 keep-alive clients on raw asyncio sockets.

A benchmark runs its load in a separate process (`LoadPool`, one spawned worker), so that the
client's work is not counted against the server's and the server runs as it would in
production. The client is deliberately small: requests are bytes built once up front, a
response is read by its `Content-Length` (the only framing the services' JSON answers use), and
each connection measures the latency of what it sends. Two shapes of load:

- `RequestLoad`: every connection sends one of a list of prepared requests, over and over;
- a flow: a function given a `Connection` that performs one unit of work of several requests
  (create an order, then pay it) and says whether it succeeded; its latency is the whole unit.

Both report a `LoadResult`: completed units per second, latency percentiles, and the count of
each outcome. Durations are bounded: every connection stops sending at a fixed deadline.
"""

import asyncio
import contextlib
import multiprocessing
import os
import random
import socket
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

HOST = "127.0.0.1"
T = TypeVar("T")

# A flow's outcome: "ok", or a short label of what went wrong ("status 409", "no license").
Outcome = str
Flow = Callable[["Connection", int], Awaitable[Outcome]]


def free_port() -> int:
    """A loopback TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def request_bytes(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    """One HTTP/1.1 request, ready to write on a keep-alive connection."""
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {HOST}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Connection:
    """One keep-alive connection; reconnects after the server closed it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """Send prepared request bytes; the response's status and body."""
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(HOST, self.port)
        assert self._reader is not None
        try:
            self._writer.write(request)
            head = await self._reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            close = False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
                elif name == b"transfer-encoding":
                    raise RuntimeError("chunked responses are not supported by this client")
            body = await self._reader.readexactly(length) if length else b""
        except (OSError, asyncio.IncompleteReadError):
            self.close()
            raise
        if close:
            self.close()
        return status, body

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        """Build and send a request; the response's status and body."""
        return await self.send(request_bytes(method, path, headers, body))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


@dataclass
class Tally:
    """What the connections of one measurement completed, shared between them."""

    latencies: list[float] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: Outcome, latency: float) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        if outcome == "ok":
            self.latencies.append(latency)


@dataclass(frozen=True)
class LoadResult:
    """One measurement: successful units per second and their latency percentiles (ms)."""

    rate: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    completed: int
    seconds: float
    connections: int
    outcomes: dict[str, int]

    @property
    def errors(self) -> int:
        return sum(n for outcome, n in self.outcomes.items() if outcome != "ok")

    def as_dict(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "p99_ms": self.p99_ms,
            "completed": self.completed,
            "errors": self.errors,
            "seconds": self.seconds,
            "connections": self.connections,
            "outcomes": self.outcomes,
        }


def percentile(ordered: Sequence[float], share: float) -> float:
    """The nearest-rank percentile of an ascending sequence (0.0 when it is empty)."""
    if not ordered:
        return 0.0
    rank = max(1, round(share * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def summarise(tally: Tally, elapsed: float, connections: int) -> LoadResult:
    ordered = sorted(tally.latencies)
    return LoadResult(
        rate=len(ordered) / elapsed,
        p50_ms=percentile(ordered, 0.50) * 1000,
        p95_ms=percentile(ordered, 0.95) * 1000,
        p99_ms=percentile(ordered, 0.99) * 1000,
        completed=len(ordered),
        seconds=elapsed,
        connections=connections,
        outcomes=dict(sorted(tally.outcomes.items())),
    )


async def _drive(
    port: int, flow: Flow, number: int, stop_at: float, tally: Tally, pause: float = 0.0
) -> None:
    """One client: run `flow` back to back until `stop_at` (loop time)."""
    loop = asyncio.get_running_loop()
    connection = Connection(port)
    try:
        while loop.time() < stop_at:
            started = time.perf_counter()
            try:
                outcome = await flow(connection, number)
            except (OSError, asyncio.IncompleteReadError) as exc:
                outcome = f"connection: {type(exc).__name__}"
                await asyncio.sleep(0.01)
            tally.count(outcome, time.perf_counter() - started)
            if pause:
                await asyncio.sleep(pause)
    finally:
        connection.close()


async def measure(
    port: int, flow: Flow, *, seconds: float, connections: int, warm_seconds: float = 0.0
) -> LoadResult:
    """Run `connections` clients of `flow` for `warm_seconds` (not counted), then `seconds`."""
    loop = asyncio.get_running_loop()
    if warm_seconds > 0:
        stop_at = loop.time() + warm_seconds
        await asyncio.gather(*(_drive(port, flow, n, stop_at, Tally()) for n in range(connections)))
    tally = Tally()
    started = time.perf_counter()
    stop_at = loop.time() + seconds
    await asyncio.gather(*(_drive(port, flow, n, stop_at, tally) for n in range(connections)))
    return summarise(tally, time.perf_counter() - started, connections)


@dataclass(frozen=True)
class RequestLoad:
    """A flow of one prepared request, picked at random from `requests`, answered `expect`."""

    requests: Sequence[bytes]
    expect: int = 200

    async def __call__(self, connection: Connection, _number: int) -> Outcome:
        request = self.requests[random.randrange(len(self.requests))]  # noqa: S311 (not security)
        status, _ = await connection.send(request)
        return "ok" if status == self.expect else f"status {status}"


async def send_each(port: int, requests: Sequence[bytes], connections: int = 8) -> None:
    """Send every request once (spread over a few connections), e.g. to warm caches."""

    async def one(part: Sequence[bytes]) -> None:
        connection = Connection(port)
        try:
            for request in part:
                await connection.send(request)
        finally:
            connection.close()

    await asyncio.gather(*(one(requests[i::connections]) for i in range(connections)))


def run(coroutine: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine function on uvloop when it is installed (it is, with uvicorn[standard])."""
    with contextlib.suppress(ImportError):
        import uvloop

        return uvloop.run(coroutine())
    return asyncio.run(coroutine())


def request_worker(
    port: int,
    requests: Sequence[bytes],
    seconds: float,
    connections: int,
    warm: bool = True,
    expect: int = 200,
) -> LoadResult:
    """In the load process: `RequestLoad` of `requests`; warmed first unless `warm` is False.

    Warming sends every distinct request once, then a second of load, before the clock starts.
    """

    async def go() -> LoadResult:
        if warm:
            await send_each(port, requests)
        return await measure(
            port,
            RequestLoad(requests, expect),
            seconds=seconds,
            connections=connections,
            warm_seconds=1.0 if warm else 0.0,
        )

    return run(go)


class LoadPool:
    """The separate load process: one spawned worker that runs the functions given to it."""

    def __init__(self) -> None:
        self._pool = multiprocessing.get_context("spawn").Pool(1)
        self.pid: int = self._pool.apply(os.getpid)

    def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run `function(*args)` in the load process and return its (picklable) result."""
        return self._pool.apply(function, args)

    def close(self) -> None:
        self._pool.close()
        self._pool.join()

    def __enter__(self) -> "LoadPool":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
