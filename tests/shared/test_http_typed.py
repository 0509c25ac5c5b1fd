"""The typed helpers of `ServiceClient`: a client method says what it sends and what it gets.

Against a real socket on loopback, as `tests/shared/test_http.py`.
"""

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import AwareDatetime, BaseModel, ValidationError

from shared.http import ServiceClient, create_http_client
from tests.shared.test_http import read_request, serve


class Thing(BaseModel):
    id: str
    count: int


class ThingCreate(BaseModel):
    name: str
    at: AwareDatetime


class Echo:
    """A server that answers `answer` and keeps each request it read."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.requests: list[bytes] = []

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.requests.append(await read_request(reader))
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(self.answer)}\r\nConnection: close\r\n\r\n".encode()
            + self.answer
        )
        await writer.drain()
        writer.close()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    client = create_http_client(0.5)
    yield client
    await client.aclose()


async def test_get_decodes_the_answer_into_the_model(http: httpx.AsyncClient) -> None:
    echo = Echo(b'{"id": "t_1", "count": 3, "extra": true}')
    server, url = await serve(echo)
    async with server:
        thing = await ServiceClient(http, url, None)._get("/things/t_1", Thing)

    assert thing == Thing(id="t_1", count=3)
    assert echo.requests[0].startswith(b"GET /things/t_1 ")


async def test_post_sends_a_model_as_json_and_decodes_the_answer(http: httpx.AsyncClient) -> None:
    echo = Echo(b'{"id": "t_2", "count": 0}')
    server, url = await serve(echo)
    body = ThingCreate.model_validate({"name": "x", "at": "2026-11-26T08:00:00Z"})
    async with server:
        thing = await ServiceClient(http, url, None)._post("/things", Thing, body=body)

    assert thing == Thing(id="t_2", count=0)
    sent = json.loads(echo.requests[0].split(b"\r\n\r\n", 1)[1])
    assert sent == {"name": "x", "at": "2026-11-26T08:00:00Z"}


async def test_an_answer_of_another_shape_is_refused(http: httpx.AsyncClient) -> None:
    server, url = await serve(Echo(b'{"id": "t_3"}'))
    async with server:
        with pytest.raises(ValidationError):
            await ServiceClient(http, url, None)._get("/things/t_3", Thing)
