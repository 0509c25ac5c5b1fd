"""Access tokens: the verifier admits exactly the tokens the issuer signs, nothing else."""

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.auth import (
    MAX_TTL_SECONDS,
    AccessTokenVerifier,
    Principal,
    Role,
    ServiceTokenSource,
    issue_access_token,
)
from shared.keys import public_key_pem
from shared.problems import InvalidTokenError

ISSUER = "market-test"
AUDIENCE = "market"


@pytest.fixture(scope="module")
def issuer_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def verifier(issuer_key: Ed25519PrivateKey) -> AccessTokenVerifier:
    return AccessTokenVerifier(
        issuer=ISSUER, audience=AUDIENCE, public_key=issuer_key.public_key(), leeway_seconds=30
    )


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "acme",
        "role": "partner",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    return {k: v for k, v in {**base, **overrides}.items() if v is not None}


def signed(
    key: Ed25519PrivateKey, body: dict[str, Any], headers: dict[str, Any] | None = None
) -> str:
    return jwt.encode(
        body, key, algorithm="EdDSA", headers={"typ": "at+jwt"} if headers is None else headers
    )


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made(header: dict[str, Any], body: dict[str, Any], signature: bytes = b"") -> str:
    """A JWT assembled by hand, as an attacker would (PyJWT refuses to make some of these)."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(body).encode())}"
    return f"{signing_input}.{b64(signature)}"


def refused(verifier: AccessTokenVerifier, token: str) -> InvalidTokenError:
    with pytest.raises(InvalidTokenError) as caught:
        verifier.verify(token)
    assert caught.value.status == 401
    assert caught.value.code == "invalid_token"
    return caught.value


def test_a_token_from_the_issuer_gives_its_principal(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey
) -> None:
    token = issue_access_token(
        issuer_key, issuer=ISSUER, audience=AUDIENCE, sub="acme", role=Role.partner
    )

    assert verifier.verify(token) == Principal(sub="acme", role=Role.partner)


def test_the_media_type_form_of_the_typ_is_accepted(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey
) -> None:
    token = signed(issuer_key, claims(role="customer"), {"typ": "application/at+jwt"})

    assert verifier.verify(token) == Principal(sub="acme", role=Role.customer)


def test_an_unsigned_alg_none_token_is_refused(verifier: AccessTokenVerifier) -> None:
    token = hand_made({"alg": "none", "typ": "at+jwt"}, claims())

    refused(verifier, token)


def test_an_hs256_token_keyed_with_the_public_key_is_refused(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey
) -> None:
    # The classic algorithm confusion: HMAC "signed" with the bytes of the public key.
    secret = public_key_pem(issuer_key.public_key())
    header = {"alg": "HS256", "typ": "at+jwt"}
    unsigned = hand_made(header, claims()).rsplit(".", 1)[0]
    signature = hmac.new(secret, unsigned.encode(), hashlib.sha256).digest()

    refused(verifier, f"{unsigned}.{b64(signature)}")


def test_an_eddsa_token_relabelled_hs256_is_refused(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey
) -> None:
    genuine = signed(issuer_key, claims())
    _, payload, signature = genuine.split(".")
    header = b64(json.dumps({"alg": "HS256", "typ": "at+jwt"}).encode())

    refused(verifier, f"{header}.{payload}.{signature}")


def test_a_license_token_is_not_an_access_token(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey
) -> None:
    token = signed(issuer_key, claims(), {"typ": "license+jwt"})

    error = refused(verifier, token)

    assert "at+jwt" in str(error.detail)


def test_a_token_without_a_typ_is_refused(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey
) -> None:
    refused(verifier, signed(issuer_key, claims(), {}))


def test_a_token_for_another_audience_is_refused(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey
) -> None:
    refused(verifier, signed(issuer_key, claims(aud="another-api")))


def test_a_token_from_another_issuer_is_refused(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey
) -> None:
    refused(verifier, signed(issuer_key, claims(iss="someone-else")))


def test_an_expired_token_is_refused(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey
) -> None:
    long_ago = int(time.time()) - 3600
    token = signed(issuer_key, claims(iat=long_ago, nbf=long_ago, exp=long_ago + 60))

    error = refused(verifier, token)

    assert "expired" in str(error.detail)


def test_a_token_just_expired_is_within_the_leeway(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey
) -> None:
    now = int(time.time())
    token = signed(issuer_key, claims(iat=now - 600, nbf=now - 600, exp=now - 5))

    assert verifier.verify(token).sub == "acme"


def test_a_token_not_yet_valid_is_refused(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey
) -> None:
    later = int(time.time()) + 3600
    refused(verifier, signed(issuer_key, claims(nbf=later, exp=later + 600)))


@pytest.mark.parametrize("role", ["admin", "", None, 1, "Partner"])
def test_a_token_without_a_known_role_is_refused(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey, role: object
) -> None:
    body = claims()
    if role is None:
        del body["role"]
    else:
        body["role"] = role

    refused(verifier, signed(issuer_key, body))


@pytest.mark.parametrize("missing", ["iss", "aud", "sub", "exp", "iat"])
def test_a_token_missing_a_required_claim_is_refused(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey, missing: str
) -> None:
    body = claims()
    del body[missing]

    refused(verifier, signed(issuer_key, body))


@pytest.mark.parametrize("subject", ["", "x" * 201, "acme\x00", "line\nbreak"])
def test_a_token_with_an_unusable_subject_is_refused(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey, subject: str
) -> None:
    refused(verifier, signed(issuer_key, claims(sub=subject)))


def test_a_subject_of_200_characters_is_accepted(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey
) -> None:
    assert verifier.verify(signed(issuer_key, claims(sub="é" * 200))).sub == "é" * 200


def test_a_token_signed_by_another_key_is_refused(verifier: AccessTokenVerifier) -> None:
    impostor = Ed25519PrivateKey.generate()
    token = issue_access_token(
        impostor, issuer=ISSUER, audience=AUDIENCE, sub="acme", role=Role.partner
    )

    refused(verifier, token)


def test_a_tampered_payload_is_refused(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey
) -> None:
    header, _, signature = signed(issuer_key, claims()).split(".")
    payload = b64(json.dumps(claims(role="service")).encode())

    refused(verifier, f"{header}.{payload}.{signature}")


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "a.b", "...", "ey.ey.ey"])
def test_garbage_is_refused(verifier: AccessTokenVerifier, token: str) -> None:
    refused(verifier, token)


def test_a_verifier_needs_a_key_or_a_jwks_url() -> None:
    with pytest.raises(ValueError, match="public key or a JWKS URL"):
        AccessTokenVerifier(issuer=ISSUER, audience=AUDIENCE)


@pytest.mark.parametrize("ttl", [0, -1, MAX_TTL_SECONDS + 1])
def test_tokens_are_issued_only_for_a_bounded_lifetime(
    issuer_key: Ed25519PrivateKey, ttl: int
) -> None:
    with pytest.raises(ValueError, match="ttl"):
        issue_access_token(
            issuer_key,
            issuer=ISSUER,
            audience=AUDIENCE,
            sub="acme",
            role=Role.partner,
            ttl_seconds=ttl,
        )


def test_issued_tokens_carry_the_header_and_claims_verifiers_expect(
    issuer_key: Ed25519PrivateKey,
) -> None:
    token = issue_access_token(
        issuer_key,
        issuer=ISSUER,
        audience=AUDIENCE,
        sub="acme",
        role=Role.reviewer,
        ttl_seconds=120,
        now=1_000_000,
    )

    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "typ": "at+jwt"}
    body = jwt.decode(token, options={"verify_signature": False})
    assert (body["iat"], body["nbf"], body["exp"]) == (1_000_000, 1_000_000, 1_000_120)
    assert body["role"] == "reviewer"
    assert body["jti"]


def test_service_tokens_are_reused_until_close_to_expiry(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey
) -> None:
    source = ServiceTokenSource(
        issuer_key, issuer=ISSUER, audience=AUDIENCE, service_name="review", ttl_seconds=600
    )

    first = source.token()

    assert source.token() == first
    assert verifier.verify(first) == Principal(sub="review", role=Role.service)


class SignatureChecks:
    """Counts the verifier's full checks (PyJWT's `decode`), which remembering skips."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real_decode = jwt.decode

        def counting_decode(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return real_decode(*args, **kwargs)

        monkeypatch.setattr(jwt, "decode", counting_decode)


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> SignatureChecks:
    return SignatureChecks(monkeypatch)


def test_a_verified_token_is_remembered_until_it_expires(
    verifier: AccessTokenVerifier,
    issuer_key: Ed25519PrivateKey,
    checks: SignatureChecks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = int(time.time())
    token = signed(issuer_key, claims(iat=now, nbf=now, exp=now + 40))

    assert verifier.verify(token) == verifier.verify(token) == Principal("acme", Role.partner)
    assert checks.count == 1

    # Past exp + leeway (30 s) the remembered answer is gone: the token is checked again
    # (and PyJWT, on its own clock, refuses it once it has really expired).
    monkeypatch.setattr(time, "time", lambda: now + 71.0)
    verifier.verify(token)
    assert checks.count == 2


def test_a_remembered_token_is_checked_again_after_a_minute(
    verifier: AccessTokenVerifier,
    issuer_key: Ed25519PrivateKey,
    checks: SignatureChecks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = int(time.time())
    token = signed(issuer_key, claims(iat=now, nbf=now, exp=now + 3600))
    verifier.verify(token)
    monkeypatch.setattr(time, "time", lambda: now + 61.0)

    assert verifier.verify(token).sub == "acme"
    assert checks.count == 2


def test_a_refused_token_is_not_remembered(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey, checks: SignatureChecks
) -> None:
    token = signed(Ed25519PrivateKey.generate(), claims())

    refused(verifier, token)
    refused(verifier, token)

    assert checks.count == 2  # refused in full both times, never from memory
