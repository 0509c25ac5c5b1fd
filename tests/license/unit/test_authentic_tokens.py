"""The memory of authentic license tokens: one signature check per token and ring, no more."""

from pathlib import Path

import pytest

from services.license.domain.tokens import license_claims
from services.license.keyring import KeyRing, create_signing_key
from services.license.reads import AuthenticTokens
from services.license.verifier import (
    LICENSE_TOKEN_TYPE,
    Code,
    OfflineVerifier,
    Verdict,
    public_keys_from_jwks,
)
from tests.license.unit.terms import T0, make_terms

ISSUER = "market-license"


class CountingVerifier(OfflineVerifier):
    """A real verifier that counts the tokens it is asked to authenticate."""

    def __init__(self, ring: KeyRing) -> None:
        jwks = {"keys": [ring.jwk(kid) for kid in ring.kids]}
        super().__init__(public_keys_from_jwks(jwks), issuer=ISSUER)
        self.checked = 0

    def authenticate(self, token: str, token_type: str = LICENSE_TOKEN_TYPE) -> Verdict:
        self.checked += 1
        return super().authenticate(token, token_type)


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    folder = tmp_path / "keys"
    create_signing_key(folder)
    return folder


@pytest.fixture
def ring(keys: Path) -> KeyRing:
    return KeyRing(keys, issuer=ISSUER)


def token(ring: KeyRing, license_id: str = "lic_base") -> str:
    claims = license_claims(make_terms(id=license_id), issuer=ISSUER, issued_at=T0)
    return ring.sign(claims, LICENSE_TOKEN_TYPE)[0]


def test_a_repeated_authentic_token_is_checked_once(ring: KeyRing) -> None:
    verifier = CountingVerifier(ring)
    memory = AuthenticTokens(8)
    good = token(ring)

    verdicts = [memory.authenticate(verifier, good) for _ in range(3)]

    assert [v.code for v in verdicts] == [Code.VALID] * 3
    assert verdicts[0].lic["id"] == "lic_base"
    assert verifier.checked == 1


def test_a_token_that_fails_is_checked_every_time(ring: KeyRing) -> None:
    verifier = CountingVerifier(ring)
    memory = AuthenticTokens(8)
    head, payload, signature = token(ring).split(".")
    tampered = f"{head}.{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"

    verdicts = [memory.authenticate(verifier, tampered) for _ in range(2)]

    assert [v.code for v in verdicts] == [Code.BAD_SIGNATURE] * 2
    assert verifier.checked == 2


def test_a_new_verifier_forgets_what_the_old_one_found(ring: KeyRing, keys: Path) -> None:
    memory = AuthenticTokens(8)
    old = token(ring)
    assert memory.authenticate(ring.verifier, old).valid

    # The key that signed `old` leaves the folder (say it leaked); the ring reads it again.
    for path in keys.glob("*.pem"):
        path.unlink()
    create_signing_key(keys)
    assert ring.refresh()

    assert memory.authenticate(ring.verifier, old).code is Code.UNKNOWN_KEY


def test_it_is_emptied_when_full_and_size_0_remembers_nothing(ring: KeyRing) -> None:
    verifier = CountingVerifier(ring)
    small, none = AuthenticTokens(2), AuthenticTokens(0)
    tokens = [token(ring, f"lic_{n}") for n in range(3)]

    for t in tokens:
        small.authenticate(verifier, t)
    small.authenticate(verifier, tokens[0])
    small.authenticate(verifier, tokens[2])
    after_small = verifier.checked
    none.authenticate(verifier, tokens[0])
    none.authenticate(verifier, tokens[0])

    # The third token emptied the memory: the first is checked again, the third is not.
    assert after_small == 4
    assert verifier.checked == 6
