"""The benchmarks' load generator against a tiny HTTP/1.1 server on loopback (no services)."""

import asyncio
import json

from bench.loadgen import Connection, RequestLoad, measure, percentile, request_bytes


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers each request on a keep-alive connection: 201 with the request line echoed for
    POST, 200 for GET, and closes after a request for /close."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            line = head.split(b"\r\n", 1)[0].decode()
            length = 0
            for header in head.split(b"\r\n")[1:]:
                name, _, value = header.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length) if length else b""
            status = "201 Created" if line.startswith("POST") else "200 OK"
            answer = json.dumps({"line": line, "body": body.decode()}).encode()
            close = "/close" in line
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(answer)}\r\n"
                f"{'Connection: close' + chr(13) + chr(10) if close else ''}\r\n".encode()
                + answer
            )
            await writer.drain()
            if close:
                break
    except asyncio.IncompleteReadError:
        pass
    finally:
        writer.close()


async def test_a_connection_sends_requests_and_reads_answers_by_content_length() -> None:
    server = await asyncio.start_server(_serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    connection = Connection(port)
    try:
        status, body = await connection.request("GET", "/healthz", {})
        assert (status, json.loads(body)["line"]) == (200, "GET /healthz HTTP/1.1")
        status, body = await connection.request("POST", "/v1/orders", {}, b'{"a": 1}')
        assert (status, json.loads(body)["body"]) == (201, '{"a": 1}')
        # The server closes after this one; the next request reconnects.
        assert (await connection.request("GET", "/close", {}))[0] == 200
        assert (await connection.request("GET", "/again", {}))[0] == 200
    finally:
        connection.close()
        server.close()
        await server.wait_closed()


async def test_measure_counts_completed_requests_outcomes_and_latencies() -> None:
    server = await asyncio.start_server(_serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    requests = [request_bytes("GET", "/a", {}), request_bytes("POST", "/b", {}, b"{}")]
    try:
        result = await measure(port, RequestLoad(requests), seconds=0.3, connections=4)
    finally:
        server.close()
        await server.wait_closed()
    assert result.completed > 0
    assert result.completed == result.outcomes["ok"]
    assert set(result.outcomes) == {"ok", "status 201"}  # a POST answers 201, not 200
    assert result.errors == result.outcomes["status 201"]
    assert 0 < result.p50_ms <= result.p95_ms <= result.p99_ms
    assert result.rate == result.completed / result.seconds


def test_percentiles_are_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.50) == 50.0
    assert percentile(values, 0.95) == 95.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([], 0.5) == 0.0
