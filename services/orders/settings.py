"""Orders settings: environment variables prefixed `ORDERS_`."""

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.private_files import is_under_var
from shared.settings import ServiceSettings, dev_service_key_file

# Only for development: production sets ORDERS_WEBHOOK_SECRET to the provider's secret.
DEV_WEBHOOK_SECRET = "whsec_dev_only"  # noqa: S105 (a documented dev default)


class OrdersSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERS_", extra="ignore", frozen=True)

    database_url: str = Field(
        default="sqlite+aiosqlite:///var/orders.db",
        description="SQLAlchemy async URL of the orders database.",
    )
    service_token_key_file: Path = Field(
        default=dev_service_key_file("orders"),
        description="PEM Ed25519 private key of orders' own service tokens (to catalog, license).",
    )
    catalog_url: str = Field(
        default="http://127.0.0.1:8001", description="Base URL of the catalog service."
    )
    license_url: str = Field(
        default="http://127.0.0.1:8004", description="Base URL of the license service."
    )
    outbox_poll_seconds: float = Field(default=1.0, gt=0, le=3600)
    outbox_max_delay_seconds: float = Field(default=30.0, gt=0, le=3600)
    payment_resume_seconds: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="After this long, a payment whose pay request died is charged again "
        "(same payment id, so the provider settles it once) by the outbox relay.",
    )
    pay_lease_seconds: float = Field(
        default=10.0,
        gt=0,
        le=3600,
        description="How long a pay request's claim on its Idempotency-Key keeps a retry "
        "with the same key waiting. After it, a retry takes the claim over and finishes the "
        "same payment (the provider settles a payment id once), so it need only outlast a "
        "pay that is alive; a retry waits up to this long plus 2 s for an answer.",
    )
    payment_provider: Literal["sandbox", "external"] = Field(
        default="sandbox",
        description="`sandbox` settles every payment at once; `external` leaves it pending "
        "until the provider confirms through the webhook.",
    )
    webhook_secret: SecretStr = Field(
        default=SecretStr(DEV_WEBHOOK_SECRET),
        description="Shared secret of the payment provider's webhook signatures (HMAC-SHA256).",
    )
    webhook_tolerance_seconds: int = Field(
        default=300, ge=1, le=3600, description="How old a webhook signature may be."
    )

    def dev_defaults_in_use(self) -> list[str]:
        """The shared ones, the sandbox provider, the dev webhook secret and a key in `var/`."""
        found = super().dev_defaults_in_use()
        if self.payment_provider == "sandbox":
            found.append(self.env_name("payment_provider"))
        if self.webhook_secret.get_secret_value() == DEV_WEBHOOK_SECRET:
            found.append(self.env_name("webhook_secret"))
        if is_under_var(self.service_token_key_file):
            found.append(self.env_name("service_token_key_file"))
        return found
