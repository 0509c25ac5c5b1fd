"""FastAPI dependencies that turn a bearer token into a `Principal` and check who may call.

Users and services are admitted by different dependencies, so that no route can admit both by
accident: `require(*roles)` takes user roles only, and `caller(*services)` admits the service
tokens of the named services only; it is meant for the `/v1/internal` routes (a test walks
every app's routes to hold that).
"""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.app.state import service_state
from shared.auth import USER_ROLES, Principal, Role
from shared.problems import ForbiddenError, InvalidTokenError, UnauthenticatedError

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="An access token (`typ: at+jwt`). "
    "In development: `market token --role ROLE --sub ID`.",
)

AUTH_ERRORS = (UnauthenticatedError, InvalidTokenError, ForbiddenError)
INTERNAL_PREFIX = "/v1/internal/"


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """The caller, from the `Authorization: Bearer` header; 401 without a valid token."""
    if credentials is None:
        raise UnauthenticatedError(
            "Send an access token in the Authorization header: `Bearer <token>`.",
            headers={"WWW-Authenticate": 'Bearer realm="market"'},
        )
    verifier = service_state(request.app).verifier
    try:
        return await verifier.verify(credentials.credentials)
    except InvalidTokenError as exc:
        exc.headers.setdefault("WWW-Authenticate", 'Bearer realm="market", error="invalid_token"')
        raise


async def optional_principal(request: Request) -> Principal | None:
    """The caller if a valid user token came along, else None: for reads that are public too."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    verifier = service_state(request.app).verifier
    try:
        principal = await verifier.verify(token.strip())
    except InvalidTokenError:
        return None
    return principal if principal.role in USER_ROLES else None


def require(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits only users in one of `roles` (403 otherwise)."""
    allowed = frozenset(roles)
    if not allowed or not allowed <= USER_ROLES:
        raise ValueError("require() admits user roles; services are admitted by caller()")
    names = ", ".join(sorted(r.value for r in allowed))

    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role not in allowed:
            raise ForbiddenError(f"This operation is for the role(s): {names}.")
        return principal

    return dependency


def caller(*services: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits only the service tokens of `services` (403 otherwise)."""
    allowed = frozenset(services)
    names = ", ".join(sorted(allowed))

    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role is not Role.service or principal.sub not in allowed:
            raise ForbiddenError(f"This internal operation is for the service(s): {names}.")
        return principal

    dependency.internal_callers = allowed  # type: ignore[attr-defined]
    return dependency


Partner = Annotated[Principal, Depends(require(Role.partner))]
Customer = Annotated[Principal, Depends(require(Role.customer))]
Reviewer = Annotated[Principal, Depends(require(Role.reviewer))]
