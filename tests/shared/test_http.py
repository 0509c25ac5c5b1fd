"""The client every service calls others with, against real sockets on loopback."""

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from shared.http import ServiceClient, UpstreamProblem, UpstreamUnavailableError, create_http_client

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def serve(handler: Handler) -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head + await reader.readexactly(length)


def answer(status: str, body: bytes, content_type: bytes = b"application/json") -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                await read_request(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            writer.write(
                f"HTTP/1.1 {status}\r\n".encode()
                + b"Content-Type: "
                + content_type
                + f"\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        writer.close()

    return handle


@pytest.fixture
async def client() -> AsyncIterator[Callable[[str], ServiceClient]]:
    http = create_http_client(0.5)
    yield lambda url: ServiceClient(http, url, None)
    await http.aclose()


async def test_answers_are_decoded_over_kept_alive_connections(
    client: Callable[[str], ServiceClient],
) -> None:
    connections = 0
    inner = answer("200 OK", b'{"ok": true}')

    async def counting(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await inner(reader, writer)

    server, url = await serve(counting)
    async with server:
        results = [await client(url).call("POST", "/x", json={"a": 1}) for _ in range(5)]

    assert results == [{"ok": True}] * 5
    assert connections == 1


async def test_a_problem_comes_back_with_its_code(client: Callable[[str], ServiceClient]) -> None:
    server, url = await serve(
        answer("409 Conflict", b'{"code": "draft_locked"}', b"application/problem+json")
    )
    async with server:
        with pytest.raises(UpstreamProblem) as caught:
            await client(url).call("GET", "/x")

    assert caught.value.upstream_status == 409
    assert caught.value.upstream_code == "draft_locked"


async def test_a_5xx_is_unavailable(client: Callable[[str], ServiceClient]) -> None:
    server, url = await serve(answer("503 Service Unavailable", b"{}"))
    async with server:
        with pytest.raises(UpstreamUnavailableError):
            await client(url).call("GET", "/x")


async def test_a_closed_port_is_unavailable(client: Callable[[str], ServiceClient]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(UpstreamUnavailableError) as caught:
        await client(f"http://127.0.0.1:{port}").call("GET", "/x")

    # Named for what happened (httpx-aiohttp maps a refusal to httpx.ConnectTimeout).
    assert "connection refused" in str(caught.value)
    assert "imeout" not in str(caught.value)


async def test_a_silent_server_times_out_as_unavailable(
    client: Callable[[str], ServiceClient],
) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never answers

    server, url = await serve(silent)
    async with server:
        with pytest.raises(UpstreamUnavailableError) as caught:
            await asyncio.wait_for(client(url).call("GET", "/x"), timeout=5)

    assert "timed out" in str(caught.value)


async def test_a_connection_dropped_mid_answer_is_unavailable(
    client: Callable[[str], ServiceClient],
) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"partial')
        await writer.drain()
        writer.close()

    server, url = await serve(hang_up)
    async with server:
        with pytest.raises(UpstreamUnavailableError) as caught:
            await client(url).call("GET", "/x")

    assert "imeout" not in str(caught.value)
