"""Access tokens that verified, remembered until they expire, for the license API's hot reads.

An installed application reads its entitlement again and again with the same access token;
verifying that token (Ed25519 and PyJWT's checks) costs more than the rest of the request. A
token's verdict can only change when it expires, or when the issuer drops its key from the
JWKS; so a verified token is remembered until its `exp`, and never longer than `ttl_seconds`.
Failures are never remembered. The cache is bounded; it is cleared when full.
"""

import time
from collections.abc import Callable

import jwt

from shared.auth import AccessTokenVerifier, Principal


class CachingAccessTokenVerifier:
    """An `AccessTokenVerifier` with a memory of the tokens it accepted."""

    def __init__(
        self,
        inner: AccessTokenVerifier,
        *,
        ttl_seconds: float = 60.0,
        size: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._inner = inner
        self._ttl = ttl_seconds
        self._size = size
        self._clock = clock
        self._accepted: dict[str, tuple[Principal, float]] = {}

    def verify(self, token: str) -> Principal:
        """The principal of a valid access token, or `InvalidTokenError`."""
        now = self._clock()
        remembered = self._accepted.get(token)
        if remembered is not None and now < remembered[1]:
            return remembered[0]
        principal = self._inner.verify(token)
        expires = jwt.decode(token, options={"verify_signature": False}).get("exp")
        until = now + self._ttl
        if isinstance(expires, int | float):
            until = min(until, float(expires))
        if len(self._accepted) >= self._size:
            self._accepted.clear()
        self._accepted[token] = (principal, until)
        return principal
