"""Accepted access tokens are remembered until they expire; refusals never are."""

import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.license.access import CachingAccessTokenVerifier
from shared.auth import AccessTokenVerifier, Principal, Role, issue_access_token
from shared.problems import InvalidTokenError


class CountingVerifier(AccessTokenVerifier):
    calls = 0

    def verify(self, token: str) -> Principal:
        self.calls += 1
        return super().verify(token)


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def make(
    key: Ed25519PrivateKey, clock: list[float]
) -> tuple[CachingAccessTokenVerifier, CountingVerifier]:
    inner = CountingVerifier(issuer="iss", audience="aud", public_key=key.public_key())
    return CachingAccessTokenVerifier(inner, ttl_seconds=60, clock=lambda: clock[0]), inner


def token(key: Ed25519PrivateKey, ttl: int = 3600) -> str:
    return issue_access_token(
        key, issuer="iss", audience="aud", sub="globex", role=Role.customer, ttl_seconds=ttl
    )


def test_an_accepted_token_is_verified_once_per_ttl(key: Ed25519PrivateKey) -> None:
    clock = [time.time()]
    verifier, inner = make(key, clock)
    access = token(key)

    first = verifier.verify(access)
    again = verifier.verify(access)
    clock[0] += 61
    later = verifier.verify(access)

    assert first == again == later == Principal("globex", Role.customer)
    assert inner.calls == 2


def test_a_token_is_not_remembered_past_its_exp(key: Ed25519PrivateKey) -> None:
    clock = [time.time()]
    verifier, inner = make(key, clock)
    access = token(key, ttl=5)
    verifier.verify(access)

    clock[0] += 6
    verifier.verify(access)

    # Past its exp the token is checked afresh (and the real check decides).
    assert inner.calls == 2


def test_refusals_are_not_remembered(key: Ed25519PrivateKey) -> None:
    verifier, inner = make(key, [time.time()])
    stranger = token(Ed25519PrivateKey.generate())

    for _ in range(2):
        with pytest.raises(InvalidTokenError):
            verifier.verify(stranger)

    assert inner.calls == 2
