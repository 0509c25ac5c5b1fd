"""The orders service's value types: what an order, an instance and a live offer are.

`ProductOffer` is the part of a live catalog revision that buying needs; `service/offers.py`
maps the catalog client's models onto it, so the rules here never see another service's types.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class OrderType(StrEnum):
    new = "new"
    addon = "addon"


class OrderStatus(StrEnum):
    pending_payment = "pending_payment"
    paid = "paid"
    fulfilled = "fulfilled"
    completed = "completed"
    cancelled = "cancelled"
    refunded = "refunded"


class PaymentStatus(StrEnum):
    initiated = "initiated"
    settled = "settled"
    failed = "failed"


class InstanceStatus(StrEnum):
    active = "active"
    ended = "ended"


class CycleUnit(StrEnum):
    month = "month"
    year = "year"


class LicenseLevel(StrEnum):
    base = "base"
    addon = "addon"


class LicenseMode(StrEnum):
    acceptance = "acceptance"
    subscription = "subscription"
    permanent = "permanent"


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units (cents) and its ISO 4217 currency."""

    amount_minor: int
    currency: str

    def times(self, quantity: int) -> "Money":
        return Money(self.amount_minor * quantity, self.currency)


@dataclass(frozen=True, slots=True)
class Cycle:
    """A billing term: every `count` `unit`s."""

    unit: CycleUnit
    count: int


@dataclass(frozen=True, slots=True)
class PricedCycle:
    cycle: Cycle
    price: Money


@dataclass(frozen=True, slots=True)
class Offer:
    """A plan (base specification) or an add-on as a live revision sells it.

    A subscription has `cycles`; a one-time purchase has a single `price`. `entitlements` are
    the plan's quota, or the add-on's increments per pack.
    """

    id: str
    one_time: bool
    entitlements: Mapping[str, int]
    cycles: tuple[PricedCycle, ...] = ()
    price: Money | None = None
    retired: bool = False
    compatible_plans: frozenset[str] = field(default_factory=frozenset)
    max_per_instance: int = 10

    def compatible_with(self, plan_id: str) -> bool:
        """Whether an instance on `plan_id` may buy this add-on (no list: every plan)."""
        return not self.compatible_plans or plan_id in self.compatible_plans


@dataclass(frozen=True, slots=True)
class ProductOffer:
    """A product's live revision: who sells it, its acceptance terms, its plans and add-ons."""

    product_id: str
    partner_id: str
    revision: int
    requires_acceptance: bool
    acceptance_days: int
    plans: Mapping[str, Offer]
    addons: Mapping[str, Offer]


@dataclass(frozen=True, slots=True)
class InstanceFacts:
    """What the add-on rules need to know about an application instance."""

    id: str
    customer_id: str
    product_id: str
    plan_id: str
    status: InstanceStatus


@dataclass(frozen=True, slots=True)
class Purchase:
    """A priced, checked order, before it is stored (or shown by a dry run)."""

    type: OrderType
    product_id: str
    partner_id: str
    revision: int
    plan_id: str | None
    addon_id: str | None
    instance_id: str | None
    cycle: Cycle | None
    quantity: int
    amount: Money
    entitlements: dict[str, int]
    requires_acceptance: bool
    acceptance_days: int
    max_per_instance: int | None


@dataclass(frozen=True, slots=True)
class LicensePreview:
    """The license a purchase would be minted if it were paid at `valid_from`."""

    level: LicenseLevel
    plan_id: str | None
    addon_id: str | None
    entitlements: dict[str, int]
    mode: LicenseMode
    valid_from: datetime
    valid_until: datetime | None
    acceptance_deadline: datetime | None
