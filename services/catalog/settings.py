"""Catalog settings: environment variables prefixed `CATALOG_`."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class CatalogSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CATALOG_", extra="ignore", frozen=True)

    database_url: str = Field(
        default="sqlite+aiosqlite:///var/catalog.db",
        description="SQLAlchemy async URL of the catalog database.",
    )
