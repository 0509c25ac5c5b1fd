"""The offline verifier: every code, every RFC 8725 attack, entitlements without a network."""

import base64
import hashlib
import hmac
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.license.domain.model import Mode
from services.license.domain.tokens import bundle_claims, license_claims, revocation_list_claims
from services.license.keyring import KeyRing, create_signing_key, public_jwk, thumbprint
from services.license.verifier import (
    BUNDLE_TOKEN_TYPE,
    LICENSE_TOKEN_TYPE,
    REVOCATION_LIST_TOKEN_TYPE,
    Code,
    InvalidRevocationListError,
    OfflineVerifier,
    RevocationListRolledBackError,
    read_seen_seq,
    record_seen_seq,
)
from shared.auth import Role, issue_access_token
from tests.license.unit.terms import DAY, T0, addon, make_terms

ISSUER = "market-license"
NOW = (T0 + DAY).timestamp()
WEEK = 7 * DAY


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@pytest.fixture
def ring(tmp_path: Path) -> KeyRing:
    create_signing_key(tmp_path / "keys")
    return KeyRing(tmp_path / "keys", issuer=ISSUER)


@pytest.fixture
def jwks(ring: KeyRing) -> dict[str, Any]:
    return {"keys": [ring.jwk(kid) for kid in ring.kids]}


@pytest.fixture
def verifier(jwks: dict[str, Any]) -> OfflineVerifier:
    return OfflineVerifier.from_jwks(jwks)


def revocation_list(
    ring: KeyRing, revoked: list[str], *, seq: int = 1, issued_at: datetime = T0
) -> str:
    """A signed list issued at `issued_at` (before NOW) that lasts a week."""
    claims = revocation_list_claims(
        issuer=ISSUER, revoked=revoked, seq=seq, issued_at=issued_at, expires_at=issued_at + WEEK
    )
    return ring.sign(claims, REVOCATION_LIST_TOKEN_TYPE)[0]


def license_token(ring: KeyRing, terms=None) -> str:
    claims = license_claims(terms or make_terms(), issuer=ISSUER, issued_at=T0)
    return ring.sign(claims, LICENSE_TOKEN_TYPE)[0]


def forge(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    head = b64(json.dumps(header).encode())
    body = b64(json.dumps(claims).encode())
    return f"{head}.{body}.{b64(signature)}"


def test_a_fresh_license_is_valid(ring: KeyRing, verifier: OfflineVerifier) -> None:
    verdict = verifier.verify(license_token(ring), audience="prd_1", now=NOW)

    assert verdict.code is Code.VALID
    assert verdict.valid
    assert verdict.lic["id"] == "lic_base"


def test_alg_none_is_refused(ring: KeyRing, verifier: OfflineVerifier) -> None:
    claims = license_claims(make_terms(), issuer=ISSUER, issued_at=T0)
    token = forge({"alg": "none", "typ": LICENSE_TOKEN_TYPE, "kid": ring.current.kid}, claims)

    verdict = verifier.verify(token, now=NOW)

    assert verdict.code is Code.BAD_SIGNATURE
    assert verdict.claims is None


@pytest.mark.parametrize("alg", ["HS256", "HS512"])
def test_hmac_signed_with_the_public_key_is_refused(
    ring: KeyRing, verifier: OfflineVerifier, alg: str
) -> None:
    claims = license_claims(make_terms(), issuer=ISSUER, issued_at=T0)
    header = {"alg": alg, "typ": LICENSE_TOKEN_TYPE, "kid": ring.current.kid}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    digest = hashlib.sha256 if alg == "HS256" else hashlib.sha512
    public_x = ring.jwk(ring.current.kid)["x"].encode()
    for secret in (public_x, base64.urlsafe_b64decode(public_x + b"=")):
        mac = hmac.new(secret, signing_input.encode(), digest).digest()

        verdict = verifier.verify(f"{signing_input}.{b64(mac)}", now=NOW)

        assert verdict.code is Code.BAD_SIGNATURE


def test_unknown_kid_is_refused(verifier: OfflineVerifier) -> None:
    stranger = Ed25519PrivateKey.generate()
    claims = license_claims(make_terms(), issuer=ISSUER, issued_at=T0)
    token = jwt.encode(
        claims,
        stranger,
        algorithm="EdDSA",
        headers={"typ": LICENSE_TOKEN_TYPE, "kid": thumbprint(stranger.public_key())},
    )

    assert verifier.verify(token, now=NOW).code is Code.UNKNOWN_KEY


def test_our_kid_on_a_stranger_signature_is_a_bad_signature(
    ring: KeyRing, verifier: OfflineVerifier
) -> None:
    stranger = Ed25519PrivateKey.generate()
    claims = license_claims(make_terms(), issuer=ISSUER, issued_at=T0)
    token = jwt.encode(
        claims,
        stranger,
        algorithm="EdDSA",
        headers={"typ": LICENSE_TOKEN_TYPE, "kid": ring.current.kid},
    )

    assert verifier.verify(token, now=NOW).code is Code.BAD_SIGNATURE


def test_a_key_embedded_in_the_header_is_ignored(verifier: OfflineVerifier) -> None:
    stranger = Ed25519PrivateKey.generate()
    kid = thumbprint(stranger.public_key())
    claims = license_claims(make_terms(), issuer=ISSUER, issued_at=T0)
    token = jwt.encode(
        claims,
        stranger,
        algorithm="EdDSA",
        headers={
            "typ": LICENSE_TOKEN_TYPE,
            "kid": kid,
            "jwk": public_jwk(kid, stranger.public_key()),
        },
    )

    assert verifier.verify(token, now=NOW).code is Code.UNKNOWN_KEY


def test_a_missing_kid_is_an_unknown_key(ring: KeyRing, verifier: OfflineVerifier) -> None:
    claims = license_claims(make_terms(), issuer=ISSUER, issued_at=T0)
    token = jwt.encode(
        claims, ring.current.private, algorithm="EdDSA", headers={"typ": LICENSE_TOKEN_TYPE}
    )

    assert verifier.verify(token, now=NOW).code is Code.UNKNOWN_KEY


def test_tampered_claims_break_the_signature(ring: KeyRing, verifier: OfflineVerifier) -> None:
    head, _, signature = license_token(ring).split(".")
    claims = license_claims(
        make_terms(entitlements={"devices": 100_000}), issuer=ISSUER, issued_at=T0
    )
    tampered = f"{head}.{b64(json.dumps(claims).encode())}.{signature}"

    assert verifier.verify(tampered, now=NOW).code is Code.BAD_SIGNATURE


def test_a_tampered_header_breaks_the_signature(ring: KeyRing, verifier: OfflineVerifier) -> None:
    _, body, signature = license_token(ring).split(".")
    header = {"alg": "EdDSA", "typ": LICENSE_TOKEN_TYPE, "kid": ring.current.kid, "x": 1}

    token = f"{b64(json.dumps(header).encode())}.{body}.{signature}"

    assert verifier.verify(token, now=NOW).code is Code.BAD_SIGNATURE


def test_a_signature_spelled_another_way_is_malformed(
    ring: KeyRing, verifier: OfflineVerifier
) -> None:
    token = license_token(ring)
    last = token[-1]
    # The last character carries 2 significant bits; its other spellings decode alike.
    variant = token[:-1] + chr(ord(last) + 1)

    assert verifier.verify(variant, now=NOW).code in (Code.MALFORMED, Code.BAD_SIGNATURE)
    assert verifier.verify(token + "A", now=NOW).code is Code.MALFORMED


def test_expired_license(ring: KeyRing, verifier: OfflineVerifier) -> None:
    token = license_token(ring)

    assert verifier.verify(token, now=(T0 + 30 * DAY).timestamp()).code is Code.EXPIRED
    assert verifier.verify(token, now=(T0 + 30 * DAY).timestamp() - 1).code is Code.VALID


def test_not_yet_valid_is_expired(ring: KeyRing, verifier: OfflineVerifier) -> None:
    token = license_token(ring, make_terms(valid_from=T0 + 2 * DAY))

    verdict = verifier.verify(token, now=NOW)

    assert verdict.code is Code.EXPIRED
    assert "not valid yet" in verdict.detail


def test_leeway_allows_for_a_clock_that_is_off(ring: KeyRing, jwks: dict[str, Any]) -> None:
    token = license_token(ring)
    lenient = OfflineVerifier.from_jwks(jwks, leeway_seconds=60)

    assert lenient.verify(token, now=(T0 + 30 * DAY).timestamp() + 30).code is Code.VALID


def test_a_permanent_license_has_no_end(ring: KeyRing, verifier: OfflineVerifier) -> None:
    token = license_token(ring, make_terms(mode=Mode.permanent, valid_until=None))

    assert verifier.verify(token, now=(T0 + 10_000 * DAY).timestamp()).code is Code.VALID


def test_wrong_audience(ring: KeyRing, verifier: OfflineVerifier) -> None:
    verdict = verifier.verify(license_token(ring), audience="prd_other", now=NOW)

    assert verdict.code is Code.WRONG_TYPE
    assert "prd_1" in verdict.detail


def test_wrong_issuer(ring: KeyRing, jwks: dict[str, Any]) -> None:
    other = OfflineVerifier.from_jwks(jwks, issuer="someone-else")

    assert other.verify(license_token(ring), now=NOW).code is Code.WRONG_TYPE


def test_an_access_token_is_not_a_license(ring: KeyRing, verifier: OfflineVerifier) -> None:
    access = issue_access_token(
        Ed25519PrivateKey.generate(),
        issuer="market-dev",
        audience="market",
        sub="x",
        role=Role.customer,
    )
    # Even one signed by a license key, with its kid, is not a license.
    forged = jwt.encode(
        {"iss": ISSUER, "sub": "ins_1", "aud": "prd_1", "iat": 1, "nbf": 1},
        ring.current.private,
        algorithm="EdDSA",
        headers={"typ": "at+jwt", "kid": ring.current.kid},
    )

    assert verifier.verify(access, now=NOW).code is Code.WRONG_TYPE
    assert verifier.verify(forged, now=NOW).code is Code.WRONG_TYPE


def test_a_bundle_or_revocation_list_is_not_a_license(
    ring: KeyRing, verifier: OfflineVerifier
) -> None:
    bundle = ring.sign(
        bundle_claims(
            instance_id="ins_1",
            product_id="prd_1",
            licenses=[make_terms()],
            issuer=ISSUER,
            issued_at=T0,
            bundle_id="bdl_1",
        ),
        BUNDLE_TOKEN_TYPE,
    )[0]
    revocations = revocation_list(ring, [])

    assert verifier.verify(bundle, now=NOW).code is Code.WRONG_TYPE
    assert verifier.verify(revocations, now=NOW).code is Code.WRONG_TYPE
    assert verifier.verify_bundle(license_token(ring), now=NOW).code is Code.WRONG_TYPE


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "!!!.???.***",
        b64(b"[1,2]") + ".e30.",
        b64(b'{"alg":"EdDSA","typ":"license+jwt","kid":"k","crit":["exp"]}') + ".e30.",
        b64(b"not json") + ".e30.sig",
    ],
)
def test_garbage_is_malformed(verifier: OfflineVerifier, token: str) -> None:
    assert verifier.verify(token, now=NOW).code is Code.MALFORMED


def test_claims_of_the_wrong_shape_are_malformed(ring: KeyRing, verifier: OfflineVerifier) -> None:
    claims = license_claims(make_terms(), issuer=ISSUER, issued_at=T0)
    claims["jti"] = "lic_other.1"
    token = ring.sign(claims, LICENSE_TOKEN_TYPE)[0]
    no_exp = license_claims(make_terms(), issuer=ISSUER, issued_at=T0)
    del no_exp["exp"]

    assert verifier.verify(token, now=NOW).code is Code.MALFORMED
    assert verifier.verify(ring.sign(no_exp, LICENSE_TOKEN_TYPE)[0], now=NOW).code is Code.MALFORMED


def test_a_revoked_license_is_refused(ring: KeyRing, jwks: dict[str, Any]) -> None:
    revocations = revocation_list(ring, ["lic_base"])
    verifier = OfflineVerifier.from_jwks(jwks, revocation_list=revocations)

    assert verifier.verify(license_token(ring), now=NOW).code is Code.REVOKED
    assert verifier.revoked == {"lic_base"}


def test_a_revocation_list_from_another_key_is_refused(jwks: dict[str, Any]) -> None:
    stranger = Ed25519PrivateKey.generate()
    forged = jwt.encode(
        {"iss": ISSUER, "sub": "revocations", "iat": 1, "revoked": []},
        stranger,
        algorithm="EdDSA",
        headers={"typ": REVOCATION_LIST_TOKEN_TYPE, "kid": thumbprint(stranger.public_key())},
    )

    with pytest.raises(InvalidRevocationListError):
        OfflineVerifier.from_jwks(jwks, revocation_list=forged)


def test_rotation_keeps_old_tokens_verifying(ring: KeyRing, tmp_path: Path) -> None:
    old = license_token(ring)
    create_signing_key(tmp_path / "keys")
    assert ring.refresh()
    new = license_token(ring)
    verifier = OfflineVerifier.from_jwks({"keys": [ring.jwk(kid) for kid in ring.kids]})

    assert len(ring.kids) == 2
    assert verifier.verify(old, now=NOW).valid
    assert verifier.verify(new, now=NOW).valid
    assert jwt.get_unverified_header(old)["kid"] != jwt.get_unverified_header(new)["kid"]


def test_entitlements_sum_base_and_valid_addons(ring: KeyRing, verifier: OfflineVerifier) -> None:
    tokens = [
        license_token(ring),
        license_token(ring, addon()),
        license_token(ring, addon(id="lic_a2", entitlements={"hours": 5})),
        license_token(ring, addon(id="lic_old", valid_until=T0 + DAY / 2)),
    ]

    report = verifier.entitlements(tokens, audience="prd_1", now=NOW)

    assert [v.code for v in report.verdicts] == [Code.VALID, Code.VALID, Code.VALID, Code.EXPIRED]
    assert not report.all_valid
    instance = report.instances["ins_1"]
    assert instance.entitlements == {"devices": 300, "hours": 5}
    assert instance.licenses == ["lic_base", "lic_addon", "lic_a2"]
    assert instance.product_id == "prd_1"


def test_an_older_version_among_the_tokens_is_superseded(
    ring: KeyRing, verifier: OfflineVerifier
) -> None:
    v1 = license_token(ring, addon(entitlements={"devices": 100}))
    v2 = license_token(ring, addon(entitlements={"devices": 100}, version=2))

    report = verifier.entitlements([license_token(ring), v1, v2], now=NOW)

    assert [v.code for v in report.verdicts] == [Code.VALID, Code.SUPERSEDED, Code.VALID]
    assert report.instances["ins_1"].entitlements == {"devices": 200}


def test_addons_without_a_valid_base_count_nothing(
    ring: KeyRing, verifier: OfflineVerifier
) -> None:
    report = verifier.entitlements([license_token(ring, addon())], now=NOW)

    assert report.instances["ins_1"].entitlements == {}


def test_a_bundle_verifies_and_sums(ring: KeyRing, jwks: dict[str, Any]) -> None:
    claims = bundle_claims(
        instance_id="ins_1",
        product_id="prd_1",
        licenses=[make_terms(), addon()],
        issuer=ISSUER,
        issued_at=T0,
        bundle_id="bdl_1",
    )
    bundle = ring.sign(claims, BUNDLE_TOKEN_TYPE)[0]
    verifier = OfflineVerifier.from_jwks(jwks)

    assert verifier.verify_bundle(bundle, audience="prd_1", now=NOW).code is Code.VALID
    assert verifier.entitlements([bundle], now=NOW).instances["ins_1"].entitlements == {
        "devices": 300
    }
    revocations = revocation_list(ring, ["lic_addon"])
    strict = OfflineVerifier.from_jwks(jwks, revocation_list=revocations)
    assert strict.verify_bundle(bundle, now=NOW).code is Code.REVOKED


def test_from_files_reads_the_jwks_and_the_json_revocation_list(
    ring: KeyRing, jwks: dict[str, Any], tmp_path: Path
) -> None:
    revocations = revocation_list(ring, ["lic_base"])
    (tmp_path / "jwks.json").write_text(json.dumps(jwks))
    (tmp_path / "revocations.json").write_text(json.dumps({"token": revocations, "revoked": []}))

    verifier = OfflineVerifier.from_files(tmp_path / "jwks.json", tmp_path / "revocations.json")

    assert verifier.verify(license_token(ring), now=NOW).code is Code.REVOKED


def test_jwks_entries_of_other_kinds_are_ignored(ring: KeyRing) -> None:
    jwk = ring.jwk(ring.current.kid)
    jwks = {
        "keys": [
            {**jwk, "alg": "HS256"},
            {**jwk, "kty": "oct", "k": jwk["x"]},
            {**jwk, "use": "enc"},
            "not a key",
        ]
    }

    verifier = OfflineVerifier.from_jwks(jwks)

    assert verifier.verify(license_token(ring), now=NOW).code is Code.UNKNOWN_KEY


@pytest.mark.parametrize(
    ("claim", "value"),
    [("iat", True), ("nbf", "1"), ("exp", 1.5), ("aud", ["prd_1"]), ("lic", None)],
)
def test_signed_claims_of_the_wrong_type_are_malformed(
    ring: KeyRing, verifier: OfflineVerifier, claim: str, value: object
) -> None:
    claims = license_claims(make_terms(), issuer=ISSUER, issued_at=T0)
    claims[claim] = value

    verdict = verifier.verify(ring.sign(claims, LICENSE_TOKEN_TYPE)[0], now=NOW)

    assert verdict.code is Code.MALFORMED


def test_a_list_without_exp_or_seq_is_refused(ring: KeyRing, jwks: dict[str, Any]) -> None:
    # What the service signed before lists had a lifetime and a seq: replayable for ever.
    old_style = ring.sign(
        {"iss": ISSUER, "sub": "revocations", "iat": 1, "revoked": []},
        REVOCATION_LIST_TOKEN_TYPE,
    )[0]
    no_seq = ring.sign(
        {"iss": ISSUER, "sub": "revocations", "iat": 1, "exp": 2, "revoked": []},
        REVOCATION_LIST_TOKEN_TYPE,
    )[0]

    for token in (old_style, no_seq):
        with pytest.raises(InvalidRevocationListError, match="MALFORMED"):
            OfflineVerifier.from_jwks(jwks, revocation_list=token)


def test_a_stale_list_makes_valid_stale_and_leaves_other_codes(
    ring: KeyRing, jwks: dict[str, Any]
) -> None:
    revoked = make_terms(id="lic_gone", order_id="ord_2", valid_until=None, mode=Mode.permanent)
    ended = make_terms(id="lic_ended", order_id="ord_3", valid_until=T0 + 10 * DAY)
    good = make_terms(valid_until=None, mode=Mode.permanent)
    verifier = OfflineVerifier.from_jwks(jwks, revocation_list=revocation_list(ring, ["lic_gone"]))
    list_exp = (T0 + WEEK).timestamp()

    assert not verifier.revocations_stale(list_exp - 1)
    assert verifier.verify(license_token(ring, good), now=list_exp - 1).code is Code.VALID
    assert verifier.revocations_stale(list_exp)
    stale = verifier.verify(license_token(ring, good), now=list_exp)
    assert stale.code is Code.STALE
    assert not stale.valid
    assert stale.lic["id"] == "lic_base"
    assert "GET /v1/revocations" in stale.detail
    assert verifier.verify(license_token(ring, revoked), now=list_exp).code is Code.REVOKED
    assert (
        verifier.verify(license_token(ring, ended), now=(T0 + 11 * DAY).timestamp()).code
        is Code.EXPIRED
    )


def test_without_a_list_nothing_is_stale(ring: KeyRing, verifier: OfflineVerifier) -> None:
    far = (T0 + 400 * DAY).timestamp()
    permanent = make_terms(valid_until=None, mode=Mode.permanent)

    assert not verifier.revocations_stale(far)
    assert verifier.verify(license_token(ring, permanent), now=far).code is Code.VALID


def test_a_stale_list_is_trusted_for_the_grace_period_and_the_leeway(
    ring: KeyRing, jwks: dict[str, Any]
) -> None:
    token = license_token(ring, make_terms(valid_until=None, mode=Mode.permanent))
    revocations = revocation_list(ring, [])
    list_exp = (T0 + WEEK).timestamp()
    lenient = OfflineVerifier.from_jwks(
        jwks, revocation_list=revocations, stale_grace_seconds=3600, leeway_seconds=60
    )

    assert lenient.revocations_stale(list_exp + 60)
    assert lenient.verify(token, now=list_exp + 3659).code is Code.VALID
    assert lenient.verify(token, now=list_exp + 3660).code is Code.STALE


def test_a_bundle_checked_against_a_stale_list_is_stale(
    ring: KeyRing, jwks: dict[str, Any]
) -> None:
    claims = bundle_claims(
        instance_id="ins_1",
        product_id="prd_1",
        licenses=[make_terms(valid_until=None, mode=Mode.permanent)],
        issuer=ISSUER,
        issued_at=T0,
        bundle_id="bdl_1",
    )
    bundle = ring.sign(claims, BUNDLE_TOKEN_TYPE)[0]
    verifier = OfflineVerifier.from_jwks(jwks, revocation_list=revocation_list(ring, []))

    assert verifier.verify_bundle(bundle, now=NOW).code is Code.VALID
    assert verifier.verify_bundle(bundle, now=(T0 + WEEK).timestamp()).code is Code.STALE


def test_stale_tokens_count_for_nothing_and_the_report_says_why(
    ring: KeyRing, jwks: dict[str, Any]
) -> None:
    verifier = OfflineVerifier.from_jwks(jwks, revocation_list=revocation_list(ring, []))
    base = make_terms(valid_until=None, mode=Mode.permanent)
    old = license_token(ring, base)
    newer = license_token(ring, make_terms(valid_until=None, mode=Mode.permanent, version=2))
    late = (T0 + WEEK).timestamp()

    report = verifier.entitlements([old, newer], now=late)

    assert [v.code for v in report.verdicts] == [Code.SUPERSEDED, Code.STALE]
    assert report.stale
    assert not report.all_valid
    assert report.instances == {}
    assert not verifier.entitlements([newer], now=NOW).stale


def test_a_list_older_than_one_seen_is_refused(ring: KeyRing, jwks: dict[str, Any]) -> None:
    first = revocation_list(ring, ["lic_a"], seq=1)
    second = revocation_list(ring, ["lic_a", "lic_b"], seq=2, issued_at=T0 + DAY)
    second_again = revocation_list(ring, ["lic_a", "lic_b"], seq=2, issued_at=T0 + 2 * DAY)
    verifier = OfflineVerifier.from_jwks(jwks, revocation_list=first)
    assert verifier.seq == 1

    verifier.load_revocation_list(second)
    with pytest.raises(RevocationListRolledBackError) as refused:
        verifier.load_revocation_list(first)
    verifier.load_revocation_list(second_again)

    assert (refused.value.seq, refused.value.seen_seq) == (1, 2)
    assert verifier.seq == 2
    assert verifier.revoked == {"lic_a", "lic_b"}
    assert verifier.revocation_list is not None
    assert verifier.revocation_list.issued_at == (T0 + 2 * DAY).timestamp()
    with pytest.raises(RevocationListRolledBackError):
        OfflineVerifier.from_jwks(jwks, revocation_list=first, seen_seq=2)
    assert OfflineVerifier.from_jwks(jwks, revocation_list=second, seen_seq=2).seq == 2


def test_the_seen_seq_survives_in_a_state_file(tmp_path: Path) -> None:
    state = tmp_path / "state.json"

    assert read_seen_seq(state) == 0
    assert not state.exists()
    assert record_seen_seq(state, 3) == 3
    assert record_seen_seq(state, 2) == 3
    assert read_seen_seq(state) == 3
    assert record_seen_seq(state, 5) == 5
    assert json.loads(state.read_text()) == {"seq": 5}
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


@pytest.mark.parametrize("text", ["", "[]", '{"seq": -1}', '{"seq": "3"}', '{"seq": true}'])
def test_a_state_file_of_another_shape_is_refused(tmp_path: Path, text: str) -> None:
    state = tmp_path / "state.json"
    state.write_text(text)

    with pytest.raises(ValueError, match="state file"):
        read_seen_seq(state)
    with pytest.raises(ValueError, match="state file"):
        record_seen_seq(state, 1)
