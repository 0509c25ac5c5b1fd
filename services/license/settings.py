"""License settings: environment variables prefixed `LICENSE_`."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.license.verifier import DEFAULT_ISSUER
from shared.private_files import VAR_DIR, is_under_var
from shared.settings import KeySetting, ServiceSettings, dev_service_public_key_file


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
    orders_public_key_file: Path | None = Field(
        default=dev_service_public_key_file("orders"),
        description="PEM Ed25519 public key of the orders service's service tokens.",
    )
    orders_jwks_url: str | None = Field(
        default=None,
        description="JWKS URL of the orders service's service-token keys; overrides the file.",
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

    def trusted_callers(self) -> dict[str, KeySetting]:
        """Orders mints, accepts and revokes licenses and reads an instance's licenses."""
        return {"orders": KeySetting("ORDERS", self.orders_public_key_file, self.orders_jwks_url)}

    def dev_defaults_in_use(self) -> list[str]:
        """The shared ones, and license signing keys under `var/`."""
        found = super().dev_defaults_in_use()
        if is_under_var(self.signing_keys_dir):
            found.append(self.env_name("signing_keys_dir"))
        return found
