"""`RequestGuardMiddleware`: what no handler should have to think about, refused up front."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.app.handlers import problem_response
from shared.problems import PayloadTooLargeError, ValidationProblem


class NulCharacterError(ValidationProblem):
    code = "nul_character"
    title = "The request contains a NUL character"


class RequestGuardMiddleware:
    """Refuses, before any handler runs, what no handler should have to think about.

    - Bodies over a size limit (413): `Content-Length` is checked up front, a streamed body
      is counted as it arrives. Paths in `overrides` get their own limit (uploads).
    - U+0000 in the path, the query or a JSON body (422 `nul_character`): PostgreSQL can't
      store it in text or jsonb, so letting it through would turn bad input into a 500.
    """

    def __init__(self, app: ASGIApp, limit: int, overrides: dict[str, int]) -> None:
        self.app = app
        self.limit = limit
        self.overrides = overrides

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope["query_string"]:
            await problem_response(_nul())(scope, receive, send)
            return
        limit = self.overrides.get(scope["path"], self.limit)
        is_json = False
        for key, value in scope["headers"]:
            if key == b"content-length" and not _length_within(value, limit):
                await problem_response(_too_large(limit))(scope, receive, send)
                return
            if key == b"content-type":
                is_json = b"json" in value.lower()
        received = 0
        tail = b""

        async def guarded_receive() -> Message:
            nonlocal received, tail
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > limit:
                    raise _too_large(limit)
                if is_json:
                    window = tail + chunk
                    if b"\\u0000" in window or b"\x00" in window:
                        raise _nul()
                    tail = window[-5:]
            return message

        await self.app(scope, guarded_receive, send)


def _length_within(value: bytes, limit: int) -> bool:
    """Whether a `Content-Length` value is a number no larger than `limit`.

    The digits are counted before `int` sees them: Python refuses to parse more than 4300
    digits (ValueError), and a header of 5000 zeros must be a 413 like any other, not a 500.
    """
    if not value.isdigit():
        return False
    digits = value.lstrip(b"0")
    return len(digits) <= len(str(limit)) and int(digits or b"0") <= limit


def _nul() -> NulCharacterError:
    return NulCharacterError("Remove U+0000 (NUL) from the path, query or body.")


def _too_large(limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(f"The request body is larger than {limit} bytes.")
