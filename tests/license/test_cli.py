"""`market keys rotate`, `market license verify` on saved files, and `market dev-setup`."""

import json
import stat
from datetime import UTC, datetime, timedelta
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


def write_list(ring: KeyRing, path: Path, *, seq: int = 1, age: timedelta = timedelta(0)) -> Path:
    """Save a signed revocation list of `lic_revoked`, issued `age` ago, that lasts a day."""
    issued = datetime.now(UTC).replace(microsecond=0) - age
    claims = revocation_list_claims(
        issuer=ISSUER,
        revoked=["lic_revoked"],
        seq=seq,
        issued_at=issued,
        expires_at=issued + timedelta(days=1),
    )
    token = ring.sign(claims, REVOCATION_LIST_TOKEN_TYPE)[0]
    path.write_text(json.dumps({"token": token, "revoked": ["lic_revoked"], "seq": seq}))
    return path


@pytest.fixture
def files(ring: KeyRing, tmp_path: Path) -> dict[str, Path]:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [ring.jwk(kid) for kid in ring.kids]}))
    return {"jwks": jwks, "revocations": write_list(ring, tmp_path / "revocations.json")}


def verify(files: dict[str, Path], *arguments: str) -> int:
    return main(["license", "verify", "--jwks", str(files["jwks"]), *arguments])


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


def test_state_keeps_the_highest_seq_and_refuses_an_older_list(
    ring: KeyRing, files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state" / "verifier.json"
    state.parent.mkdir()
    old = write_list(ring, tmp_path / "old.json", seq=1)
    new = write_list(ring, tmp_path / "new.json", seq=4)
    revoked = sign(ring, id="lic_revoked", valid_until=None, mode=Mode.permanent)

    assert verify(files, "--revocations", str(new), "--state", str(state), revoked) == 1
    assert json.loads(state.read_text()) == {"seq": 4}
    assert "revocation list seq 4, expires" in capsys.readouterr().out

    # Replaying the older list: refused, whatever the token, and the state stays.
    assert verify(files, "--revocations", str(old), "--state", str(state), revoked) == 2
    err = capsys.readouterr().err
    assert "refused revocation list" in err
    assert "seq 1" in err
    assert json.loads(state.read_text()) == {"seq": 4}
    assert verify(files, "--revocations", str(new), "--state", str(state), sign(ring)) == 0
    assert [p.name for p in state.parent.iterdir()] == ["verifier.json"]


def test_state_needs_a_revocation_list_and_a_state_file_of_its_own_shape(
    files: dict[str, Path], tmp_path: Path, ring: KeyRing, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state.json"

    assert verify(files, "--state", str(state), sign(ring)) == 2
    assert "give --revocations" in capsys.readouterr().err
    state.write_text("not json")
    revocations = str(files["revocations"])
    assert verify(files, "--revocations", revocations, "--state", str(state), sign(ring)) == 2
    assert "state file" in capsys.readouterr().err
    assert state.read_text() == "not json"


def test_a_stale_list_exits_3_and_says_to_fetch_a_fresh_one(
    ring: KeyRing, files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = write_list(ring, tmp_path / "stale.json", age=timedelta(days=2))
    good = sign(ring)

    assert verify(files, "--revocations", str(stale), good) == 3
    captured = capsys.readouterr()
    assert "STALE" in captured.out
    assert ": stale" in captured.out
    assert "GET /v1/revocations" in captured.err
    # A token the stale list still condemns is not valid, whatever the list's age.
    revoked = sign(ring, id="lic_revoked", valid_until=None, mode=Mode.permanent)
    assert verify(files, "--revocations", str(stale), good, revoked) == 1
    # The operator may trust a list longer.
    grace = str(2 * 86400)
    assert verify(files, "--revocations", str(stale), "--stale-grace", grace, good) == 0


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
