"""Typed factories for the catalog's domain values (no I/O): drafts, plans, add-ons, snapshots."""

from typing import Any

from services.catalog.domain import rules
from services.catalog.domain.model import (
    Addon,
    Agreement,
    AgreementKind,
    BillingMode,
    Cycle,
    CycleUnit,
    Draft,
    Money,
    Plan,
    ProductDetails,
    ProductType,
    Snapshot,
    SubscriptionMethod,
)

PRODUCT_ID = "prd_fleetota"
PARTNER_ID = "acme"


def make_money(amount: int = 4900, currency: str = "EUR") -> Money:
    return Money(amount_minor=amount, currency=currency)


def make_cycle(
    unit: str = "month", count: int = 1, amount: int = 4900, currency: str = "EUR"
) -> Cycle:
    return Cycle(unit=CycleUnit(unit), count=count, price=make_money(amount, currency))


def make_details(**overrides: Any) -> ProductDetails:
    fields: dict[str, Any] = {
        "name": "FleetOTA",
        "category": "automotive",
        "description": "Over-the-air updates for connected vehicles.",
        "billing_mode": BillingMode.online,
    }
    return ProductDetails.model_validate({**fields, **overrides})


def config_fields(**overrides: Any) -> dict[str, Any]:
    """The fields of a valid monthly subscription granting 100 devices, as plain data."""
    fields: dict[str, Any] = {
        "name": "Standard",
        "subscription_method": "subscription",
        "cycles": [
            {"unit": "month", "count": 1, "price": {"amount_minor": 4900, "currency": "EUR"}}
        ],
        "entitlements": {"devices": 100},
    }
    return {**fields, **overrides}


def make_plan(plan_id: str = "pln_standard", **overrides: Any) -> Plan:
    return Plan.model_validate({"id": plan_id, **config_fields(**overrides)})


def make_one_time_plan(
    plan_id: str = "pln_lifetime", amount: int = 99000, **overrides: Any
) -> Plan:
    return make_plan(
        plan_id,
        **{
            "name": "Lifetime",
            "subscription_method": SubscriptionMethod.one_time,
            "cycles": None,
            "price": {"amount_minor": amount, "currency": "EUR"},
            **overrides,
        },
    )


def make_addon(addon_id: str = "add_devices", **overrides: Any) -> Addon:
    fields = config_fields(
        name="+100 devices",
        cycles=[{"unit": "month", "count": 1, "price": {"amount_minor": 1900, "currency": "EUR"}}],
    )
    return Addon.model_validate({"id": addon_id, **fields, **overrides})


def custom_agreement(document_id: str = "doc_agreement") -> Agreement:
    return Agreement(kind=AgreementKind.custom, document_id=document_id)


def make_draft(
    plans: list[Plan] | None = None, addons: list[Addon] | None = None, **details: Any
) -> Draft:
    return Draft(
        details=make_details(**details),
        plans=[make_plan()] if plans is None else plans,
        addons=[make_addon()] if addons is None else addons,
    )


def make_snapshot(
    plans: list[Plan] | None = None,
    addons: list[Addon] | None = None,
    product_type: ProductType = ProductType.marketplace,
    **details: Any,
) -> Snapshot:
    """A frozen draft, agreements resolved as `rules.freeze` resolves them."""
    return rules.freeze(
        make_draft(plans, addons, **details),
        product_id=PRODUCT_ID,
        partner_id=PARTNER_ID,
        product_type=product_type,
    )
