"""FastAPI dependencies that turn a bearer token into a `Principal` and check its role."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.auth import AccessTokenVerifier, Principal, Role
from shared.problems import ForbiddenError, InvalidTokenError, UnauthenticatedError

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="An access token (`typ: at+jwt`). "
    "In development: `market token --role ROLE --sub ID`.",
)

AUTH_ERRORS = (UnauthenticatedError, InvalidTokenError, ForbiddenError)


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
    verifier: AccessTokenVerifier = request.app.state.verifier
    try:
        return verifier.verify(credentials.credentials)
    except InvalidTokenError as exc:
        exc.headers.setdefault("WWW-Authenticate", 'Bearer realm="market", error="invalid_token"')
        raise


def require(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits only callers in one of `roles` (403 otherwise)."""
    allowed = frozenset(roles)
    names = ", ".join(sorted(r.value for r in allowed))

    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role not in allowed:
            raise ForbiddenError(f"This operation is for the role(s): {names}.")
        return principal

    return dependency


Partner = Annotated[Principal, Depends(require(Role.partner))]
Customer = Annotated[Principal, Depends(require(Role.customer))]
Reviewer = Annotated[Principal, Depends(require(Role.reviewer))]
Service = Annotated[Principal, Depends(require(Role.service))]
