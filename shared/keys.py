"""Ed25519 key files (created owner-only on first use, loaded as PEM), key ids and JWKS."""

import base64
import hashlib
import json
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared.private_files import private_folder


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Read a PEM Ed25519 private key."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """Read a PEM Ed25519 public key."""
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} does not hold an Ed25519 public key")
    return key


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    """PKCS#8 PEM of a private key, unencrypted (the file's mode protects it)."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_key_pem(key: Ed25519PublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM of a public key."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def write_secret_file(path: Path, data: bytes) -> bool:
    """Create `path` with mode 0600 (its folder 0700) unless it exists; True if written.

    O_EXCL makes concurrent first runs safe: exactly one writer wins, the others read its file.
    """
    private_folder(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return True


def ensure_key_pair(private_path: Path, public_path: Path) -> Ed25519PrivateKey:
    """Load the key pair at these paths, creating it on first use."""
    write_secret_file(private_path, private_key_pem(Ed25519PrivateKey.generate()))
    key = load_private_key(private_path)
    if not public_path.exists():
        public_path.write_bytes(public_key_pem(key.public_key()))
    return key


def key_id(key: Ed25519PublicKey) -> str:
    """The RFC 7638 JWK thumbprint of a public key (SHA-256, base64url): its `kid`."""
    x = base64.urlsafe_b64encode(key.public_bytes_raw()).rstrip(b"=").decode()
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def public_jwks(*keys: Ed25519PublicKey) -> dict[str, list[dict[str, str]]]:
    """A JWKS document publishing `keys`, each under its `key_id`."""
    return {
        "keys": [
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": base64.urlsafe_b64encode(key.public_bytes_raw()).rstrip(b"=").decode(),
                "kid": key_id(key),
                "alg": "EdDSA",
                "use": "sig",
            }
            for key in keys
        ]
    }
