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
    USER_ROLES,
    AccessTokenVerifier,
    Principal,
    Role,
    ServiceTokenSource,
    StaticKey,
    TrustedIssuer,
    issue_access_token,
    issue_service_token,
    service_urn,
)
from shared.keys import key_id, public_key_pem
from shared.problems import InvalidTokenError

ISSUER = "market-test"
AUDIENCE = "market"


@pytest.fixture(scope="module")
def issuer_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def orders_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def review_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def users(key: Ed25519PrivateKey) -> TrustedIssuer:
    return TrustedIssuer(ISSUER, AUDIENCE, StaticKey(key.public_key()), USER_ROLES)


def service(name: str, key: Ed25519PrivateKey, *, callee: str) -> TrustedIssuer:
    return TrustedIssuer(
        service_urn(name),
        service_urn(callee),
        StaticKey(key.public_key()),
        frozenset({Role.service}),
        subject=name,
    )


@pytest.fixture
def verifier(issuer_key: Ed25519PrivateKey, orders_key: Ed25519PrivateKey) -> AccessTokenVerifier:
    """What the license service trusts: the user issuer, and orders' service tokens."""
    return AccessTokenVerifier(
        [users(issuer_key), service("orders", orders_key, callee="license")], leeway_seconds=30
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


async def refused(verifier: AccessTokenVerifier, token: str) -> InvalidTokenError:
    with pytest.raises(InvalidTokenError) as caught:
        await verifier.verify(token)
    assert caught.value.status == 401
    assert caught.value.code == "invalid_token"
    return caught.value


async def test_a_token_from_the_issuer_gives_its_principal(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey
) -> None:
    token = issue_access_token(
        issuer_key, issuer=ISSUER, audience=AUDIENCE, sub="acme", role=Role.partner
    )

    assert await verifier.verify(token) == Principal(sub="acme", role=Role.partner)


async def test_the_media_type_form_of_the_typ_is_accepted(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey
) -> None:
    token = signed(issuer_key, claims(role="customer"), {"typ": "application/at+jwt"})

    assert await verifier.verify(token) == Principal(sub="acme", role=Role.customer)


async def test_an_unsigned_alg_none_token_is_refused(verifier: AccessTokenVerifier) -> None:
    token = hand_made({"alg": "none", "typ": "at+jwt"}, claims())

    await refused(verifier, token)


async def test_an_hs256_token_keyed_with_the_public_key_is_refused(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey
) -> None:
    # The classic algorithm confusion: HMAC "signed" with the bytes of the public key.
    secret = public_key_pem(issuer_key.public_key())
    header = {"alg": "HS256", "typ": "at+jwt"}
    unsigned = hand_made(header, claims()).rsplit(".", 1)[0]
    signature = hmac.new(secret, unsigned.encode(), hashlib.sha256).digest()

    await refused(verifier, f"{unsigned}.{b64(signature)}")


async def test_an_eddsa_token_relabelled_hs256_is_refused(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey
) -> None:
    genuine = signed(issuer_key, claims())
    _, payload, signature = genuine.split(".")
    header = b64(json.dumps({"alg": "HS256", "typ": "at+jwt"}).encode())

    await refused(verifier, f"{header}.{payload}.{signature}")


async def test_a_license_token_is_not_an_access_token(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey
) -> None:
    token = signed(issuer_key, claims(), {"typ": "license+jwt"})

    error = await refused(verifier, token)

    assert "at+jwt" in str(error.detail)


async def test_a_token_without_a_typ_is_refused(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey
) -> None:
    await refused(verifier, signed(issuer_key, claims(), {}))


async def test_a_token_for_another_audience_is_refused(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey
) -> None:
    await refused(verifier, signed(issuer_key, claims(aud="another-api")))


async def test_a_token_from_another_issuer_is_refused(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey
) -> None:
    await refused(verifier, signed(issuer_key, claims(iss="someone-else")))


async def test_an_expired_token_is_refused(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey
) -> None:
    long_ago = int(time.time()) - 3600
    token = signed(issuer_key, claims(iat=long_ago, nbf=long_ago, exp=long_ago + 60))

    error = await refused(verifier, token)

    assert "expired" in str(error.detail)


async def test_a_token_just_expired_is_within_the_leeway(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey
) -> None:
    now = int(time.time())
    token = signed(issuer_key, claims(iat=now - 600, nbf=now - 600, exp=now - 5))

    assert (await verifier.verify(token)).sub == "acme"


async def test_a_token_not_yet_valid_is_refused(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey
) -> None:
    later = int(time.time()) + 3600
    await refused(verifier, signed(issuer_key, claims(nbf=later, exp=later + 600)))


@pytest.mark.parametrize("role", ["admin", "", None, 1, "Partner"])
async def test_a_token_without_a_known_role_is_refused(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey, role: object
) -> None:
    body = claims()
    if role is None:
        del body["role"]
    else:
        body["role"] = role

    await refused(verifier, signed(issuer_key, body))


@pytest.mark.parametrize("missing", ["iss", "aud", "sub", "exp", "iat"])
async def test_a_token_missing_a_required_claim_is_refused(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey, missing: str
) -> None:
    body = claims()
    del body[missing]

    await refused(verifier, signed(issuer_key, body))


@pytest.mark.parametrize("subject", ["", "x" * 201, "acme\x00", "line\nbreak"])
async def test_a_token_with_an_unusable_subject_is_refused(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey, subject: str
) -> None:
    await refused(verifier, signed(issuer_key, claims(sub=subject)))


async def test_a_subject_of_200_characters_is_accepted(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey
) -> None:
    assert (await verifier.verify(signed(issuer_key, claims(sub="é" * 200)))).sub == "é" * 200


async def test_a_token_signed_by_another_key_is_refused(verifier: AccessTokenVerifier) -> None:
    impostor = Ed25519PrivateKey.generate()
    token = issue_access_token(
        impostor, issuer=ISSUER, audience=AUDIENCE, sub="acme", role=Role.partner
    )

    await refused(verifier, token)


async def test_a_tampered_payload_is_refused(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey
) -> None:
    header, _, signature = signed(issuer_key, claims()).split(".")
    payload = b64(json.dumps(claims(role="service")).encode())

    await refused(verifier, f"{header}.{payload}.{signature}")


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "a.b", "...", "ey.ey.ey"])
async def test_garbage_is_refused(verifier: AccessTokenVerifier, token: str) -> None:
    await refused(verifier, token)


def test_a_verifier_needs_an_issuer() -> None:
    with pytest.raises(ValueError, match="trusted issuer"):
        AccessTokenVerifier([])


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

    assert jwt.get_unverified_header(token) == {
        "alg": "EdDSA",
        "typ": "at+jwt",
        "kid": key_id(issuer_key.public_key()),
    }
    body = jwt.decode(token, options={"verify_signature": False})
    assert (body["iat"], body["nbf"], body["exp"]) == (1_000_000, 1_000_000, 1_000_120)
    assert body["role"] == "reviewer"
    assert body["jti"]


async def test_service_tokens_are_reused_until_close_to_expiry(
    verifier: AccessTokenVerifier, orders_key: Ed25519PrivateKey
) -> None:
    source = ServiceTokenSource(orders_key, service_name="orders", ttl_seconds=600)

    first = source.token("license")

    assert source.token("license") == first
    assert source.token("catalog") != first  # one token per callee: its audience
    assert await verifier.verify(first) == Principal(sub="orders", role=Role.service)


# -- who may sign what (issue 10, finding 6) -------------------------------------------------


async def test_a_service_token_of_an_expected_caller_gives_the_service_principal(
    verifier: AccessTokenVerifier, orders_key: Ed25519PrivateKey
) -> None:
    token = issue_service_token(orders_key, caller="orders", callee="license")

    assert await verifier.verify(token) == Principal(sub="orders", role=Role.service)


async def test_the_user_issuer_key_cannot_sign_a_service_token(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey
) -> None:
    # Neither as the user issuer (role service is not a user role)...
    await refused(verifier, signed(issuer_key, claims(role="service", sub="orders")))
    # ...nor posing as orders (the key is not orders').
    await refused(verifier, issue_service_token(issuer_key, caller="orders", callee="license"))


@pytest.mark.parametrize("role", ["partner", "customer", "reviewer"])
async def test_a_service_key_cannot_sign_a_user_token(
    verifier: AccessTokenVerifier, orders_key: Ed25519PrivateKey, role: str
) -> None:
    # As orders, claiming a user role...
    as_orders = claims(
        iss=service_urn("orders"), aud=service_urn("license"), sub="orders", role=role
    )
    await refused(verifier, signed(orders_key, as_orders))
    # ...or as the user issuer, which it is not.
    await refused(verifier, signed(orders_key, claims(role=role)))


async def test_a_service_token_names_its_own_service_as_subject(
    verifier: AccessTokenVerifier, orders_key: Ed25519PrivateKey
) -> None:
    body = claims(iss=service_urn("orders"), aud=service_urn("license"), sub="acme")

    await refused(verifier, signed(orders_key, {**body, "role": "service"}))


async def test_a_service_token_for_another_service_is_not_replayed_here(
    verifier: AccessTokenVerifier, orders_key: Ed25519PrivateKey
) -> None:
    # A token orders got for catalog (or any other audience) is refused by license.
    await refused(verifier, issue_service_token(orders_key, caller="orders", callee="catalog"))


async def test_a_service_that_is_not_an_expected_caller_is_refused(
    verifier: AccessTokenVerifier, review_key: Ed25519PrivateKey
) -> None:
    await refused(verifier, issue_service_token(review_key, caller="review", callee="license"))


async def test_a_user_token_keeps_the_shared_audience(
    issuer_key: Ed25519PrivateKey,
    orders_key: Ed25519PrivateKey,
    review_key: Ed25519PrivateKey,
) -> None:
    license = AccessTokenVerifier(
        [users(issuer_key), service("orders", orders_key, callee="license")]
    )
    catalog = AccessTokenVerifier(
        [users(issuer_key), service("review", review_key, callee="catalog")]
    )
    token = issue_access_token(
        issuer_key, issuer=ISSUER, audience=AUDIENCE, sub="acme", role=Role.partner
    )

    assert await license.verify(token) == await catalog.verify(token)


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


async def test_a_verified_token_is_remembered_until_it_expires(
    verifier: AccessTokenVerifier,
    issuer_key: Ed25519PrivateKey,
    checks: SignatureChecks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = int(time.time())
    token = signed(issuer_key, claims(iat=now, nbf=now, exp=now + 40))

    assert (
        await verifier.verify(token)
        == await verifier.verify(token)
        == Principal("acme", Role.partner)
    )
    assert checks.count == 1

    # Past exp + leeway (30 s) the remembered answer is gone: the token is checked again
    # (and PyJWT, on its own clock, refuses it once it has really expired).
    monkeypatch.setattr(time, "time", lambda: now + 71.0)
    await verifier.verify(token)
    assert checks.count == 2


async def test_a_remembered_token_is_checked_again_after_a_minute(
    verifier: AccessTokenVerifier,
    issuer_key: Ed25519PrivateKey,
    checks: SignatureChecks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = int(time.time())
    token = signed(issuer_key, claims(iat=now, nbf=now, exp=now + 3600))
    await verifier.verify(token)
    monkeypatch.setattr(time, "time", lambda: now + 61.0)

    assert (await verifier.verify(token)).sub == "acme"
    assert checks.count == 2


async def test_a_refused_token_is_not_remembered(
    verifier: AccessTokenVerifier, issuer_key: Ed25519PrivateKey, checks: SignatureChecks
) -> None:
    token = signed(Ed25519PrivateKey.generate(), claims())

    await refused(verifier, token)
    await refused(verifier, token)

    assert checks.count == 2  # refused in full both times, never from memory
