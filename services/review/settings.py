"""Review settings: environment variables prefixed `REVIEW_`."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.private_files import is_under_var
from shared.settings import ServiceSettings, dev_service_key_file


class ReviewSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REVIEW_", extra="ignore", frozen=True)

    database_url: str = Field(
        default="sqlite+aiosqlite:///var/review.db",
        description="SQLAlchemy async URL of the review database.",
    )
    service_token_key_file: Path = Field(
        default=dev_service_key_file("review"),
        description="PEM Ed25519 private key of review's own service tokens (to catalog).",
    )
    catalog_url: str = Field(
        default="http://127.0.0.1:8001", description="Base URL of the catalog service."
    )
    outbox_poll_seconds: float = Field(default=1.0, gt=0, le=3600)
    outbox_max_delay_seconds: float = Field(default=30.0, gt=0, le=3600)

    def dev_defaults_in_use(self) -> list[str]:
        """The shared ones, and a service-token key in `var/`."""
        found = super().dev_defaults_in_use()
        if is_under_var(self.service_token_key_file):
            found.append(self.env_name("service_token_key_file"))
        return found
