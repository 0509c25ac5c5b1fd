"""What may be bought, at what price, and which license it buys.

A `new` order buys a plan of a live product: one instance, `quantity` 1. An `addon` order buys
packs of a live add-on for an instance that must be the customer's own (anyone else's is "not
found"), still active, on a plan the add-on is compatible with, and below the add-on's
`max_per_instance` once this order's packs are counted. Every refusal has its own error.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta

from services.orders.domain.model import (
    Cycle,
    InstanceFacts,
    InstanceStatus,
    LicenseLevel,
    LicenseMode,
    LicensePreview,
    OrderType,
    ProductOffer,
    Purchase,
)
from services.orders.domain.pricing import term_end, unit_price
from services.orders.errors import (
    AddonIncompatibleError,
    AddonRetiredError,
    InstanceEndedError,
    InstanceNotFoundError,
    MaxPerInstanceExceededError,
    PlanRetiredError,
    QuantityNotAllowedError,
    UnknownAddonError,
    UnknownPlanError,
)


def quote_new(product: ProductOffer, plan_id: str, cycle: Cycle | None, quantity: int) -> Purchase:
    """A new instance on `plan_id`, priced from the live revision."""
    plan = product.plans.get(plan_id)
    if plan is None:
        raise UnknownPlanError(f"Product {product.product_id} has no live plan {plan_id}.")
    if plan.retired:
        raise PlanRetiredError(f"Plan {plan_id} is retired.")
    price = unit_price(plan, cycle)
    if quantity != 1:
        raise QuantityNotAllowedError("Order one instance at a time: `quantity` is 1.")
    return Purchase(
        type=OrderType.new,
        product_id=product.product_id,
        partner_id=product.partner_id,
        revision=product.revision,
        plan_id=plan_id,
        addon_id=None,
        instance_id=None,
        cycle=cycle,
        quantity=1,
        amount=price,
        entitlements=dict(plan.entitlements),
        requires_acceptance=product.requires_acceptance,
        acceptance_days=product.acceptance_days,
        max_per_instance=None,
    )


def check_instance(instance: InstanceFacts | None, customer_id: str, instance_id: str) -> None:
    """The customer's own instance, still active; anyone else's is not found."""
    if instance is None or instance.customer_id != customer_id:
        raise InstanceNotFoundError(f"You have no instance {instance_id}.")
    if instance.status is not InstanceStatus.active:
        raise InstanceEndedError(f"Instance {instance_id} has ended; nothing more can be added.")


def check_pack_limit(addon_id: str, max_per_instance: int, packs_held: int, quantity: int) -> None:
    """The instance may hold at most `max_per_instance` packs of the add-on.

    `packs_held` counts the instance's packs bought or being paid for, this order excluded.
    """
    if packs_held + quantity > max_per_instance:
        left = max(max_per_instance - packs_held, 0)
        raise MaxPerInstanceExceededError(
            f"Add-on {addon_id} allows {max_per_instance} packs per instance; this instance "
            f"holds or is buying {packs_held}, so at most {left} more.",
            max_per_instance=max_per_instance,
            packs_held=packs_held,
        )


def quote_addon(
    product: ProductOffer,
    instance: InstanceFacts | None,
    *,
    customer_id: str,
    instance_id: str,
    addon_id: str,
    cycle: Cycle | None,
    quantity: int,
    packs_held: int,
) -> Purchase:
    """`quantity` packs of `addon_id` for the customer's instance, priced from the live
    revision (the product is the instance's)."""
    check_instance(instance, customer_id, instance_id)
    assert instance is not None
    addon = product.addons.get(addon_id)
    if addon is None:
        raise UnknownAddonError(f"Product {product.product_id} has no live add-on {addon_id}.")
    if addon.retired:
        raise AddonRetiredError(f"Add-on {addon_id} is retired.")
    if not addon.compatible_with(instance.plan_id):
        raise AddonIncompatibleError(
            f"Add-on {addon_id} is not offered for plan {instance.plan_id}."
        )
    price = unit_price(addon, cycle)
    check_pack_limit(addon_id, addon.max_per_instance, packs_held, quantity)
    return Purchase(
        type=OrderType.addon,
        product_id=product.product_id,
        partner_id=product.partner_id,
        revision=product.revision,
        plan_id=None,
        addon_id=addon_id,
        instance_id=instance_id,
        cycle=cycle,
        quantity=quantity,
        amount=price.times(quantity),
        entitlements={k: v * quantity for k, v in addon.entitlements.items()},
        requires_acceptance=product.requires_acceptance,
        acceptance_days=product.acceptance_days,
        max_per_instance=addon.max_per_instance,
    )


def license_preview(
    *,
    type: OrderType,
    plan_id: str | None,
    addon_id: str | None,
    entitlements: Mapping[str, int],
    cycle: Cycle | None,
    requires_acceptance: bool,
    acceptance_days: int,
    valid_from: datetime,
) -> LicensePreview:
    """The license an order buys when it is paid at `valid_from`.

    With acceptance it starts in `acceptance` mode until `acceptance_days` have passed;
    otherwise it is a subscription until the term ends, or permanent for a one-time purchase.
    """
    valid_until = term_end(valid_from, cycle)
    if requires_acceptance:
        mode = LicenseMode.acceptance
        deadline: datetime | None = valid_from + timedelta(days=acceptance_days)
    else:
        mode = LicenseMode.subscription if valid_until is not None else LicenseMode.permanent
        deadline = None
    return LicensePreview(
        level=LicenseLevel.base if type is OrderType.new else LicenseLevel.addon,
        plan_id=plan_id if type is OrderType.new else None,
        addon_id=addon_id if type is OrderType.addon else None,
        entitlements=dict(entitlements),
        mode=mode,
        valid_from=valid_from,
        valid_until=valid_until,
        acceptance_deadline=deadline,
    )


def add_entitlements(before: Mapping[str, int], increments: Mapping[str, int]) -> dict[str, int]:
    """An entitlement with `increments` added, dimension by dimension."""
    after = dict(before)
    for dimension, amount in increments.items():
        after[dimension] = after.get(dimension, 0) + amount
    return after
