"""The settings every service shares; each service subclasses it with its own env prefix.

The defaults are the embedded development setup: SQLite under `var/`, keys that
`market dev-setup` makes under `var/keys`, the `market-dev` issuer. None of them may reach
production unnoticed: a service whose database is PostgreSQL refuses to start while any setting
still has a development default (`dev_defaults_in_use`), unless `<SVC>_ALLOW_DEV_DEFAULTS` is
true (tests, benchmarks, and trying the system on a local PostgreSQL).
"""

from dataclasses import dataclass
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from shared.private_files import VAR_DIR, is_under_var

KEYS_DIR = VAR_DIR / "keys"
DEV_ISSUER_KEY_FILE = KEYS_DIR / "access-issuer.key.pem"
DEV_ISSUER_PUBLIC_KEY_FILE = KEYS_DIR / "access-issuer.pub.pem"
DEV_ISSUER = "market-dev"
API_AUDIENCE = "market"
# The services that call others with service tokens, so hold a signing key of their own.
CALLING_SERVICES = ("review", "orders")


def dev_service_key_file(service: str) -> Path:
    """Where `market dev-setup` puts the private key `service` signs its service tokens with."""
    return KEYS_DIR / f"{service}-service.key.pem"


def dev_service_public_key_file(service: str) -> Path:
    """Where `market dev-setup` puts the public half of `service`'s service-token key."""
    return KEYS_DIR / f"{service}-service.pub.pem"


@dataclass(frozen=True)
class KeySetting:
    """Where an issuer's public keys are: a PEM file or a JWKS URL (which wins).

    `name` is the settings' environment variable stem, for messages.
    """

    name: str
    public_key_file: Path | None
    jwks_url: str | None


class DevDefaultsError(RuntimeError):
    """A production database with development settings: the service must not start."""


class ServiceSettings(BaseSettings):
    """Settings common to every service.

    Subclasses set `env_prefix` (`CATALOG_`, `REVIEW_`, ...) and a default `database_url`, and
    name the callers whose service tokens they accept (`trusted_callers`) and their own
    development defaults (`dev_defaults_in_use`). Relative paths are resolved against the
    working directory, which `make run` sets to the repository root.
    """

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    database_url: str = Field(description="SQLAlchemy async URL of this service's own database.")
    database_pool_size: int = Field(default=10, ge=1, le=200)

    auth_issuer: str = Field(
        default=DEV_ISSUER, description="Expected `iss` of user access tokens."
    )
    auth_audience: str = Field(
        default=API_AUDIENCE, description="Expected `aud` of user access tokens."
    )
    auth_public_key_file: Path | None = Field(
        default=DEV_ISSUER_PUBLIC_KEY_FILE,
        description="PEM Ed25519 public key of the user access-token issuer.",
    )
    auth_jwks_url: str | None = Field(
        default=None,
        description="JWKS URL of the user access-token issuer; overrides the key file.",
    )
    allow_dev_defaults: bool = Field(
        default=False,
        description="Let the service start on PostgreSQL with development defaults.",
    )

    http_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    cors_origins: list[str] = Field(default_factory=list)
    log_level: str = "INFO"
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest request body accepted, in bytes."
    )

    def user_issuer_keys(self) -> KeySetting:
        """Where the user issuer's public keys are."""
        return KeySetting("AUTH", self.auth_public_key_file, self.auth_jwks_url)

    def trusted_callers(self) -> dict[str, KeySetting]:
        """The services whose service tokens this one accepts, with their public keys."""
        return {}

    def env_name(self, field: str) -> str:
        """The environment variable of a setting (`CATALOG_DATABASE_URL`)."""
        return f"{self.model_config.get('env_prefix', '')}{field}".upper()

    def dev_defaults_in_use(self) -> list[str]:
        """The environment variables whose values are development defaults.

        Subclasses add their own (the sandbox payment provider, the dev webhook secret, ...).
        """
        found = []
        if self.auth_issuer == DEV_ISSUER:
            found.append(self.env_name("auth_issuer"))
        for setting in [self.user_issuer_keys(), *self.trusted_callers().values()]:
            if not setting.jwks_url and is_under_var(setting.public_key_file):
                found.append(self.env_name(f"{setting.name}_public_key_file"))
        return found

    def check_production_ready(self) -> None:
        """Refuse (DevDefaultsError) a PostgreSQL database with development defaults.

        SQLite is the embedded development setup, so its defaults are expected there; on
        PostgreSQL, production's database, they must be replaced or explicitly allowed.
        """
        if self.allow_dev_defaults or not is_postgresql(self.database_url):
            return
        found = self.dev_defaults_in_use()
        if found:
            raise DevDefaultsError(
                f"{self.env_name('database_url')} is a PostgreSQL database, but these settings "
                f"still have development defaults: {', '.join(found)}. Set them for production, "
                f"or set {self.env_name('allow_dev_defaults')}=true to run with them anyway."
            )


def is_postgresql(url: str) -> bool:
    """Whether a database URL names PostgreSQL (any driver)."""
    try:
        return make_url(url).get_backend_name() == "postgresql"
    except ArgumentError:
        return False
