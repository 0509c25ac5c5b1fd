"""What may be bought: new instances, add-on packs and every reason to refuse them."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.orders.domain.model import (
    InstanceStatus,
    LicenseLevel,
    LicenseMode,
    OrderType,
    Purchase,
)
from services.orders.domain.purchase import (
    add_entitlements,
    check_pack_limit,
    license_preview,
    quote_addon,
    quote_new,
)
from services.orders.errors import (
    AddonIncompatibleError,
    AddonRetiredError,
    CycleRequiredError,
    InstanceEndedError,
    InstanceNotFoundError,
    MaxPerInstanceExceededError,
    PlanRetiredError,
    QuantityNotAllowedError,
    UnknownAddonError,
    UnknownPlanError,
)
from tests.orders.unit.offers import CUSTOMER, MONTH, YEAR, addon, eur, instance, plan, product

T0 = datetime(2026, 1, 31, 8, 0, tzinfo=UTC)


def buy_addon(**overrides: Any) -> Purchase:
    values: dict[str, Any] = {
        "customer_id": CUSTOMER,
        "instance_id": "ins_1",
        "addon_id": "add_devices",
        "cycle": MONTH,
        "quantity": 1,
        "packs_held": 0,
    }
    values.update(overrides)
    offer = values.pop("product", product())
    facts = values.pop("instance", instance())
    return quote_addon(offer, facts, **values)


def test_a_new_instance_costs_the_plan_cycle_and_grants_its_quota() -> None:
    purchase = quote_new(product(), "pln_standard", YEAR, 1)

    assert purchase.type is OrderType.new
    assert purchase.amount == eur(49000)
    assert purchase.entitlements == {"devices": 100}
    assert purchase.cycle == YEAR
    assert purchase.product_id == "prd_fleetota"
    assert (purchase.partner_id, purchase.revision) == ("acme", 3)
    assert purchase.requires_acceptance is True
    assert purchase.acceptance_days == 14


def test_a_new_instance_refusals() -> None:
    with pytest.raises(UnknownPlanError):
        quote_new(product(), "pln_other", MONTH, 1)
    with pytest.raises(PlanRetiredError):
        quote_new(product(plans=[plan(retired=True)]), "pln_standard", MONTH, 1)
    with pytest.raises(CycleRequiredError):
        quote_new(product(), "pln_standard", None, 1)
    with pytest.raises(QuantityNotAllowedError):
        quote_new(product(), "pln_standard", MONTH, 2)


def test_addon_packs_multiply_price_and_increments() -> None:
    purchase = buy_addon(quantity=3)

    assert purchase.type is OrderType.addon
    assert purchase.amount == eur(5700)
    assert purchase.entitlements == {"devices": 300, "hours": 30}
    assert purchase.instance_id == "ins_1"
    assert purchase.max_per_instance == 10


def test_another_customers_instance_is_not_found() -> None:
    with pytest.raises(InstanceNotFoundError):
        buy_addon(instance=instance(customer_id="initech"))
    with pytest.raises(InstanceNotFoundError):
        buy_addon(instance=None)


def test_an_ended_instance_takes_no_addon() -> None:
    with pytest.raises(InstanceEndedError):
        buy_addon(instance=instance(status=InstanceStatus.ended))


def test_an_addon_not_in_the_live_revision_is_unknown() -> None:
    with pytest.raises(UnknownAddonError):
        buy_addon(addon_id="add_other")


def test_a_retired_addon_is_not_sold() -> None:
    with pytest.raises(AddonRetiredError):
        buy_addon(product=product(addons=[addon(retired=True)]))


def test_an_addon_must_be_compatible_with_the_instance_plan() -> None:
    restricted = product(addons=[addon(compatible_plans=frozenset({"pln_premium"}))])
    with pytest.raises(AddonIncompatibleError):
        buy_addon(product=restricted)
    allowed = product(addons=[addon(compatible_plans=frozenset({"pln_standard"}))])
    assert buy_addon(product=allowed).addon_id == "add_devices"


def test_packs_held_plus_this_order_may_reach_but_not_pass_the_maximum() -> None:
    assert buy_addon(quantity=3, packs_held=7).quantity == 3
    with pytest.raises(MaxPerInstanceExceededError) as refused:
        buy_addon(quantity=4, packs_held=7)
    assert refused.value.extra == {"max_per_instance": 10, "packs_held": 7}
    with pytest.raises(MaxPerInstanceExceededError):
        buy_addon(quantity=11)


def test_pack_limit_alone() -> None:
    check_pack_limit("add_x", 2, 1, 1)
    with pytest.raises(MaxPerInstanceExceededError):
        check_pack_limit("add_x", 2, 2, 1)


def test_refusals_come_in_a_fixed_order() -> None:
    # An ended instance is reported before anything about the add-on.
    with pytest.raises(InstanceEndedError):
        buy_addon(instance=instance(status=InstanceStatus.ended), addon_id="add_other")
    # A retired add-on before a pack limit.
    with pytest.raises(AddonRetiredError):
        buy_addon(product=product(addons=[addon(retired=True)]), quantity=50)


def test_license_preview_with_acceptance() -> None:
    preview = license_preview(
        type=OrderType.addon,
        plan_id=None,
        addon_id="add_devices",
        entitlements={"devices": 200},
        cycle=MONTH,
        requires_acceptance=True,
        acceptance_days=14,
        valid_from=T0,
    )

    assert preview.level is LicenseLevel.addon
    assert preview.addon_id == "add_devices"
    assert preview.mode is LicenseMode.acceptance
    assert preview.valid_until == datetime(2026, 2, 28, 8, 0, tzinfo=UTC)
    assert preview.acceptance_deadline == T0 + timedelta(days=14)


@pytest.mark.parametrize(
    ("cycle", "mode"), [(MONTH, LicenseMode.subscription), (None, LicenseMode.permanent)]
)
def test_license_preview_without_acceptance_is_in_its_paid_mode(cycle, mode) -> None:
    preview = license_preview(
        type=OrderType.new,
        plan_id="pln_standard",
        addon_id=None,
        entitlements={"devices": 100},
        cycle=cycle,
        requires_acceptance=False,
        acceptance_days=7,
        valid_from=T0,
    )

    assert preview.level is LicenseLevel.base
    assert preview.plan_id == "pln_standard"
    assert preview.mode is mode
    assert preview.acceptance_deadline is None


def test_entitlements_add_up_by_dimension() -> None:
    assert add_entitlements({"devices": 100}, {"devices": 200, "hours": 5}) == {
        "devices": 300,
        "hours": 5,
    }
    assert add_entitlements({}, {"devices": 100}) == {"devices": 100}
