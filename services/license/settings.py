"""License settings: environment variables prefixed `LICENSE_`."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.license.verifier import DEFAULT_ISSUER
from shared.settings import VAR_DIR, ServiceSettings


class LicenseSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LICENSE_", extra="ignore", frozen=True)

    database_url: str = Field(
        default="sqlite+aiosqlite:///var/license.db",
        description="SQLAlchemy async URL of the license database.",
    )
    signing_keys_dir: Path = Field(
        default=VAR_DIR / "license-keys",
        description="Folder of PEM Ed25519 private keys that sign licenses; the newest signs. "
        "In production a mounted secret.",
    )
    issuer: str = Field(
        default=DEFAULT_ISSUER, min_length=1, description="`iss` of the tokens this service signs."
    )
    catalog_url: str = Field(
        default="http://127.0.0.1:8001", description="Base URL of the catalog service."
    )
    suggestions_ttl_seconds: float = Field(
        default=60.0, ge=0, le=3600, description="How long a product's live add-ons are cached."
    )
    revocations_ttl_seconds: int = Field(
        default=86400,
        ge=60,
        le=365 * 86400,
        description="How long a signed revocation list lasts (its `exp` after `iat`); offline "
        "verifiers call a list older than that stale.",
    )
    bundle_cache_size: int = Field(
        default=10_000, ge=0, le=1_000_000, description="Signed entitlement bundles kept in memory."
    )
