"""Bearer access tokens: issuing (dev issuer, service tokens) and verifying them.

Access tokens are JWTs with header `typ: at+jwt` (RFC 9068), signed with EdDSA (Ed25519).
Verification pins the algorithm, requires `iss`, `aud`, `sub`, `exp` and `iat`, checks the
`typ` header so that no other kind of JWT (a license token, say) passes as an access token,
and reads the principal's role from the `role` claim.
"""

import time
import uuid
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared.keys import load_private_key, load_public_key
from shared.problems import InvalidTokenError
from shared.settings import ServiceSettings
from shared.text import SUBJECT  # a principal's id: a label of 1 to 200 characters

ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 (a JWT type, not a secret)
ALGORITHM = "EdDSA"
DEFAULT_TTL_SECONDS = 3600
MAX_TTL_SECONDS = 30 * 24 * 3600
# Verified access tokens remembered per process, and for how long at most (see `verify`).
VERIFIED_TOKENS = 4096
VERIFIED_SECONDS = 60.0


class Role(StrEnum):
    partner = "partner"
    customer = "customer"
    reviewer = "reviewer"
    service = "service"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token's `sub` and its role."""

    sub: str
    role: Role


def issue_access_token(
    key: Ed25519PrivateKey,
    *,
    issuer: str,
    audience: str,
    sub: str,
    role: Role,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    now: float | None = None,
) -> str:
    """Sign an access token for `sub` in `role`, valid for `ttl_seconds`."""
    if not 1 <= ttl_seconds <= MAX_TTL_SECONDS:
        raise ValueError(f"ttl must be between 1 and {MAX_TTL_SECONDS} seconds")
    issued = int(now if now is not None else time.time())
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": sub,
        "role": role.value,
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"typ": ACCESS_TOKEN_TYPE})


class AccessTokenVerifier:
    """Checks access tokens against the issuer's public key or its JWKS.

    With a JWKS URL, keys are fetched by PyJWKClient and cached; the fetch is blocking, so it
    happens at most once per cache lifetime (and on an unknown `kid`).
    """

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        public_key: Ed25519PublicKey | None = None,
        jwks_url: str | None = None,
        leeway_seconds: int = 30,
    ) -> None:
        if public_key is None and jwks_url is None:
            raise ValueError("an access-token verifier needs a public key or a JWKS URL")
        self._issuer = issuer
        self._audience = audience
        self._public_key = public_key
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300) if jwks_url else None
        self._leeway = leeway_seconds
        self._verified: dict[str, tuple[Principal, float]] = {}

    @classmethod
    def from_files(
        cls, *, issuer: str, audience: str, public_key_file: Path | None, jwks_url: str | None
    ) -> "AccessTokenVerifier":
        """Build a verifier from settings: a JWKS URL wins over a key file."""
        key = load_public_key(public_key_file) if public_key_file and not jwks_url else None
        return cls(issuer=issuer, audience=audience, public_key=key, jwks_url=jwks_url)

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> "AccessTokenVerifier":
        """The verifier a service's settings describe."""
        return cls.from_files(
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            public_key_file=settings.auth_public_key_file,
            jwks_url=settings.auth_jwks_url,
        )

    def verify(self, token: str) -> Principal:
        """Return the principal of a valid access token, or raise `InvalidTokenError`.

        A token verified once is remembered (at most `VERIFIED_TOKENS` of them), so a client
        that sends the same token on every request costs one signature check per
        `VERIFIED_SECONDS`, not one per request; it is still refused once it expires. The
        remembered answer lasts no longer than a cached JWKS key would.
        """
        now = time.time()
        known = self._verified.get(token)
        if known is not None and now < known[1]:
            return known[0]
        principal, expires = self._verify(token)
        if len(self._verified) >= VERIFIED_TOKENS:
            self._verified.clear()
        self._verified[token] = (principal, min(expires + self._leeway, now + VERIFIED_SECONDS))
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
            if str(header.get("typ", "")).lower() not in (ACCESS_TOKEN_TYPE, "application/at+jwt"):
                raise InvalidTokenError("The token is not an access token (typ at+jwt).")
            if header.get("alg") != ALGORITHM:
                raise InvalidTokenError("The token's algorithm is not accepted.")
            key: Any = self._public_key
            if self._jwks is not None:
                key = self._jwks.get_signing_key_from_jwt(token).key
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["iss", "aud", "sub", "exp", "iat"]},
            )
        except InvalidTokenError:
            raise
        except jwt.ExpiredSignatureError:
            raise InvalidTokenError("The access token has expired.") from None
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(f"The access token is not valid: {exc}.") from None
        try:
            role = Role(str(claims.get("role")))
        except ValueError:
            raise InvalidTokenError("The access token has no known role.") from None
        sub = claims["sub"]
        if not isinstance(sub, str) or not SUBJECT.fullmatch(sub):
            raise InvalidTokenError(
                "The access token's subject must be 1 to 200 printable characters."
            )
        return Principal(sub=sub, role=role), float(claims["exp"])


class ServiceTokenSource:
    """Signs this service's own short-lived `service` tokens for calls to other services.

    A token is reused until a minute before it expires, so signing is not on every call.
    """

    def __init__(
        self,
        key: Ed25519PrivateKey,
        *,
        issuer: str,
        audience: str,
        service_name: str,
        ttl_seconds: int = 600,
    ) -> None:
        self._key = key
        self._issuer = issuer
        self._audience = audience
        self._name = service_name
        self._ttl = ttl_seconds
        self._token = ""
        self._renew_at = 0.0

    @classmethod
    def from_file(
        cls, path: Path, *, issuer: str, audience: str, service_name: str
    ) -> "ServiceTokenSource":
        """Build a source from the private key file in settings."""
        return cls(
            load_private_key(path), issuer=issuer, audience=audience, service_name=service_name
        )

    @classmethod
    def from_settings(
        cls, settings: ServiceSettings, service_name: str
    ) -> "ServiceTokenSource | None":
        """The source a service's settings describe; None when they name no key."""
        if settings.service_token_key_file is None:
            return None
        return cls.from_file(
            settings.service_token_key_file,
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            service_name=service_name,
        )

    def token(self) -> str:
        """A valid service token for this service."""
        now = time.time()
        if now >= self._renew_at:
            self._token = issue_access_token(
                self._key,
                issuer=self._issuer,
                audience=self._audience,
                sub=self._name,
                role=Role.service,
                ttl_seconds=self._ttl,
                now=now,
            )
            self._renew_at = now + self._ttl - 60
        return self._token
