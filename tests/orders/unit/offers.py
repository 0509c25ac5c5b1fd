"""Typed factories for the orders domain: live offers and instances, without I/O."""

from typing import Any

from services.orders.domain.model import (
    Cycle,
    CycleUnit,
    InstanceFacts,
    InstanceStatus,
    Money,
    Offer,
    PricedCycle,
    ProductOffer,
)

CUSTOMER = "globex"
MONTH = Cycle(CycleUnit.month, 1)
YEAR = Cycle(CycleUnit.year, 1)


def eur(amount: int) -> Money:
    return Money(amount, "EUR")


def plan(**overrides: Any) -> Offer:
    values: dict[str, Any] = {
        "id": "pln_standard",
        "one_time": False,
        "entitlements": {"devices": 100},
        "cycles": (PricedCycle(MONTH, eur(4900)), PricedCycle(YEAR, eur(49000))),
    }
    return Offer(**{**values, **overrides})


def addon(**overrides: Any) -> Offer:
    values: dict[str, Any] = {
        "id": "add_devices",
        "one_time": False,
        "entitlements": {"devices": 100, "hours": 10},
        "cycles": (PricedCycle(MONTH, eur(1900)),),
        "max_per_instance": 10,
    }
    return Offer(**{**values, **overrides})


def product(*, plans: list[Offer] | None = None, addons: list[Offer] | None = None) -> ProductOffer:
    return ProductOffer(
        product_id="prd_fleetota",
        partner_id="acme",
        revision=3,
        requires_acceptance=True,
        acceptance_days=14,
        plans={p.id: p for p in (plans if plans is not None else [plan()])},
        addons={a.id: a for a in (addons if addons is not None else [addon()])},
    )


def instance(**overrides: Any) -> InstanceFacts:
    values: dict[str, Any] = {
        "id": "ins_1",
        "customer_id": CUSTOMER,
        "product_id": "prd_fleetota",
        "plan_id": "pln_standard",
        "status": InstanceStatus.active,
    }
    return InstanceFacts(**{**values, **overrides})
