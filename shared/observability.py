"""Request ids, JSON logs and Prometheus metrics for every service.

`RequestContextMiddleware` is the outermost layer of each app: it accepts or makes an
`X-Request-ID`, echoes it, logs one JSON line per request, records metrics, and turns an
unhandled exception into a logged problem+json 500 that reveals nothing internal.
"""

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.problems import PROBLEM_MEDIA_TYPE, ProblemError

REQUEST_ID_HEADER = "x-request-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

access_log = logging.getLogger("market.access")
error_log = logging.getLogger("market.error")


def current_request_id() -> str | None:
    """The id of the request being handled, for logs and outgoing calls."""
    return request_id_var.get()


class JSONFormatter(logging.Formatter):
    """One JSON object per line, with the request id and any `extra={...}` fields.

    Written here rather than pulled in: it is a dozen lines and the log shape is ours.
    """

    _RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "service": self._service,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": request_id_var.get(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in self._RESERVED})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(service: str, level: str) -> None:
    """Send every log record to stderr as JSON lines (idempotent)."""
    JSONFormatter.converter = time.gmtime
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter(service))
    root.handlers = [handler]
    root.setLevel(level.upper())


class Metrics:
    """The metrics of one app, in a registry of its own (several apps may share a process):
    HTTP requests, and the app's outbox (if it has one) by topic."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests handled.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to handle an HTTP request.",
            ["method", "route"],
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=self.registry,
        )
        # Alert on the gauge: a failed entry waits for an operator (`market outbox retry`).
        self.outbox_failed_total = Counter(
            "outbox_entries_failed_total",
            "Outbox entries this process set aside as failed for good (refused by the "
            "receiver, or out of attempts).",
            ["topic"],
            registry=self.registry,
        )
        self.outbox_failed = Gauge(
            "outbox_failed_entries",
            "Outbox entries failed and not retried yet (in the database, all replicas).",
            ["topic"],
            registry=self.registry,
        )
        self.outbox_pending = Gauge(
            "outbox_pending_entries",
            "Outbox entries still to deliver (in the database, all replicas).",
            ["topic"],
            registry=self.registry,
        )


class RequestContextMiddleware:
    """Pure ASGI middleware (no BaseHTTPMiddleware overhead); see the module docstring."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, REQUEST_ID_HEADER)
        request_id = (
            incoming if incoming and _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        )
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode("ascii")),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            error_log.exception("unhandled error")
            if response_started:
                raise
            status = 500
            await _send_internal_error(send, request_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(elapsed)
            access_log.info(
                "request",
                extra={
                    "method": method,
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            request_id_var.reset(token)


def _header(scope: Scope, name: str) -> str | None:
    raw = name.encode("latin-1")
    for key, value in scope["headers"]:
        if key == raw:
            return str(value.decode("latin-1"))
    return None


async def _send_internal_error(send: Send, request_id: str) -> None:
    body = json.dumps(ProblemError("An unexpected error occurred.").to_problem(request_id)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode("ascii")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
