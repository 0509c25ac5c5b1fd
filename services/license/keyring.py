"""The license signing keys: a folder of PEM Ed25519 private keys, the newest of which signs.

In the embedded default the folder is `var/license-keys` (mode 0700, each file 0600); in
production it is a mounted secret. `market keys rotate` adds a key and never deletes one, so
every token signed before a rotation keeps verifying. Files are `*.pem`; the newest key is the
last file name in sorting order, and rotation names files by their UTC creation time.

A key's `kid` is its RFC 7638 JWK thumbprint: derived from the key itself, so a mounted secret
needs nothing but the PEM files. The ring re-reads the folder when it changes (a rotation
while the service runs). Private keys never leave this module: not in a response, not in a
log line (their repr shows only the kid).
"""

import base64
import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.license.verifier import ALGORITHM, OfflineVerifier
from shared.keys import load_private_key, private_key_pem, write_secret_file


class NoSigningKeyError(RuntimeError):
    """The key folder holds no signing key."""


def thumbprint(key: Ed25519PublicKey) -> str:
    """The RFC 7638 JWK thumbprint of a public key (SHA-256, base64url)."""
    canonical = json.dumps(
        {"crv": "Ed25519", "kty": "OKP", "x": _x(key)}, separators=(",", ":"), sort_keys=True
    )
    return _b64(hashlib.sha256(canonical.encode()).digest())


def public_jwk(kid: str, key: Ed25519PublicKey) -> dict[str, str]:
    """A public key as a JWK: OKP/Ed25519, with its kid, `alg` EdDSA and `use` sig."""
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _x(key),
        "kid": kid,
        "alg": ALGORITHM,
        "use": "sig",
    }


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One key of the ring; its private half is kept out of reprs."""

    kid: str
    file_name: str
    private: Ed25519PrivateKey = field(repr=False)
    public: Ed25519PublicKey = field(repr=False)


def create_signing_key(folder: Path, now: datetime | None = None) -> SigningKey:
    """Add a new key to the folder (created 0700, the file 0600) and return it."""
    moment = now or datetime.now(UTC)
    key = Ed25519PrivateKey.generate()
    for attempt in range(100):
        name = f"license-{moment:%Y%m%dT%H%M%S%f}Z-{attempt:02d}.pem"
        if write_secret_file(folder / name, private_key_pem(key)):
            public = key.public_key()
            return SigningKey(thumbprint(public), name, key, public)
    raise RuntimeError(f"could not name a new key file in {folder}")


def ensure_signing_key(folder: Path) -> SigningKey:
    """The newest key of the folder, creating the first one if there is none."""
    ring = KeyRing(folder)
    try:
        return ring.current
    except NoSigningKeyError:
        return create_signing_key(folder)


class KeyRing:
    """Every signing key of the folder, by kid; `current` signs."""

    def __init__(self, folder: Path, *, issuer: str = "market-license") -> None:
        self._folder = folder
        self._issuer = issuer
        self._stamp: tuple[int, int] | None = None
        self._keys: dict[str, SigningKey] = {}
        self._current: SigningKey | None = None
        self._verifier = OfflineVerifier({}, issuer=issuer)
        self.refresh()

    def refresh(self) -> bool:
        """Re-read the folder if it changed since the last read; True if it did."""
        try:
            stat = os.stat(self._folder)
        except FileNotFoundError:
            stamp = (0, 0)
        else:
            stamp = (stat.st_mtime_ns, stat.st_ino)
        if stamp == self._stamp:
            return False
        keys: dict[str, SigningKey] = {}
        current: SigningKey | None = None
        files = sorted(self._folder.glob("*.pem")) if stamp != (0, 0) else []
        for path in files:
            private = load_private_key(path)
            public = private.public_key()
            current = SigningKey(thumbprint(public), path.name, private, public)
            keys[current.kid] = current
        self._keys, self._current, self._stamp = keys, current, stamp
        self._verifier = OfflineVerifier(
            {kid: k.public for kid, k in keys.items()}, issuer=self._issuer
        )
        return True

    @property
    def current(self) -> SigningKey:
        """The key that signs new tokens: the newest one."""
        if self._current is None:
            raise NoSigningKeyError(
                f"No signing key in {self._folder}: run `market keys rotate` to create one."
            )
        return self._current

    @property
    def kids(self) -> list[str]:
        """Every kid of the ring, oldest first."""
        return list(self._keys)

    @property
    def verifier(self) -> OfflineVerifier:
        """An offline verifier trusting every key of the ring (for `POST /v1/verify`)."""
        return self._verifier

    def has(self, kid: str) -> bool:
        return kid in self._keys

    def jwk(self, kid: str) -> dict[str, str]:
        """The public JWK of one key of the ring."""
        return public_jwk(kid, self._keys[kid].public)

    def sign(self, claims: dict[str, Any], token_type: str) -> tuple[str, str]:
        """Sign `claims` with the current key; returns the token and the kid that signed it."""
        key = self.current
        token = jwt.encode(
            claims,
            key.private,
            algorithm=ALGORITHM,
            headers={"typ": token_type, "kid": key.kid},
        )
        return token, key.kid

    def __repr__(self) -> str:
        return f"KeyRing({str(self._folder)!r}, kids={self.kids!r})"


def _x(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return _b64(raw)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")
