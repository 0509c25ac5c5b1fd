"""Bearer access tokens: issuing them (dev issuer, service tokens) and verifying them.

Access tokens are JWTs with header `typ: at+jwt` (RFC 9068), signed with EdDSA (Ed25519).
Verification pins the algorithm, requires `iss`, `aud`, `sub`, `exp` and `iat`, checks the
`typ` header so that no other kind of JWT (a license token, say) passes as an access token,
and reads the principal's role from the `role` claim.

Two kinds of issuer are trusted, each for its own roles only:

- the **user issuer** (`<SVC>_AUTH_ISSUER`, its key file or JWKS) signs tokens for partners,
  customers and reviewers, with the shared API audience, so one user token works with every
  service. A token of this issuer that claims the role `service` is refused.
- each **calling service** signs its own service tokens with its own key: `iss` and `sub` name
  the caller (`urn:market:service:orders`, `orders`), `aud` names the one service the token is
  for (`urn:market:service:license`), and the role is `service` and nothing else. A service
  trusts only the callers it expects (license: orders; catalog: review), so a token orders
  holds for license is refused by catalog, and a review key can't mint licenses.

With a JWKS URL, keys are fetched with the process's async HTTP client, never inside a request's
critical path once cached: see `JwksKeys`.
"""

import asyncio
import base64
import binascii
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared.keys import key_id, load_private_key, load_public_key
from shared.problems import InvalidTokenError
from shared.settings import KeySetting, ServiceSettings
from shared.text import SUBJECT  # a principal's id: a label of 1 to 200 characters

log = logging.getLogger("market.auth")

ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 (a JWT type, not a secret)
ALGORITHM = "EdDSA"
DEFAULT_TTL_SECONDS = 3600
MAX_TTL_SECONDS = 30 * 24 * 3600
SERVICE_TOKEN_TTL_SECONDS = 600
# Verified access tokens remembered per process, and for how long at most (see `verify`).
VERIFIED_TOKENS = 4096
VERIFIED_SECONDS = 60.0
# A JWKS is fetched again after this long (in the background, serving the cached keys), and
# an unknown `kid` makes it fetched at once, but at most once per JWKS_RETRY_SECONDS.
JWKS_MAX_AGE_SECONDS = 300.0
JWKS_RETRY_SECONDS = 30.0
SERVICE_URN = "urn:market:service:"


class Role(StrEnum):
    partner = "partner"
    customer = "customer"
    reviewer = "reviewer"
    service = "service"


USER_ROLES = frozenset({Role.partner, Role.customer, Role.reviewer})


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token's `sub` and its role (for a service, `sub` is its name)."""

    sub: str
    role: Role


def service_urn(name: str) -> str:
    """The `iss` of a service's own tokens, and the `aud` of tokens meant for it."""
    return f"{SERVICE_URN}{name}"


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
    """Sign an access token for `sub` in `role`, valid for `ttl_seconds`.

    The header's `kid` is the key's RFC 7638 thumbprint, what a JWKS publishing it would use.
    """
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
    headers = {"typ": ACCESS_TOKEN_TYPE, "kid": key_id(key.public_key())}
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers=headers)


def issue_service_token(
    key: Ed25519PrivateKey,
    *,
    caller: str,
    callee: str,
    ttl_seconds: int = SERVICE_TOKEN_TTL_SECONDS,
    now: float | None = None,
) -> str:
    """Sign a token for service `caller` to call service `callee`, and nothing else."""
    return issue_access_token(
        key,
        issuer=service_urn(caller),
        audience=service_urn(callee),
        sub=caller,
        role=Role.service,
        ttl_seconds=ttl_seconds,
        now=now,
    )


# -- where the public keys come from ---------------------------------------------------------


class PublicKeys(Protocol):
    """The public keys of one issuer."""

    async def get(self, kid: str | None) -> Ed25519PublicKey:
        """The key a token with this `kid` header is signed with, or `InvalidTokenError`."""
        ...


class StaticKey:
    """One public key, from a PEM file: it verifies every token of its issuer, whatever the kid."""

    def __init__(self, key: Ed25519PublicKey) -> None:
        self._key = key

    async def get(self, kid: str | None) -> Ed25519PublicKey:
        return self._key


class JwksKeys:
    """An issuer's keys from its JWKS URL, fetched asynchronously and served from memory.

    - A known `kid` is answered from memory at once. When the keys are older than `max_age`, a
      refresh starts in the background (at most one per `retry_seconds`, so an issuer that is
      down is not asked on every request); the request doesn't wait for it.
    - An unknown `kid` (or no keys yet) waits for a refresh, but at most one refresh is in
      flight and at most one starts per `retry_seconds`: a flood of tokens with made-up kids
      costs the issuer one request per interval, not one per token.
    - A refresh that fails (unreachable, not JSON, no usable key) keeps the keys there were.
    """

    def __init__(
        self,
        url: str,
        http: httpx.AsyncClient,
        *,
        max_age_seconds: float = JWKS_MAX_AGE_SECONDS,
        retry_seconds: float = JWKS_RETRY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._http = http
        self._max_age = max_age_seconds
        self._retry = retry_seconds
        self._clock = clock
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._refresh: asyncio.Task[None] | None = None

    async def get(self, kid: str | None) -> Ed25519PublicKey:
        now = self._clock()
        key = self._keys.get(kid) if kid is not None else None
        if key is not None:
            stale = self._fetched_at is not None and now - self._fetched_at >= self._max_age
            if stale and self._may_refresh(now):
                self._start_refresh(now)
            return key
        if self._may_refresh(now):
            await asyncio.shield(self._start_refresh(now))
            key = self._keys.get(kid) if kid is not None else None
            if key is not None:
                return key
        raise InvalidTokenError("The access token is signed with a key its issuer doesn't list.")

    def _may_refresh(self, now: float) -> bool:
        in_flight = self._refresh is not None and not self._refresh.done()
        return in_flight or self._attempted_at is None or now - self._attempted_at >= self._retry

    def _start_refresh(self, now: float) -> "asyncio.Task[None]":
        if self._refresh is None or self._refresh.done():
            self._attempted_at = now
            self._refresh = asyncio.create_task(self._fetch(), name=f"jwks {self.url}")
        return self._refresh

    async def _fetch(self) -> None:
        try:
            response = await self._http.get(self.url, headers={"Accept": "application/json"})
            response.raise_for_status()
            keys = _ed25519_keys(response.json())
        except Exception as exc:
            log.warning(
                "JWKS refresh failed; keeping the keys there were",
                extra={"url": self.url, "error": f"{type(exc).__name__}: {exc}"},
            )
            return
        self._keys = keys
        self._fetched_at = self._clock()


def _ed25519_keys(document: Any) -> dict[str, Ed25519PublicKey]:
    """The Ed25519 keys with a kid in a JWKS document; ValueError if there is none."""
    entries = document.get("keys") if isinstance(document, dict) else None
    keys: dict[str, Ed25519PublicKey] = {}
    for entry in entries if isinstance(entries, list) else []:
        try:
            jwk = jwt.PyJWK(entry, algorithm=ALGORITHM)
        except (jwt.PyJWTError, TypeError, ValueError, KeyError):
            continue
        if isinstance(jwk.key, Ed25519PublicKey) and isinstance(jwk.key_id, str):
            keys[jwk.key_id] = jwk.key
    if not keys:
        raise ValueError("the JWKS holds no Ed25519 key with a kid")
    return keys


def public_keys(setting: KeySetting, http: httpx.AsyncClient) -> PublicKeys:
    """The keys a (key file, JWKS URL) pair of settings names: a JWKS URL wins."""
    if setting.jwks_url:
        return JwksKeys(setting.jwks_url, http)
    if setting.public_key_file is None:
        raise ValueError(f"{setting.name} needs a public key file or a JWKS URL")
    return StaticKey(load_public_key(setting.public_key_file))


# -- verifying -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    """An issuer this service accepts tokens from, with the roles it may give.

    `subject`, when set, is the only `sub` its tokens may carry (a service's own name).
    """

    issuer: str
    audience: str
    keys: PublicKeys
    roles: frozenset[Role]
    subject: str | None = None


class AccessTokenVerifier:
    """Checks access tokens against the issuers this service trusts (see the module docstring)."""

    def __init__(self, issuers: Iterable[TrustedIssuer], *, leeway_seconds: int = 30) -> None:
        self._issuers = {trusted.issuer: trusted for trusted in issuers}
        if not self._issuers:
            raise ValueError("an access-token verifier needs at least one trusted issuer")
        self._leeway = leeway_seconds
        self._verified: dict[str, tuple[Principal, float]] = {}

    @classmethod
    def from_settings(
        cls, settings: ServiceSettings, service: str, http: httpx.AsyncClient
    ) -> "AccessTokenVerifier":
        """The verifier of service `service`: its user issuer and the callers it expects."""
        users = TrustedIssuer(
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            keys=public_keys(settings.user_issuer_keys(), http),
            roles=USER_ROLES,
        )
        callers = [
            TrustedIssuer(
                issuer=service_urn(caller),
                audience=service_urn(service),
                keys=public_keys(setting, http),
                roles=frozenset({Role.service}),
                subject=caller,
            )
            for caller, setting in settings.trusted_callers().items()
        ]
        if any(caller.issuer == users.issuer for caller in callers):
            raise ValueError("the user issuer can't have a service's name")
        return cls([users, *callers])

    async def verify(self, token: str) -> Principal:
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
        principal, expires = await self._verify(token)
        if len(self._verified) >= VERIFIED_TOKENS:
            self._verified.clear()
        self._verified[token] = (principal, min(expires + self._leeway, now + VERIFIED_SECONDS))
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float]:
        header, issuer = _unverified_header_and_issuer(token)
        if str(header.get("typ", "")).lower() not in (ACCESS_TOKEN_TYPE, "application/at+jwt"):
            raise InvalidTokenError("The token is not an access token (typ at+jwt).")
        if header.get("alg") != ALGORITHM:
            raise InvalidTokenError("The token's algorithm is not accepted.")
        trusted = self._issuers.get(issuer) if isinstance(issuer, str) else None
        if trusted is None:
            raise InvalidTokenError("The access token's issuer is not trusted here.")
        kid = header.get("kid")
        key = await trusted.keys.get(kid if isinstance(kid, str) else None)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=trusted.audience,
                issuer=trusted.issuer,
                leeway=self._leeway,
                options={"require": ["iss", "aud", "sub", "exp", "iat"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidTokenError("The access token has expired.") from None
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(f"The access token is not valid: {exc}.") from None
        except (ValueError, TypeError, OverflowError):
            raise InvalidTokenError("The access token is malformed.") from None
        try:
            role = Role(str(claims.get("role")))
        except ValueError:
            raise InvalidTokenError("The access token has no known role.") from None
        if role not in trusted.roles:
            raise InvalidTokenError(f"This issuer can't give the role {role.value}.")
        sub = claims["sub"]
        if not isinstance(sub, str) or not SUBJECT.fullmatch(sub):
            raise InvalidTokenError(
                "The access token's subject must be 1 to 200 printable characters."
            )
        if trusted.subject is not None and sub != trusted.subject:
            raise InvalidTokenError("A service token's subject must be its issuer's name.")
        return Principal(sub=sub, role=role), float(claims["exp"])


def _unverified_header_and_issuer(token: str) -> tuple[Mapping[str, Any], Any]:
    """The header and the `iss` claim, read before any check to choose the key.

    Nothing read here is trusted: the signature check that follows covers both.
    """
    try:
        header = jwt.get_unverified_header(token)
        payload = token.split(".")[1].encode("ascii")
        claims = json.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
    except (jwt.PyJWTError, IndexError, UnicodeError, binascii.Error, ValueError, RecursionError):
        raise InvalidTokenError("The access token is not a JWT.") from None
    if not isinstance(claims, dict):
        raise InvalidTokenError("The access token's claims are not a JSON object.")
    return header, claims.get("iss")


# -- signing this service's own tokens -------------------------------------------------------


class ServiceTokenSource:
    """Signs this service's own short-lived `service` tokens, one audience per callee.

    A token is reused until a minute before it expires, so signing is not on every call.
    """

    def __init__(
        self,
        key: Ed25519PrivateKey,
        *,
        service_name: str,
        ttl_seconds: int = SERVICE_TOKEN_TTL_SECONDS,
    ) -> None:
        self._key = key
        self._name = service_name
        self._ttl = ttl_seconds
        self._tokens: dict[str, tuple[str, float]] = {}

    @classmethod
    def from_file(cls, path: Path, *, service_name: str) -> "ServiceTokenSource":
        """Build a source from this service's private key file (its settings name it)."""
        return cls(load_private_key(path), service_name=service_name)

    def token(self, callee: str) -> str:
        """A valid token of this service for calling service `callee`."""
        now = time.time()
        cached = self._tokens.get(callee)
        if cached is not None and now < cached[1]:
            return cached[0]
        token = issue_service_token(
            self._key, caller=self._name, callee=callee, ttl_seconds=self._ttl, now=now
        )
        self._tokens[callee] = (token, now + self._ttl - 60)
        return token
