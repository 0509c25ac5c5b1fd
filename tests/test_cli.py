"""`market`, the command line: dev tokens the services accept, and migrations."""

from pathlib import Path

import jwt
import pytest

from services.cli import main
from shared.auth import MAX_TTL_SECONDS, AccessTokenVerifier, Principal, Role
from shared.keys import load_public_key
from shared.settings import API_AUDIENCE, DEV_ISSUER, DEV_ISSUER_PUBLIC_KEY_FILE


@pytest.fixture(autouse=True)
def in_tmp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run each command from an empty folder, with no catalog settings in the environment."""
    monkeypatch.chdir(tmp_path)
    for name in ("CATALOG_AUTH_ISSUER", "CATALOG_AUTH_AUDIENCE", "CATALOG_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out.strip()


def verifier() -> AccessTokenVerifier:
    return AccessTokenVerifier(
        issuer=DEV_ISSUER,
        audience=API_AUDIENCE,
        public_key=load_public_key(DEV_ISSUER_PUBLIC_KEY_FILE),
    )


@pytest.mark.parametrize("role", list(Role))
def test_token_prints_an_access_token_the_services_accept(
    capsys: pytest.CaptureFixture[str], in_tmp_dir: Path, role: Role
) -> None:
    token = run(capsys, "token", "--role", role.value, "--sub", "acme")

    assert (in_tmp_dir / DEV_ISSUER_PUBLIC_KEY_FILE).exists()
    assert verifier().verify(token) == Principal(sub="acme", role=role)


def test_the_issuer_key_is_made_once_and_kept_private(
    capsys: pytest.CaptureFixture[str], in_tmp_dir: Path
) -> None:
    first = run(capsys, "token", "--role", "partner", "--sub", "acme")
    second = run(capsys, "token", "--role", "customer", "--sub", "carol")

    assert verifier().verify(first).sub == "acme"
    assert verifier().verify(second).sub == "carol"
    private = in_tmp_dir / "var" / "keys" / "access-issuer.key.pem"
    assert private.stat().st_mode & 0o777 == 0o600


def test_ttl_sets_the_lifetime(capsys: pytest.CaptureFixture[str]) -> None:
    token = run(capsys, "token", "--role", "partner", "--sub", "acme", "--ttl", "120")

    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 120
    assert verifier().verify(token).sub == "acme"


@pytest.mark.parametrize("ttl", ["0", "-5", str(MAX_TTL_SECONDS + 1), "soon"])
def test_ttl_out_of_range_is_refused(capsys: pytest.CaptureFixture[str], ttl: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["token", "--role", "partner", "--sub", "acme", "--ttl", ttl])

    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert "--ttl" in captured.err
    assert captured.out == ""


def test_an_unknown_role_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["token", "--role", "admin", "--sub", "acme"])

    assert exited.value.code == 2
    assert "--role" in capsys.readouterr().err


def test_db_upgrade_migrates_the_configured_database(
    capsys: pytest.CaptureFixture[str], in_tmp_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = in_tmp_dir / "catalog.db"
    monkeypatch.setenv("CATALOG_DATABASE_URL", f"sqlite+aiosqlite:///{database}")

    output = run(capsys, "db", "upgrade", "catalog")

    assert output == "catalog: database at head"
    assert database.stat().st_size > 0
