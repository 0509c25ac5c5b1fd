"""Verification online and offline: codes, keys and their rotation, the revocation list."""

import base64
import json
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import services.license.reads
from services.license.keyring import KeyRing, create_signing_key, thumbprint
from services.license.verifier import Code, OfflineVerifier
from shared.auth import Role
from tests.conftest import TestKeys
from tests.license.factories import LicenseDriver


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


async def test_a_fresh_license_verifies(lic: LicenseDriver) -> None:
    base = await lic.base()

    result = await lic.verify(base["token"])

    assert result["valid"] is True
    assert result["code"] == "VALID"
    assert result["license"]["id"] == base["id"]
    assert result["license"]["instance_id"] == base["instance_id"]
    assert result["license"]["entitlements"] == {"devices": 100}


async def test_an_access_token_is_the_wrong_type(lic: LicenseDriver, keys: TestKeys) -> None:
    result = await lic.verify(keys.token(Role.customer, "globex"))

    assert (result["valid"], result["code"], result["license"]) == (False, "WRONG_TYPE", None)


async def test_alg_none_and_hmac_never_pass(lic: LicenseDriver, ring: KeyRing) -> None:
    base = await lic.base()
    _, body, _ = base["token"].split(".")
    none_header = b64(json.dumps({"alg": "none", "typ": "license+jwt"}).encode())
    hs_header = b64(
        json.dumps({"alg": "HS256", "typ": "license+jwt", "kid": ring.current.kid}).encode()
    )

    codes = {
        (await lic.verify(f"{none_header}.{body}."))["code"],
        (await lic.verify(f"{hs_header}.{body}.{b64(b'x' * 32)}"))["code"],
    }

    assert codes <= {"BAD_SIGNATURE", "MALFORMED"}


async def test_unknown_key_tampering_and_garbage(lic: LicenseDriver) -> None:
    base = await lic.base()
    claims = jwt.decode(base["token"], options={"verify_signature": False})
    stranger = Ed25519PrivateKey.generate()
    foreign = jwt.encode(
        claims,
        stranger,
        algorithm="EdDSA",
        headers={"typ": "license+jwt", "kid": thumbprint(stranger.public_key())},
    )
    head, _, signature = base["token"].split(".")
    claims["lic"]["entitlements"] = {"devices": 1_000_000}
    tampered = f"{head}.{b64(json.dumps(claims).encode())}.{signature}"

    assert (await lic.verify(foreign))["code"] == "UNKNOWN_KEY"
    assert (await lic.verify(tampered))["code"] == "BAD_SIGNATURE"
    assert (await lic.verify("not-a-token"))["code"] == "MALFORMED"


async def test_a_huge_or_missing_token_is_422(license_client: httpx.AsyncClient) -> None:
    huge = await license_client.post("/v1/verify", json={"token": "a" * 20_000})
    missing = await license_client.post("/v1/verify", json={})
    not_json = await license_client.post(
        "/v1/verify", content=b"{", headers={"content-type": "application/json"}
    )

    assert (huge.status_code, missing.status_code, not_json.status_code) == (422, 422, 422)


async def test_jwks_publishes_public_keys_only(lic: LicenseDriver, ring: KeyRing) -> None:
    response = await lic.client.get("/.well-known/jwks.json")

    assert response.status_code == 200
    assert response.headers["cache-control"].startswith("public")
    [key] = response.json()["keys"]
    assert key["kid"] == ring.current.kid
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert "d" not in key


async def test_rotation_keeps_old_tokens_verifying(
    lic: LicenseDriver, ring: KeyRing, signing_keys_dir: Path
) -> None:
    old = await lic.base()
    old_kid = ring.current.kid

    new_key = create_signing_key(signing_keys_dir)
    new = await lic.base()

    assert jwt.get_unverified_header(new["token"])["kid"] == new_key.kid
    assert jwt.get_unverified_header(old["token"])["kid"] == old_kid
    jwks = await lic.jwks()
    assert {k["kid"] for k in jwks["keys"]} == {old_kid, new_key.kid}
    assert (await lic.verify(old["token"]))["code"] == "VALID"
    assert (await lic.verify(new["token"]))["code"] == "VALID"
    offline = OfflineVerifier.from_jwks(jwks)
    assert offline.verify(old["token"]).valid
    assert offline.verify(new["token"]).valid


async def test_a_key_leaves_jwks_when_no_live_license_needs_it(
    lic: LicenseDriver, ring: KeyRing, signing_keys_dir: Path
) -> None:
    old = await lic.base()
    old_kid = ring.current.kid
    create_signing_key(signing_keys_dir)
    await lic.base()

    await lic.revoke(old["order_id"])

    kids = {k["kid"] for k in (await lic.jwks())["keys"]}
    assert old_kid not in kids
    # Online verification still knows every key of the ring.
    assert (await lic.verify(old["token"]))["code"] == "REVOKED"


async def test_revocation_shows_in_verify_and_the_signed_list(lic: LicenseDriver) -> None:
    base = await lic.base()
    addon = await lic.addon(base["instance_id"])
    jwks = await lic.jwks()

    await lic.revoke(addon["order_id"])

    assert (await lic.verify(addon["token"]))["code"] == "REVOKED"
    revocations = await lic.revocations()
    assert revocations["revoked"] == [addon["id"]]
    assert revocations["issuer"] == "market-license"
    offline = OfflineVerifier.from_jwks(jwks, revocation_list=revocations["token"])
    assert offline.verify(addon["token"]).code is Code.REVOKED
    assert offline.verify(base["token"]).valid
    report = offline.entitlements([base["token"], addon["token"]])
    assert report.instances[base["instance_id"]].entitlements == {"devices": 100}


async def test_an_installed_application_verifies_its_bundle_offline(lic: LicenseDriver) -> None:
    base = await lic.base()
    await lic.addon(base["instance_id"])
    bundle = (await lic.entitlement(base["instance_id"])).json()
    offline = OfflineVerifier.from_jwks(
        await lic.jwks(), revocation_list=(await lic.revocations())["token"]
    )

    verdict = offline.verify_bundle(bundle["token"], audience=base["product_id"])

    assert verdict.valid
    report = offline.entitlements([bundle["token"]])
    assert report.instances[base["instance_id"]].entitlements == {"devices": 300}


@pytest.mark.parametrize("path", ["/.well-known/jwks.json", "/v1/revocations"])
async def test_verifier_endpoints_are_public(license_client: httpx.AsyncClient, path: str) -> None:
    assert (await license_client.get(path)).status_code == 200


def replace_every_key(folder: Path) -> None:
    """A leaked key is taken out of the folder, and a new one put in."""
    for path in folder.glob("*.pem"):
        path.unlink()
    create_signing_key(folder)


async def test_a_verified_token_whose_key_leaves_the_folder_stops_verifying_at_once(
    lic: LicenseDriver, signing_keys_dir: Path
) -> None:
    base = await lic.base()
    assert (await lic.verify(base["token"]))["code"] == "VALID"

    replace_every_key(signing_keys_dir)

    assert (await lic.verify(base["token"]))["code"] == "UNKNOWN_KEY"


async def test_a_verified_token_still_expires(
    lic: LicenseDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = await lic.base()
    assert (await lic.verify(base["token"]))["code"] == "VALID"
    after_its_end = datetime.fromisoformat(base["valid_until"]) + timedelta(seconds=1)

    monkeypatch.setattr(services.license.reads, "utcnow", lambda: after_its_end)

    assert (await lic.verify(base["token"]))["code"] == "EXPIRED"
