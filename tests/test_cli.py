"""`market`, the command line: dev tokens the services accept, and migrations."""

import asyncio
import os
import stat
from pathlib import Path

import httpx
import jwt
import pytest

from services.catalog.settings import CatalogSettings
from services.cli import main
from services.license.settings import LicenseSettings
from shared.auth import (
    MAX_TTL_SECONDS,
    USER_ROLES,
    AccessTokenVerifier,
    Principal,
    Role,
    StaticKey,
    TrustedIssuer,
)
from shared.keys import load_public_key
from shared.problems import InvalidTokenError
from shared.settings import API_AUDIENCE, DEV_ISSUER, DEV_ISSUER_PUBLIC_KEY_FILE


@pytest.fixture(autouse=True)
def in_tmp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run each command from an empty folder, with no catalog settings in the environment."""
    monkeypatch.chdir(tmp_path)
    for name in ("AUTH_ISSUER", "AUTH_AUDIENCE", "DATABASE_URL", "AUTH_JWKS_URL"):
        for prefix in ("CATALOG_", "REVIEW_", "ORDERS_", "LICENSE_"):
            monkeypatch.delenv(prefix + name, raising=False)
    for name in ("LICENSE_ORDERS_JWKS_URL", "CATALOG_REVIEW_JWKS_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out.strip()


def verify(token: str, service: str | None = None) -> Principal:
    """Verify as `service` would with its default settings (the dev keys under var/keys), or
    with the dev user issuer's key alone."""
    if service is None:
        key = StaticKey(load_public_key(DEV_ISSUER_PUBLIC_KEY_FILE))
        verifier = AccessTokenVerifier([TrustedIssuer(DEV_ISSUER, API_AUDIENCE, key, USER_ROLES)])
    else:
        settings = CatalogSettings() if service == "catalog" else LicenseSettings()
        verifier = AccessTokenVerifier.from_settings(settings, service, httpx.AsyncClient())
    return asyncio.run(verifier.verify(token))


@pytest.mark.parametrize("role", sorted(USER_ROLES))
def test_token_prints_an_access_token_the_services_accept(
    capsys: pytest.CaptureFixture[str], in_tmp_dir: Path, role: Role
) -> None:
    token = run(capsys, "token", "--role", role.value, "--sub", "acme")

    assert (in_tmp_dir / DEV_ISSUER_PUBLIC_KEY_FILE).exists()
    assert verify(token) == Principal(sub="acme", role=role)
    run(capsys, "dev-setup")
    assert verify(token, "catalog") == verify(token, "license") == Principal("acme", role)


@pytest.mark.parametrize(("caller", "callee"), [("review", "catalog"), ("orders", "license")])
def test_a_service_token_is_signed_with_that_services_own_key(
    capsys: pytest.CaptureFixture[str], caller: str, callee: str
) -> None:
    run(capsys, "dev-setup")
    token = run(capsys, "token", "--role", "service", "--sub", caller, "--to", callee)

    assert verify(token, callee) == Principal(sub=caller, role=Role.service)
    other = "license" if callee == "catalog" else "catalog"
    with pytest.raises(InvalidTokenError):
        verify(token, other)


@pytest.mark.parametrize(("caller", "callee"), [("review", "catalog"), ("orders", "license")])
def test_a_caller_with_one_callee_needs_no_to(
    capsys: pytest.CaptureFixture[str], caller: str, callee: str
) -> None:
    run(capsys, "dev-setup")
    token = run(capsys, "token", "--role", "service", "--sub", caller)

    assert verify(token, callee) == Principal(sub=caller, role=Role.service)


@pytest.mark.parametrize(
    "argv",
    [
        ["--sub", "acme", "--to", "license"],
        ["--sub", "orders", "--to", "catalog"],
        ["--sub", "license"],
        ["--sub", "license", "--to", "catalog"],
    ],
)
def test_a_service_token_only_for_a_real_caller_and_callee(argv: list[str]) -> None:
    with pytest.raises(SystemExit, match="a service token is one of"):
        main(["token", "--role", "service", *argv])


def test_dev_setup_keeps_var_owner_only(
    capsys: pytest.CaptureFixture[str], in_tmp_dir: Path
) -> None:
    previous = os.umask(0o022)
    try:
        run(capsys, "dev-setup")
    finally:
        os.umask(previous)

    var = in_tmp_dir / "var"
    keys = sorted(p.name for p in (var / "keys").iterdir())
    assert keys == [
        "access-issuer.key.pem",
        "access-issuer.pub.pem",
        "orders-service.key.pem",
        "orders-service.pub.pem",
        "review-service.key.pem",
        "review-service.pub.pem",
    ]
    for path in [var, *var.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        if path.is_dir():
            assert mode == 0o700, path
        elif not path.name.endswith(".pub.pem"):
            assert mode == 0o600, path


def test_the_issuer_key_is_made_once_and_kept_private(
    capsys: pytest.CaptureFixture[str], in_tmp_dir: Path
) -> None:
    first = run(capsys, "token", "--role", "partner", "--sub", "acme")
    second = run(capsys, "token", "--role", "customer", "--sub", "carol")

    assert verify(first).sub == "acme"
    assert verify(second).sub == "carol"
    private = in_tmp_dir / "var" / "keys" / "access-issuer.key.pem"
    assert private.stat().st_mode & 0o777 == 0o600


def test_ttl_sets_the_lifetime(capsys: pytest.CaptureFixture[str]) -> None:
    token = run(capsys, "token", "--role", "partner", "--sub", "acme", "--ttl", "120")

    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 120
    assert verify(token).sub == "acme"


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
