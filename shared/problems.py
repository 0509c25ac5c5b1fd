"""RFC 9457 problem details: error classes that carry their status, stable code and title.

Raise a `ProblemError` subclass anywhere below a route; `shared.app` renders it once as
`application/problem+json`. Consumers branch on `code`, never on `title` or `detail`.
This module imports no web framework, so domain code may raise these errors too.
"""

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem_type(code: str) -> str:
    """The `type` URI of a problem code: stable, and unique per code."""
    return f"urn:market:problem:{code}"


class FieldError(BaseModel):
    """One field-level problem: where (`loc`), what (`msg`) and its machine-readable `type`."""

    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """The problem+json body every error response has."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["urn:market:problem:not_found"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str | None = Field(default=None, examples=["No product prd_x3n… is visible to you."])
    code: str = Field(examples=["not_found"])
    request_id: str | None = Field(default=None, examples=["3b6f0c0e9a1d4c7e"])
    errors: list[FieldError] | None = None


class ProblemError(Exception):
    """Base of every error the API renders as problem+json.

    Subclasses set `status`, `code` and `title`; an instance may add a `detail`, field
    `errors`, extra members and response headers.
    """

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    title: ClassVar[str] = "Internal server error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Iterable[FieldError] | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = list(errors) if errors is not None else None
        self.headers = dict(headers or {})
        self.extra = extra

    def to_problem(self, request_id: str | None) -> dict[str, Any]:
        """The JSON body of this problem."""
        body: dict[str, Any] = {
            "type": problem_type(self.code),
            "title": self.title,
            "status": self.status,
            "detail": self.detail or self.title,
            "code": self.code,
            "request_id": request_id,
        }
        if self.errors is not None:
            body["errors"] = [e.model_dump() for e in self.errors]
        body.update(self.extra)
        return body


class BadRequestError(ProblemError):
    status = 400
    code = "bad_request"
    title = "Bad request"


class UnauthenticatedError(ProblemError):
    status = 401
    code = "unauthenticated"
    title = "Authentication required"


class InvalidTokenError(ProblemError):
    status = 401
    code = "invalid_token"
    title = "Invalid access token"


class ForbiddenError(ProblemError):
    status = 403
    code = "forbidden"
    title = "Not allowed for this role"


class NotFoundError(ProblemError):
    status = 404
    code = "not_found"
    title = "Not found"


class MethodNotAllowedError(ProblemError):
    status = 405
    code = "method_not_allowed"
    title = "Method not allowed"


class ConflictError(ProblemError):
    status = 409
    code = "conflict"
    title = "Conflict"


class PayloadTooLargeError(ProblemError):
    status = 413
    code = "payload_too_large"
    title = "Request body too large"


class UnsupportedMediaTypeError(ProblemError):
    status = 415
    code = "unsupported_media_type"
    title = "Unsupported media type"


class ValidationProblem(ProblemError):
    status = 422
    code = "validation_error"
    title = "Invalid request"


class InvalidCursorError(ProblemError):
    status = 422
    code = "invalid_cursor"
    title = "Invalid pagination cursor"


class ServiceUnavailableError(ProblemError):
    status = 503
    code = "service_unavailable"
    title = "Service unavailable"


class DatabaseUnavailableError(ServiceUnavailableError):
    """The service's own database can't be reached: the request may be retried as it is."""

    code = "unavailable"
    title = "Temporarily unavailable"


def problem_responses(*errors: type[ProblemError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a route: each status with the codes it may carry, and examples."""
    by_status: dict[int, list[type[ProblemError]]] = {}
    for error in errors:
        by_status.setdefault(error.status, []).append(error)
    responses: dict[int | str, dict[str, Any]] = {}
    for status, classes in sorted(by_status.items()):
        codes = ", ".join(f"`{c.code}`" for c in classes)
        examples = {
            c.code: {
                "summary": c.title,
                "value": {
                    "type": problem_type(c.code),
                    "title": c.title,
                    "status": c.status,
                    "detail": c.title,
                    "code": c.code,
                    "request_id": "3b6f0c0e9a1d4c7e",
                },
            }
            for c in classes
        }
        responses[status] = {
            "description": f"{classes[0].title if len(classes) == 1 else 'Problem'}: {codes}",
            "model": Problem,
            "content": {PROBLEM_MEDIA_TYPE: {"examples": examples}},
        }
    return responses
