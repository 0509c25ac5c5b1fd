"""Offline verification of license tokens: no network, no database, no web framework.

An installed application (or `market license verify`) builds an `OfflineVerifier` from the
license service's JWKS (`GET /.well-known/jwks.json`, saved to a file) and, optionally, its
signed revocation list (`GET /v1/revocations`), and checks tokens with them:

    verifier = OfflineVerifier.from_files(Path("jwks.json"), Path("revocations.json"))
    verdict = verifier.verify(token, audience="prd_…")   # the application's own product id
    report = verifier.entitlements([base_token, addon_token])  # summed per instance

The checks follow RFC 8725, in this order, each with its code:

1. three base64url segments and a JSON header without `crit` (`MALFORMED`);
2. the algorithm pinned to `EdDSA`: `none`, HMAC and every other algorithm are refused
   before any key is touched (`BAD_SIGNATURE`);
3. the explicit type: `license+jwt` for a license (`WRONG_TYPE`: an access token `at+jwt`,
   a bundle, a revocation list);
4. the `kid`, resolved only against the JWKS, whose keys must be OKP/Ed25519 (`UNKNOWN_KEY`);
5. the Ed25519 signature over the exact bytes received (`BAD_SIGNATURE`);
6. the claims' shape (`MALFORMED`), then the issuer and, when the caller names its product,
   the audience (`WRONG_TYPE`: not a license of this issuer or for this product);
7. the revocation list (`REVOKED`), then `nbf` and `exp` (`EXPIRED`: outside the validity
   period, before it as well as after it);
8. the revocation list's own `exp`: a token that passed everything is `STALE`, not `VALID`,
   while the list is stale (see below).

`SUPERSEDED` needs to know a license's newest version. Online, `POST /v1/verify` knows it;
offline, `entitlements()` marks a token `SUPERSEDED` when a newer version of the same license
is among the tokens it is given.

The revocation list (`GET /v1/revocations`, `typ revocation-list+jwt`) carries `iat`, `exp`
and `seq`, the number of the newest revocation it includes (it grows with every revocation).
A list without `exp` and `seq` is refused, as is one whose `seq` is lower than one this
verifier has seen (`RevocationListRolledBackError`): an older list may lack revocations made
since, and replaying one must not make a revoked license valid again. Keep the highest `seq`
across restarts with `read_seen_seq` / `record_seen_seq` and pass it as `seen_seq`:

    seen = read_seen_seq(Path("verifier-state.json"))
    verifier = OfflineVerifier.from_files(jwks_file, revocations_file, seen_seq=seen)
    record_seen_seq(Path("verifier-state.json"), verifier.seq)

Without that state, a list replayed while it has not expired yet is taken: `exp` bounds how
long an old list can be replayed, the state closes that window. (A state file outlives the
service's database: if the license database is ever rebuilt from nothing, `seq` starts again
at 0 and the state files must go with it.)

A list is **stale** once its `exp` has passed (`revocations_stale()`): a license revoked since
it was issued would not be on it. A token that would be `VALID` is then `STALE` instead, which
is not valid (the claims are there, authentic, for the application to show). What to do:

- fetch a fresh list (and the JWKS) whenever the network allows, well before `exp`; a list
  fetched every few hours never goes stale;
- on `STALE`, fetch a fresh list and verify again;
- an application that must keep working offline for longer than the list lasts chooses how
  long itself: `stale_grace_seconds` keeps a stale list trusted that much longer (verdicts
  stay `VALID`, `revocations_stale()` says the list is past `exp`). Knowing that a revoked
  license may work that long is the application author's decision, not the verifier's.

`REVOKED` from a stale list is still `REVOKED` (a revocation is never undone), and a token
outside its own validity period is `EXPIRED` whatever the list's age. Without any list the
verifier checks no revocation at all, and nothing is ever `STALE`.

Entitlements of an instance are the base license's quota plus the increments of the valid
add-on licenses whose parent is that base; without a valid base license they are empty.

This module needs only the standard library and `cryptography`: it may be copied into an
application as it is. The license service uses it too, for `POST /v1/verify`.
"""

import base64
import binascii
import json
import os
import re
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ALGORITHM = "EdDSA"
DEFAULT_ISSUER = "market-license"
LICENSE_TOKEN_TYPE = "license+jwt"  # noqa: S105 (JWT types, not secrets)
BUNDLE_TOKEN_TYPE = "license-bundle+jwt"  # noqa: S105
REVOCATION_LIST_TOKEN_TYPE = "revocation-list+jwt"  # noqa: S105

LEVELS = frozenset({"base", "addon"})
MODES = frozenset({"acceptance", "subscription", "permanent"})

# 64 bytes in 86 characters; the last one carries 2 bits and 4 zero bits, so no two strings
# decode to the same signature.
_SIGNATURE = re.compile(r"[A-Za-z0-9_-]{85}[AQgw]")
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
_HEADER_CACHE_SIZE = 256


class Code(StrEnum):
    """The outcome of a verification; only `VALID` means the token may be used.

    `STALE` is offline only: the token checks out but the revocation list is past its `exp`
    (and the verifier's grace), so whether it was revoked since is unknown.
    """

    VALID = "VALID"
    STALE = "STALE"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"
    SUPERSEDED = "SUPERSEDED"
    BAD_SIGNATURE = "BAD_SIGNATURE"
    UNKNOWN_KEY = "UNKNOWN_KEY"
    WRONG_TYPE = "WRONG_TYPE"
    MALFORMED = "MALFORMED"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a verification found: the code, why, and the claims once they are authentic.

    `claims` is None unless the signature was checked: unauthenticated claims are never
    handed out.
    """

    code: Code
    detail: str
    claims: Mapping[str, Any] | None = None

    @property
    def valid(self) -> bool:
        return self.code is Code.VALID

    @property
    def lic(self) -> Mapping[str, Any]:
        """The `lic` claim of an authentic license token (empty otherwise)."""
        value = self.claims.get("lic") if self.claims else None
        return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True, slots=True)
class InstanceEntitlement:
    """The summed entitlements of one instance and the licenses that make them up."""

    instance_id: str
    product_id: str
    entitlements: dict[str, int]
    licenses: list[str]


@dataclass(frozen=True, slots=True)
class Report:
    """The verdict of every token given to `entitlements()`, and the sums per instance."""

    verdicts: list[Verdict]
    instances: dict[str, InstanceEntitlement] = field(default_factory=dict)

    @property
    def all_valid(self) -> bool:
        return all(v.valid for v in self.verdicts)

    @property
    def stale(self) -> bool:
        """Whether a token was refused only because the revocation list is stale."""
        return any(v.code is Code.STALE for v in self.verdicts)


# Codes given only after the signature and the issuer were checked.
_AUTHENTIC = frozenset({Code.VALID, Code.STALE, Code.EXPIRED, Code.REVOKED})


class InvalidRevocationListError(ValueError):
    """The revocation list is not one this verifier can trust."""


class RevocationListRolledBackError(InvalidRevocationListError):
    """The list's `seq` is lower than one already seen: a replayed or rolled-back list."""

    def __init__(self, seq: int, seen_seq: int) -> None:
        super().__init__(
            f"The revocation list has seq {seq}, lower than the {seen_seq} already seen: it is "
            "older than a list this verifier trusted. Fetch a fresh one."
        )
        self.seq = seq
        self.seen_seq = seen_seq


@dataclass(frozen=True, slots=True)
class RevocationList:
    """The content of a signed revocation list: the license ids revoked up to revocation
    number `seq`, and the list's lifetime (NumericDates)."""

    issued_at: int
    expires_at: int
    seq: int
    revoked: frozenset[str]

    def stale(self, now: float, leeway_seconds: int = 0) -> bool:
        """Whether the list is past its `exp` at `now`."""
        return now - leeway_seconds >= self.expires_at


def read_seen_seq(path: Path) -> int:
    """The highest revocation list `seq` recorded in the state file `path` (0 if it is absent).

    Raises ValueError if the file holds anything but what `record_seen_seq` writes.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return 0
    try:
        state = json.loads(text)
    except ValueError:
        state = None
    seq = state.get("seq") if isinstance(state, dict) else None
    if type(seq) is not int or seq < 0:
        raise ValueError(f'{path} is not a verifier state file (expected {{"seq": n}}).')
    return seq


def record_seen_seq(path: Path, seq: int) -> int:
    """Record `seq` in the state file `path` unless it holds a higher one; return the highest.

    The file is created if it is absent and replaced atomically (a temporary file in the same
    folder, flushed to disk, renamed over it), so a crash leaves the old state or the new one,
    never a torn file. Two processes recording at once may keep the lower of their two values;
    record from one process at a time.
    """
    if type(seq) is not int or seq < 0:
        raise ValueError("seq is a non-negative integer")
    current = read_seen_seq(path)
    if path.exists() and current >= seq:
        return current
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("w", encoding="utf-8") as file:
            json.dump({"seq": seq}, file)
            file.write("\n")
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return seq


def sum_entitlements(licenses: Iterable[Mapping[str, Any]]) -> tuple[dict[str, int], list[str]]:
    """Sum the `lic` claims of an instance's valid licenses: its base plus its add-ons.

    Only add-ons whose `parent` is the base count; without a base license the sum is empty.
    Returns the entitlements and the ids of the licenses counted, base first.
    """
    licenses = list(licenses)
    base = next((lic for lic in licenses if lic.get("level") == "base"), None)
    if base is None:
        return {}, []
    total: dict[str, int] = dict(base.get("entitlements") or {})
    counted = [str(base["id"])]
    for lic in licenses:
        if lic.get("level") == "addon" and lic.get("parent") == base["id"]:
            for dimension, amount in (lic.get("entitlements") or {}).items():
                total[dimension] = total.get(dimension, 0) + int(amount)
            counted.append(str(lic["id"]))
    return total, counted


def public_keys_from_jwks(jwks: Mapping[str, Any]) -> dict[str, Ed25519PublicKey]:
    """The Ed25519 signing keys of a JWKS, by `kid`; keys of other kinds are left out."""
    keys: dict[str, Ed25519PublicKey] = {}
    entries = jwks.get("keys")
    if not isinstance(entries, list):
        raise ValueError("a JWKS is an object with a `keys` list")
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        if entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519":
            continue
        if entry.get("alg", ALGORITHM) != ALGORITHM or entry.get("use", "sig") != "sig":
            continue
        kid, x = entry.get("kid"), entry.get("x")
        if not isinstance(kid, str) or not kid or not isinstance(x, str):
            continue
        try:
            raw = _b64decode(x)
            keys[kid] = Ed25519PublicKey.from_public_bytes(raw)
        except (ValueError, binascii.Error):
            continue
    return keys


class OfflineVerifier:
    """Checks license tokens, bundles and revocation lists against a fixed set of keys.

    `keys` maps each trusted `kid` to its Ed25519 public key; EdDSA is the only algorithm any
    of them accepts. `revoked` holds license ids known to be revoked (a signed list, loaded with
    `load_revocation_list`, replaces them). `leeway_seconds` allows for a device clock that is
    a little off, on `nbf` and `exp` of tokens and lists. `seen_seq` is the highest list `seq`
    seen before (see the module docstring), `stale_grace_seconds` how long past its `exp` a
    list is still trusted.
    """

    def __init__(
        self,
        keys: Mapping[str, Ed25519PublicKey],
        *,
        issuer: str = DEFAULT_ISSUER,
        revoked: Collection[str] = (),
        leeway_seconds: int = 0,
        seen_seq: int = 0,
        stale_grace_seconds: int = 0,
    ) -> None:
        self._keys = dict(keys)
        self._issuer = issuer
        self._revoked = frozenset(revoked)
        self._revocations: RevocationList | None = None
        self._seen_seq = seen_seq
        self._leeway = leeway_seconds
        self._grace = stale_grace_seconds
        self._headers: dict[str, tuple[str, str] | Verdict] = {}

    @classmethod
    def from_jwks(
        cls,
        jwks: Mapping[str, Any],
        *,
        revocation_list: str | None = None,
        issuer: str = DEFAULT_ISSUER,
        leeway_seconds: int = 0,
        seen_seq: int = 0,
        stale_grace_seconds: int = 0,
    ) -> "OfflineVerifier":
        """A verifier trusting the keys of `jwks` and, if given, the signed revocation list.

        Raises `InvalidRevocationListError` when the list is not signed by one of those keys
        or lacks `exp` and `seq`, `RevocationListRolledBackError` when its `seq` is below
        `seen_seq`.
        """
        verifier = cls(
            public_keys_from_jwks(jwks),
            issuer=issuer,
            leeway_seconds=leeway_seconds,
            seen_seq=seen_seq,
            stale_grace_seconds=stale_grace_seconds,
        )
        if revocation_list is not None:
            verifier.load_revocation_list(revocation_list)
        return verifier

    @classmethod
    def from_files(
        cls,
        jwks_file: Path,
        revocations_file: Path | None = None,
        *,
        issuer: str = DEFAULT_ISSUER,
        leeway_seconds: int = 0,
        seen_seq: int = 0,
        stale_grace_seconds: int = 0,
    ) -> "OfflineVerifier":
        """A verifier from a saved JWKS and an optional saved revocation list.

        The revocation file holds either the list's token or the JSON body of
        `GET /v1/revocations` (its `token` is what is trusted, never the plain fields).
        """
        jwks = json.loads(jwks_file.read_text(encoding="utf-8"))
        if not isinstance(jwks, Mapping):
            raise ValueError(f"{jwks_file} does not hold a JWKS")
        revocation_list = None
        if revocations_file is not None:
            revocation_list = _token_of(revocations_file.read_text(encoding="utf-8"))
        return cls.from_jwks(
            jwks,
            revocation_list=revocation_list,
            issuer=issuer,
            leeway_seconds=leeway_seconds,
            seen_seq=seen_seq,
            stale_grace_seconds=stale_grace_seconds,
        )

    @property
    def revoked(self) -> frozenset[str]:
        return self._revoked

    @property
    def revocation_list(self) -> RevocationList | None:
        """The signed list in use, if one was loaded."""
        return self._revocations

    @property
    def seq(self) -> int:
        """The highest revocation list `seq` this verifier has seen (to record, see above)."""
        return self._seen_seq

    def load_revocation_list(self, token: str) -> RevocationList:
        """Check a signed revocation list and use it from now on.

        Raises `InvalidRevocationListError` if it can't be trusted, and its subclass
        `RevocationListRolledBackError` if its `seq` is lower than one seen before; the list
        in use stays as it was then.
        """
        revocations = self.read_revocation_list(token)
        if revocations.seq < self._seen_seq:
            raise RevocationListRolledBackError(revocations.seq, self._seen_seq)
        self._revocations = revocations
        self._revoked = revocations.revoked
        self._seen_seq = revocations.seq
        return revocations

    def revocations_stale(self, now: float | None = None) -> bool:
        """Whether the loaded revocation list is past its `exp` (time to fetch a fresh one)."""
        moment = time.time() if now is None else now
        return self._revocations is not None and self._revocations.stale(moment, self._leeway)

    def authenticate(self, token: str, token_type: str = LICENSE_TOKEN_TYPE) -> Verdict:
        """Check the token's form, algorithm, type, key, signature, shape and issuer.

        `VALID` here means authentic, not yet usable: time and revocation come after.
        """
        claims = self._authentic(token, token_type)
        if isinstance(claims, Verdict):
            return claims
        return Verdict(Code.VALID, "The token is authentic.", claims=claims)

    def verify(
        self, token: str, *, audience: str | None = None, now: float | None = None
    ) -> Verdict:
        """The full check of one license token; `audience` is the expected product id."""
        claims = self._authentic(token, LICENSE_TOKEN_TYPE)
        if isinstance(claims, Verdict):
            return claims
        if audience is not None and claims["aud"] != audience:
            return Verdict(
                Code.WRONG_TYPE, f"The license is for product {claims['aud']!r}.", claims=claims
            )
        if self._revoked and claims["lic"]["id"] in self._revoked:
            return Verdict(Code.REVOKED, "The license has been revoked.", claims=claims)
        return self._unless_stale(self.check_time(claims, now), now)

    def _unless_stale(self, verdict: Verdict, now: float | None) -> Verdict:
        """`STALE` instead of `VALID` once the list is past its `exp` and the grace period."""
        if not verdict.valid or self._revocations is None:
            return verdict
        moment = time.time() if now is None else now
        if not self._revocations.stale(moment, self._leeway + self._grace):
            return verdict
        expired = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._revocations.expires_at))
        return Verdict(
            Code.STALE,
            f"The revocation list expired at {expired}; whether the license was revoked since "
            "is unknown. Fetch a fresh list (GET /v1/revocations) and verify again.",
            verdict.claims,
        )

    def _authentic(self, token: str, token_type: str) -> dict[str, Any] | Verdict:
        """The claims of an authentic token of `token_type`, or the verdict against it."""
        if not isinstance(token, str):
            return Verdict(Code.MALFORMED, "The token is not a string.")
        parts = token.split(".")
        if len(parts) != 3:
            return Verdict(Code.MALFORMED, "A JWT has three dot-separated segments.")
        header_segment, payload_segment, signature_segment = parts
        header = self._headers.get(header_segment) or self._header(header_segment)
        if isinstance(header, Verdict):
            return header
        typ, kid = header
        if typ != token_type:
            return Verdict(Code.WRONG_TYPE, f"The token's type is {typ!r}, not {token_type!r}.")
        key = self._keys.get(kid) if kid else None
        if key is None:
            return Verdict(Code.UNKNOWN_KEY, f"No trusted key has the id {kid!r}.")
        # The payload needs no such check: the signature covers its exact characters.
        if not _SIGNATURE.fullmatch(signature_segment):
            return Verdict(Code.MALFORMED, "The signature is not base64url-encoded.")
        try:
            signature = _b64decode(signature_segment)
            key.verify(signature, token[: len(header_segment) + 1 + len(payload_segment)].encode())
        except InvalidSignature:
            return Verdict(Code.BAD_SIGNATURE, "The signature does not match the token.")
        except (ValueError, binascii.Error):
            return Verdict(Code.MALFORMED, "The signature is not base64url-encoded.")
        try:
            claims = json.loads(_b64decode(payload_segment))
        except (ValueError, binascii.Error, UnicodeError):
            return Verdict(Code.MALFORMED, "The payload is not JSON.")
        if not isinstance(claims, dict):
            return Verdict(Code.MALFORMED, "The payload is not a JSON object.")
        problem = _shape_problem(claims, token_type)
        if problem:
            return Verdict(Code.MALFORMED, problem)
        if claims["iss"] != self._issuer:
            return Verdict(
                Code.WRONG_TYPE, f"The token was issued by {claims['iss']!r}.", claims=claims
            )
        return claims

    def check_time(self, claims: Mapping[str, Any], now: float | None = None) -> Verdict:
        """`EXPIRED` outside `nbf`..`exp` (with the leeway), else `VALID`."""
        moment = time.time() if now is None else now
        if moment + self._leeway < claims["nbf"]:
            return Verdict(Code.EXPIRED, "The token is not valid yet.", claims=claims)
        exp = claims.get("exp")
        if exp is not None and moment - self._leeway >= exp:
            return Verdict(Code.EXPIRED, "The token has expired.", claims=claims)
        return Verdict(Code.VALID, "The token is valid.", claims=claims)

    def verify_bundle(
        self, token: str, *, audience: str | None = None, now: float | None = None
    ) -> Verdict:
        """Check an entitlement bundle (`GET /v1/instances/{id}/entitlement`'s `token`).

        A bundle naming a revoked license is `REVOKED`: fetch a fresh one.
        """
        verdict = self.authenticate(token, BUNDLE_TOKEN_TYPE)
        if not verdict.valid:
            return verdict
        claims = verdict.claims
        assert claims is not None
        if audience is not None and claims["aud"] != audience:
            return Verdict(
                Code.WRONG_TYPE, f"The bundle is for product {claims['aud']!r}.", claims=claims
            )
        revoked = [lic["id"] for lic in claims["licenses"] if lic["id"] in self._revoked]
        if revoked:
            return Verdict(
                Code.REVOKED, f"The bundle holds revoked license(s): {', '.join(revoked)}.", claims
            )
        return self._unless_stale(self.check_time(claims, now), now)

    def read_revocation_list(self, token: str) -> RevocationList:
        """The content of a signed revocation list, or `InvalidRevocationListError`."""
        verdict = self.authenticate(token.strip(), REVOCATION_LIST_TOKEN_TYPE)
        if not verdict.valid or verdict.claims is None:
            raise InvalidRevocationListError(f"{verdict.code.value}: {verdict.detail}")
        claims = verdict.claims
        return RevocationList(
            issued_at=claims["iat"],
            expires_at=claims["exp"],
            seq=claims["seq"],
            revoked=frozenset(claims["revoked"]),
        )

    def entitlements(
        self, tokens: Iterable[str], *, audience: str | None = None, now: float | None = None
    ) -> Report:
        """Verify license tokens and bundles together and sum the entitlements per instance.

        A token is `SUPERSEDED` when a newer version of its license is among `tokens`.
        """
        moment = time.time() if now is None else now
        verdicts: list[Verdict] = []
        for token in tokens:
            if _type_of(token) == BUNDLE_TOKEN_TYPE:
                verdicts.append(self.verify_bundle(token, audience=audience, now=moment))
            else:
                verdicts.append(self.verify(token, audience=audience, now=moment))

        newest: dict[str, int] = {}
        for verdict in verdicts:
            if verdict.code not in _AUTHENTIC:
                continue
            for lic in _licenses_in(verdict):
                newest[lic["id"]] = max(newest.get(lic["id"], 0), lic["version"])
        for index, verdict in enumerate(verdicts):
            lic = verdict.lic
            current = verdict.code in (Code.VALID, Code.STALE)
            if current and lic and lic["version"] < newest[lic["id"]]:
                verdicts[index] = Verdict(
                    Code.SUPERSEDED,
                    f"Version {newest[lic['id']]} of the license is among the tokens.",
                    verdict.claims,
                )

        valid: dict[str, dict[str, Mapping[str, Any]]] = {}
        products: dict[str, str] = {}
        for verdict in verdicts:
            if not verdict.valid or verdict.claims is None:
                continue
            instance = str(verdict.claims["sub"])
            products[instance] = str(verdict.claims["aud"])
            for lic in _licenses_in(verdict):
                if lic["version"] == newest[lic["id"]]:
                    valid.setdefault(instance, {})[lic["id"]] = lic
        instances = {}
        for instance, licenses in valid.items():
            total, counted = sum_entitlements(licenses.values())
            instances[instance] = InstanceEntitlement(instance, products[instance], total, counted)
        return Report(verdicts, instances)

    def _header(self, segment: str) -> tuple[str, str] | Verdict:
        # Tokens signed by one key share their header: parse each distinct header once.
        cached = self._headers.get(segment)
        if cached is not None:
            return cached
        parsed = _parse_header(segment)
        if len(self._headers) >= _HEADER_CACHE_SIZE:
            self._headers.clear()
        self._headers[segment] = parsed
        return parsed


def _parse_header(segment: str) -> tuple[str, str] | Verdict:
    """The type and key id of a header whose algorithm is EdDSA, or the verdict against it."""
    if not _SEGMENT.fullmatch(segment):
        return Verdict(Code.MALFORMED, "The header is not base64url-encoded.")
    try:
        header = json.loads(_b64decode(segment))
    except (ValueError, binascii.Error, UnicodeError):
        return Verdict(Code.MALFORMED, "The header is not JSON.")
    if not isinstance(header, dict):
        return Verdict(Code.MALFORMED, "The header is not a JSON object.")
    if "crit" in header:
        return Verdict(Code.MALFORMED, "Critical header extensions are not supported.")
    alg, typ, kid = header.get("alg"), header.get("typ"), header.get("kid")
    if not isinstance(alg, str):
        return Verdict(Code.MALFORMED, "The header has no algorithm.")
    if alg != ALGORITHM:
        return Verdict(Code.BAD_SIGNATURE, f"The algorithm {alg!r} is not accepted.")
    if not isinstance(typ, str):
        return Verdict(Code.WRONG_TYPE, "The header names no type.")
    return typ.lower(), kid if isinstance(kid, str) else ""


def _shape_problem(claims: Mapping[str, Any], token_type: str) -> str | None:
    if token_type == REVOCATION_LIST_TOKEN_TYPE:
        revoked, iat, exp, seq = (claims.get(c) for c in ("revoked", "iat", "exp", "seq"))
        if type(claims.get("iss")) is not str or type(iat) is not int or type(exp) is not int:
            return "The list has no issuer or no NumericDates 'iat' and 'exp'."
        if exp < iat:
            return "The list expires before it was issued."
        if type(seq) is not int or seq < 0:
            return "The list has no 'seq' (a count of revocations)."
        if type(revoked) is not list or not all(type(i) is str for i in revoked):
            return "The claim 'revoked' is not a list of license ids."
        return None
    get = claims.get
    if not (type(get("iss")) is str and type(get("sub")) is str and type(get("aud")) is str):
        return "The claims 'iss', 'sub' and 'aud' must be strings."
    exp = get("exp", 0)
    if not (type(get("iat")) is int and type(get("nbf")) is int and type(exp) is int):
        return "The claims 'iat', 'nbf' and 'exp' must be NumericDates."
    if token_type == LICENSE_TOKEN_TYPE:
        lic: Any = get("lic")
        problem = _lic_problem(lic)
        if problem:
            return problem
        if get("jti") != f"{lic['id']}.{lic['version']}":
            return "The claim 'jti' does not name the license version."
        if "exp" not in claims and lic["mode"] != "permanent":
            return "Only a permanent license has no 'exp'."
        return None
    licenses = get("licenses")
    if type(licenses) is not list:
        return "The claim 'licenses' is missing."
    for lic in licenses:
        problem = _lic_problem(lic)
        if problem:
            return problem
    if type(get("entitlements")) is not dict:
        return "The claim 'entitlements' is missing."
    return None


def _lic_problem(lic: Any) -> str | None:
    if type(lic) is not dict:
        return "The claim 'lic' is missing."
    if type(lic.get("id")) is not str or type(lic.get("version")) is not int:
        return "The license claim has no id or version."
    if lic.get("level") not in LEVELS or lic.get("mode") not in MODES:
        return "The license claim has an unknown level or mode."
    entitlements = lic.get("entitlements")
    if type(entitlements) is not dict or not all(type(v) is int for v in entitlements.values()):
        return "The license claim's entitlements are not a map of integers."
    return None


def _licenses_in(verdict: Verdict) -> list[Mapping[str, Any]]:
    if verdict.claims is None:
        return []
    if "licenses" in verdict.claims:
        return list(verdict.claims["licenses"])
    return [verdict.lic] if verdict.lic else []


def _type_of(token: str) -> str | None:
    try:
        header = json.loads(_b64decode(token.split(".", 1)[0]))
    except (ValueError, binascii.Error, UnicodeError):
        return None
    return str(header.get("typ", "")).lower() if isinstance(header, dict) else None


def _token_of(text: str) -> str:
    text = text.strip()
    if text.startswith("{"):
        body = json.loads(text)
        if not isinstance(body, dict) or not isinstance(body.get("token"), str):
            raise InvalidRevocationListError("The JSON revocation list has no `token`.")
        return str(body["token"])
    return text


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
