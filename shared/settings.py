"""The settings every service shares; each service subclasses it with its own env prefix."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.private_files import VAR_DIR

DEV_ISSUER_KEY_FILE = VAR_DIR / "keys" / "access-issuer.key.pem"
DEV_ISSUER_PUBLIC_KEY_FILE = VAR_DIR / "keys" / "access-issuer.pub.pem"
DEV_ISSUER = "market-dev"
API_AUDIENCE = "market"


class ServiceSettings(BaseSettings):
    """Settings common to every service.

    Subclasses set `env_prefix` (`CATALOG_`, `REVIEW_`, ...) and a default `database_url`.
    Relative paths are resolved against the working directory, which `make run` sets to the
    repository root.
    """

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    database_url: str = Field(description="SQLAlchemy async URL of this service's own database.")
    database_pool_size: int = Field(default=10, ge=1, le=200)

    auth_issuer: str = Field(default=DEV_ISSUER, description="Expected `iss` of access tokens.")
    auth_audience: str = Field(default=API_AUDIENCE, description="Expected `aud` of access tokens.")
    auth_public_key_file: Path | None = Field(
        default=DEV_ISSUER_PUBLIC_KEY_FILE,
        description="PEM Ed25519 public key of the access-token issuer.",
    )
    auth_jwks_url: str | None = Field(
        default=None, description="JWKS URL of the access-token issuer; overrides the key file."
    )
    service_token_key_file: Path | None = Field(
        default=DEV_ISSUER_KEY_FILE,
        description="PEM Ed25519 private key used to sign this service's own service tokens.",
    )

    http_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    cors_origins: list[str] = Field(default_factory=list)
    log_level: str = "INFO"
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest request body accepted, in bytes."
    )
