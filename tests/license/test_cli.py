"""`market keys rotate`, `market license verify` on saved files, and `market dev-setup`."""

import json
import stat
from pathlib import Path

import pytest

from services.cli import main
from services.license.domain.model import Mode
from services.license.domain.tokens import license_claims, revocation_list_claims
from services.license.keyring import KeyRing, create_signing_key
from services.license.verifier import LICENSE_TOKEN_TYPE, REVOCATION_LIST_TOKEN_TYPE
from tests.license.unit.terms import addon, make_terms

ISSUER = "market-license"


@pytest.fixture
def ring(tmp_path: Path) -> KeyRing:
    create_signing_key(tmp_path / "keys")
    return KeyRing(tmp_path / "keys")


@pytest.fixture
def files(ring: KeyRing, tmp_path: Path) -> dict[str, Path]:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [ring.jwk(kid) for kid in ring.kids]}))
    revocations = tmp_path / "revocations.json"
    token = ring.sign(
        revocation_list_claims(
            issuer=ISSUER, revoked=["lic_revoked"], issued_at=make_terms().valid_from
        ),
        REVOCATION_LIST_TOKEN_TYPE,
    )[0]
    revocations.write_text(json.dumps({"token": token, "revoked": ["lic_revoked"]}))
    return {"jwks": jwks, "revocations": revocations}


def sign(ring: KeyRing, **overrides: object) -> str:
    terms = addon(**overrides) if overrides else make_terms(valid_until=None, mode=Mode.permanent)
    claims = license_claims(terms, issuer=ISSUER, issued_at=terms.valid_from)
    return ring.sign(claims, LICENSE_TOKEN_TYPE)[0]


def test_rotate_adds_an_owner_only_key_and_prints_no_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "license-keys"

    assert main(["keys", "rotate", "--dir", str(folder)]) == 0
    assert main(["keys", "rotate", "--dir", str(folder)]) == 0

    files = sorted(folder.glob("*.pem"))
    assert len(files) == 2
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    out = capsys.readouterr().out
    assert "PRIVATE KEY" not in out
    assert KeyRing(folder).current.kid in out
    assert "2 key(s)" in out


def test_verify_prints_codes_and_summed_entitlements(
    ring: KeyRing, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    base = sign(ring)
    pack = sign(ring, valid_until=None, mode=Mode.permanent)

    code = main(
        [
            "license",
            "verify",
            "--jwks",
            str(files["jwks"]),
            "--revocations",
            str(files["revocations"]),
            "--audience",
            "prd_1",
            base,
            pack,
        ]
    )

    out = capsys.readouterr().out
    assert code == 0, out
    assert out.count("VALID") == 2
    assert "instance ins_1 (product prd_1): devices=300" in out


def test_verify_fails_on_a_revoked_or_foreign_token(
    ring: KeyRing, files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    revoked = sign(ring, id="lic_revoked", valid_until=None, mode=Mode.permanent)
    token_file = tmp_path / "tokens.txt"
    token_file.write_text(f"{sign(ring)}\n{revoked}\n")

    code = main(
        [
            "license",
            "verify",
            "--jwks",
            str(files["jwks"]),
            "--revocations",
            str(files["revocations"]),
            f"@{token_file}",
            "not-a-token",
        ]
    )

    out = capsys.readouterr().out
    assert code == 1
    assert "REVOKED" in out
    assert "MALFORMED" in out
    assert "devices=100" in out


def test_verify_refuses_an_unusable_jwks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "jwks.json"
    bad.write_text("[]")

    assert main(["license", "verify", "--jwks", str(bad), "x.y.z"]) == 2
    assert main(["license", "verify", "--jwks", str(tmp_path / "missing.json"), "x.y.z"]) == 2
    assert "error" in capsys.readouterr().err


def test_dev_setup_creates_the_license_key_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)

    assert main(["dev-setup"]) == 0
    assert main(["dev-setup"]) == 0

    keys = list((tmp_path / "var" / "license-keys").glob("*.pem"))
    assert len(keys) == 1
    assert stat.S_IMODE((tmp_path / "var" / "license-keys").stat().st_mode) == 0o700
    assert "license: database at head" in capsys.readouterr().out
