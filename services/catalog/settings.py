"""Catalog settings: environment variables prefixed `CATALOG_`."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import KeySetting, ServiceSettings, dev_service_public_key_file


class CatalogSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CATALOG_", extra="ignore", frozen=True)

    database_url: str = Field(
        default="sqlite+aiosqlite:///var/catalog.db",
        description="SQLAlchemy async URL of the catalog database.",
    )
    review_public_key_file: Path | None = Field(
        default=dev_service_public_key_file("review"),
        description="PEM Ed25519 public key of the review service's service tokens.",
    )
    review_jwks_url: str | None = Field(
        default=None,
        description="JWKS URL of the review service's service-token keys; overrides the file.",
    )

    def trusted_callers(self) -> dict[str, KeySetting]:
        """Review freezes, publishes and unlocks drafts."""
        return {"review": KeySetting("REVIEW", self.review_public_key_file, self.review_jwks_url)}
