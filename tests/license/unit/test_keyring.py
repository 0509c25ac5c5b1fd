"""The key ring: owner-only key files, the newest key signs, rotation adds, nothing leaks."""

import stat
from pathlib import Path

import jwt
import pytest

from services.license.keyring import (
    KeyRing,
    NoSigningKeyError,
    create_signing_key,
    ensure_signing_key,
    thumbprint,
)
from shared.keys import private_key_pem


def test_a_new_key_is_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    key = create_signing_key(folder)

    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / key.file_name).stat().st_mode) == 0o600


def test_the_newest_key_signs(tmp_path: Path) -> None:
    first = create_signing_key(tmp_path)
    second = create_signing_key(tmp_path)
    ring = KeyRing(tmp_path)

    token, kid = ring.sign({"sub": "x"}, "license+jwt")

    assert ring.kids == [first.kid, second.kid]
    assert kid == second.kid == ring.current.kid
    assert jwt.get_unverified_header(token) == {
        "alg": "EdDSA",
        "kid": second.kid,
        "typ": "license+jwt",
    }


def test_the_ring_notices_a_rotation(tmp_path: Path) -> None:
    create_signing_key(tmp_path)
    ring = KeyRing(tmp_path)

    assert not ring.refresh()
    newer = create_signing_key(tmp_path)

    assert ring.refresh()
    assert ring.current.kid == newer.kid


def test_kid_is_the_rfc7638_thumbprint(tmp_path: Path) -> None:
    key = create_signing_key(tmp_path)
    ring = KeyRing(tmp_path)
    jwk = ring.jwk(key.kid)

    # RFC 7638, section 3.1, computed independently with PyJWT's JWK support.
    algorithm = jwt.algorithms.OKPAlgorithm
    assert jwk == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": jwk["x"],
        "kid": key.kid,
        "alg": "EdDSA",
        "use": "sig",
    }
    assert algorithm.from_jwk(jwk) is not None
    assert thumbprint(key.public) == key.kid
    assert "d" not in jwk


def test_no_private_key_in_reprs(tmp_path: Path) -> None:
    key = create_signing_key(tmp_path)
    ring = KeyRing(tmp_path)
    pem = private_key_pem(key.private).decode()
    secret_body = "".join(pem.splitlines()[1:-1])

    for text in (repr(ring), repr(key), repr(ring.current), str(ring.jwk(key.kid))):
        assert secret_body not in text
        assert "private" not in text.lower() or "Ed25519PrivateKey" not in text


def test_an_empty_folder_has_no_current_key(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "missing")

    with pytest.raises(NoSigningKeyError, match="market keys rotate"):
        _ = ring.current


def test_ensure_creates_only_the_first_key(tmp_path: Path) -> None:
    first = ensure_signing_key(tmp_path)
    again = ensure_signing_key(tmp_path)

    assert first.kid == again.kid
    assert len(list(tmp_path.glob("*.pem"))) == 1
