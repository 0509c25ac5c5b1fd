"""Review settings: environment variables prefixed `REVIEW_`."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class ReviewSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REVIEW_", extra="ignore", frozen=True)

    database_url: str = Field(
        default="sqlite+aiosqlite:///var/review.db",
        description="SQLAlchemy async URL of the review database.",
    )
    catalog_url: str = Field(
        default="http://127.0.0.1:8001", description="Base URL of the catalog service."
    )
    outbox_poll_seconds: float = Field(default=1.0, gt=0, le=3600)
    outbox_max_delay_seconds: float = Field(default=30.0, gt=0, le=3600)
