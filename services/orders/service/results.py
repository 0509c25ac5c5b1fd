"""What the orders use cases take and give back (distinct from the API's bodies and views)."""

from dataclasses import dataclass

from services.license.client import License
from services.orders.db.models import InstanceRow, OrderRow, PaymentRow
from services.orders.domain.model import Cycle, LicensePreview, OrderType, Purchase


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What a customer asks to buy (ids as sent; nothing about the price)."""

    type: OrderType
    cycle: Cycle | None
    quantity: int
    product_id: str | None = None
    plan_id: str | None = None
    instance_id: str | None = None
    addon_id: str | None = None


@dataclass(frozen=True, slots=True)
class OrderState:
    """An order and its most recent payment."""

    order: OrderRow
    payment: PaymentRow | None


@dataclass(frozen=True, slots=True)
class Quote:
    """A dry run: the price, the license to be minted, the entitlement before and after.

    The entitlements are None when the license service could not be asked.
    """

    purchase: Purchase
    license: LicensePreview
    entitlement_before: dict[str, int] | None
    entitlement_after: dict[str, int] | None


@dataclass(frozen=True, slots=True)
class InstanceState:
    """An instance with its licenses (license's own model) and current entitlement, if
    license answered."""

    instance: InstanceRow
    licenses: list[License]
    entitlement: dict[str, int] | None
    licenses_available: bool
