"""Editing a draft and the submission checks, as pure functions."""

import pytest

from services.catalog.domain import rules
from services.catalog.domain.model import (
    MAX_PLANS,
    Agreement,
    AgreementKind,
    BillingMode,
    ProductType,
    Snapshot,
    SubscriptionMethod,
)
from services.catalog.errors import (
    AddonNotFoundError,
    InvalidConfigurationError,
    LiveAddonNotDeletableError,
    LivePlanNotDeletableError,
    PlanInUseError,
    PlanNotFoundError,
    UnknownPlanError,
)
from tests.catalog.unit.factories import (
    PARTNER_ID,
    PRODUCT_ID,
    custom_agreement,
    make_addon,
    make_draft,
    make_one_time_plan,
    make_plan,
    make_snapshot,
)

MONTHLY_EUR = [{"unit": "month", "count": 1, "price": {"amount_minor": 4900, "currency": "EUR"}}]


def problem_types(
    snapshot: Snapshot, live: Snapshot | None = None, owned: bool = True
) -> list[str]:
    return [p.type for p in rules.submission_problems(snapshot, live, lambda _id: owned)]


# -- editing -------------------------------------------------------------------------------


def test_patch_details_changes_only_the_given_fields() -> None:
    draft = make_draft()

    patched = rules.patch_details(draft, {"name": "FleetOTA Pro", "acceptance_days": 30})

    assert patched.details.name == "FleetOTA Pro"
    assert patched.details.acceptance_days == 30
    assert patched.details.category == draft.details.category
    assert patched.plans == draft.plans
    assert draft.details.name == "FleetOTA"


def test_patch_details_reports_invalid_values_with_their_location() -> None:
    with pytest.raises(InvalidConfigurationError) as caught:
        rules.patch_details(make_draft(), {"name": "n" * 51, "acceptance_days": 0})

    assert caught.value.errors is not None
    assert sorted(e.loc[0] for e in caught.value.errors) == ["acceptance_days", "name"]


def test_add_plan_appends_it() -> None:
    draft = make_draft(plans=[make_plan()])

    updated = rules.add_plan(draft, make_plan("pln_pro", name="Pro"))

    assert [p.id for p in updated.plans] == ["pln_standard", "pln_pro"]


def test_add_plan_beyond_the_maximum_is_refused() -> None:
    draft = make_draft(plans=[make_plan(f"pln_{i}", name=f"P{i}") for i in range(MAX_PLANS)])

    with pytest.raises(InvalidConfigurationError):
        rules.add_plan(draft, make_plan("pln_extra", name="Extra"))


def test_update_plan_merges_the_changes_into_the_plan() -> None:
    draft = make_draft()

    updated, plan = rules.update_plan(draft, "pln_standard", {"retired": True})

    assert plan.retired is True
    assert plan.cycles == draft.plans[0].cycles
    assert updated.plan("pln_standard") == plan


def test_update_plan_can_switch_the_method_when_the_pricing_follows() -> None:
    changes = {
        "subscription_method": "one_time",
        "cycles": None,
        "price": {"amount_minor": 100, "currency": "EUR"},
    }

    _, plan = rules.update_plan(make_draft(), "pln_standard", changes)

    assert plan.subscription_method is SubscriptionMethod.one_time


def test_update_plan_refuses_a_change_that_leaves_it_invalid() -> None:
    with pytest.raises(InvalidConfigurationError):
        rules.update_plan(make_draft(), "pln_standard", {"subscription_method": "one_time"})


def test_update_plan_of_an_unknown_plan_is_refused() -> None:
    with pytest.raises(PlanNotFoundError):
        rules.update_plan(make_draft(), "pln_nope", {"retired": True})


def test_delete_plan_removes_it() -> None:
    draft = make_draft(plans=[make_plan(), make_plan("pln_pro", name="Pro")], addons=[])

    assert [p.id for p in rules.delete_plan(draft, "pln_pro", None).plans] == ["pln_standard"]


def test_delete_plan_of_an_unknown_plan_is_refused() -> None:
    with pytest.raises(PlanNotFoundError):
        rules.delete_plan(make_draft(), "pln_nope", None)


def test_delete_plan_refuses_a_live_plan() -> None:
    draft = make_draft()

    with pytest.raises(LivePlanNotDeletableError):
        rules.delete_plan(draft, "pln_standard", make_snapshot())


def test_delete_plan_allows_a_plan_that_is_not_live_yet() -> None:
    draft = make_draft(plans=[make_plan(), make_plan("pln_new", name="New")])

    updated = rules.delete_plan(draft, "pln_new", make_snapshot())

    assert [p.id for p in updated.plans] == ["pln_standard"]


def test_delete_plan_refuses_a_plan_an_add_on_names() -> None:
    draft = make_draft(
        plans=[make_plan(), make_plan("pln_pro", name="Pro")],
        addons=[make_addon(compatible_plans=["pln_pro"])],
    )

    with pytest.raises(PlanInUseError, match="add_devices"):
        rules.delete_plan(draft, "pln_pro", None)


def test_add_addon_appends_it() -> None:
    draft = make_draft(addons=[])

    updated = rules.add_addon(draft, make_addon(compatible_plans=["pln_standard"]))

    assert [a.id for a in updated.addons] == ["add_devices"]


def test_add_addon_refuses_an_unknown_compatible_plan_and_says_which() -> None:
    addon = make_addon(compatible_plans=["pln_standard", "pln_ghost"])

    with pytest.raises(UnknownPlanError) as caught:
        rules.add_addon(make_draft(addons=[]), addon)

    assert caught.value.errors is not None
    assert [e.loc for e in caught.value.errors] == [["compatible_plans", 1]]


def test_update_addon_merges_the_changes() -> None:
    updated, addon = rules.update_addon(make_draft(), "add_devices", {"max_per_instance": 3})

    assert addon.max_per_instance == 3
    assert updated.addon("add_devices") == addon


def test_update_addon_refuses_an_unknown_compatible_plan() -> None:
    with pytest.raises(UnknownPlanError):
        rules.update_addon(make_draft(), "add_devices", {"compatible_plans": ["pln_ghost"]})


def test_update_addon_of_an_unknown_addon_is_refused() -> None:
    with pytest.raises(AddonNotFoundError):
        rules.update_addon(make_draft(), "add_nope", {"retired": True})


def test_update_addon_refuses_an_invalid_result() -> None:
    with pytest.raises(InvalidConfigurationError):
        rules.update_addon(
            make_draft(), "add_devices", {"price": {"amount_minor": 1, "currency": "EUR"}}
        )


def test_delete_addon_removes_it() -> None:
    assert rules.delete_addon(make_draft(), "add_devices", None).addons == []


def test_delete_addon_of_an_unknown_addon_is_refused() -> None:
    with pytest.raises(AddonNotFoundError):
        rules.delete_addon(make_draft(), "add_nope", None)


def test_delete_addon_refuses_a_live_addon() -> None:
    with pytest.raises(LiveAddonNotDeletableError):
        rules.delete_addon(make_draft(), "add_devices", make_snapshot())


# -- agreements ----------------------------------------------------------------------------


def test_a_marketplace_product_billed_online_gets_the_platform_standard_agreement() -> None:
    addon = rules.resolve_agreement(make_addon(), ProductType.marketplace, BillingMode.online)

    assert addon.agreement == Agreement(kind=AgreementKind.platform_standard)


@pytest.mark.parametrize(
    ("product_type", "billing"),
    [
        (ProductType.saas, BillingMode.online),
        (ProductType.service, BillingMode.online),
        (ProductType.marketplace, BillingMode.offline),
        (ProductType.marketplace, BillingMode.free),
    ],
)
def test_other_products_get_no_default_agreement(
    product_type: ProductType, billing: BillingMode
) -> None:
    assert rules.agreement_required(product_type, billing)
    assert rules.resolve_agreement(make_addon(), product_type, billing).agreement is None


def test_an_uploaded_agreement_is_kept() -> None:
    addon = make_addon(agreement=custom_agreement())

    resolved = rules.resolve_agreement(addon, ProductType.marketplace, BillingMode.online)

    assert resolved.agreement == custom_agreement()


def test_freeze_makes_a_self_contained_snapshot() -> None:
    snapshot = rules.freeze(
        make_draft(), product_id=PRODUCT_ID, partner_id=PARTNER_ID, product_type=ProductType.saas
    )

    assert snapshot.product_id == PRODUCT_ID
    assert snapshot.partner_id == PARTNER_ID
    assert snapshot.product_type is ProductType.saas
    assert snapshot.addons[0].agreement is None


# -- submission checks ---------------------------------------------------------------------


def test_a_complete_listing_has_no_problems() -> None:
    assert problem_types(make_snapshot()) == []


def test_a_listing_without_plans_is_refused() -> None:
    assert problem_types(make_snapshot(plans=[], addons=[])) == ["no_plan"]


def test_a_listing_whose_plans_are_all_retired_is_refused() -> None:
    assert problem_types(make_snapshot(plans=[make_plan(retired=True)])) == ["no_plan"]


def test_plan_names_must_be_unique_ignoring_case() -> None:
    plans = [make_plan(), make_plan("pln_other", name="STANDARD")]

    problems = rules.submission_problems(make_snapshot(plans=plans), None, lambda _id: True)

    assert [(p.type, p.loc) for p in problems] == [
        ("duplicate_name", ["plans", "pln_other", "name"])
    ]


def test_add_on_names_must_be_unique() -> None:
    addons = [make_addon(), make_addon("add_more", name="+100 Devices")]

    assert problem_types(make_snapshot(addons=addons)) == ["duplicate_name"]


def test_a_plan_and_an_add_on_may_share_a_name() -> None:
    assert problem_types(make_snapshot(addons=[make_addon(name="Standard")])) == []


def test_one_currency_per_product() -> None:
    addon = make_addon(
        cycles=[{"unit": "month", "count": 1, "price": {"amount_minor": 1900, "currency": "USD"}}]
    )

    assert problem_types(make_snapshot(addons=[addon])) == ["mixed_currencies"]


def test_a_free_product_has_no_prices_above_zero() -> None:
    free_plan = make_one_time_plan(amount=0)
    priced_addon = make_addon()

    problems = rules.submission_problems(
        make_snapshot(plans=[free_plan], addons=[priced_addon], billing_mode=BillingMode.free),
        None,
        lambda _id: True,
    )

    assert [(p.type, p.loc) for p in problems if p.type == "priced_free"] == [
        ("priced_free", ["addons", "add_devices"])
    ]


def test_a_free_product_priced_at_zero_passes_the_price_rule() -> None:
    snapshot = make_snapshot(
        plans=[make_one_time_plan(amount=0)],
        addons=[
            make_addon(
                agreement=custom_agreement(),
                cycles=None,
                subscription_method="one_time",
                price={"amount_minor": 0, "currency": "EUR"},
            )
        ],
        billing_mode=BillingMode.free,
    )

    assert problem_types(snapshot) == []


@pytest.mark.parametrize("entitlements", [{}, {"devices": 0}])
def test_an_add_on_must_raise_a_dimension(entitlements: dict[str, int]) -> None:
    assert problem_types(make_snapshot(addons=[make_addon(entitlements=entitlements)])) == [
        "no_increment"
    ]


def test_an_add_on_naming_a_plan_that_is_gone_is_refused() -> None:
    addon = make_addon(compatible_plans=["pln_ghost"])

    assert "unknown_plan" in problem_types(make_snapshot(addons=[addon]))


def test_an_add_on_must_raise_a_dimension_its_compatible_plans_have() -> None:
    plans = [make_plan(), make_plan("pln_hours", name="Hours", entitlements={"hours": 10})]
    addon = make_addon(entitlements={"hours": 100}, compatible_plans=["pln_standard"])

    problems = rules.submission_problems(
        make_snapshot(plans=plans, addons=[addon]), None, lambda _id: True
    )

    assert [(p.type, p.loc) for p in problems] == [
        ("unknown_dimension", ["addons", "add_devices", "entitlements", "hours"])
    ]


def test_an_add_on_for_every_plan_may_raise_any_plans_dimension() -> None:
    plans = [make_plan(), make_plan("pln_hours", name="Hours", entitlements={"hours": 10})]
    addon = make_addon(entitlements={"hours": 100})

    assert problem_types(make_snapshot(plans=plans, addons=[addon])) == []


def test_a_product_that_needs_an_agreement_refuses_an_add_on_without_one() -> None:
    assert problem_types(make_snapshot(product_type=ProductType.saas)) == ["agreement_missing"]


def test_an_offline_marketplace_product_needs_an_agreement_too() -> None:
    snapshot = make_snapshot(billing_mode=BillingMode.offline)

    assert problem_types(snapshot) == ["agreement_missing"]


def test_only_marketplace_online_may_use_the_platform_standard_agreement() -> None:
    addon = make_addon(agreement=Agreement(kind=AgreementKind.platform_standard))

    assert problem_types(make_snapshot(addons=[addon], product_type=ProductType.service)) == [
        "agreement_not_allowed"
    ]


@pytest.mark.parametrize("kind", [AgreementKind.custom, AgreementKind.platform_template])
def test_an_owned_uploaded_agreement_satisfies_a_saas_product(kind: AgreementKind) -> None:
    addon = make_addon(agreement=Agreement(kind=kind, document_id="doc_mine"))
    seen: list[str] = []

    def owned(document_id: str) -> bool:
        seen.append(document_id)
        return True

    snapshot = make_snapshot(addons=[addon], product_type=ProductType.saas)

    assert rules.submission_problems(snapshot, None, owned) == []
    assert seen == ["doc_mine"]


def test_an_agreement_document_that_is_not_the_partners_is_refused() -> None:
    addon = make_addon(agreement=custom_agreement("doc_theirs"))
    snapshot = make_snapshot(addons=[addon], product_type=ProductType.saas)

    problems = rules.submission_problems(snapshot, None, lambda _id: False)

    assert [(p.type, p.loc) for p in problems] == [
        ("unknown_document", ["addons", "add_devices", "agreement", "document_id"])
    ]


def test_every_problem_is_reported_at_once() -> None:
    plans = [
        make_plan(),
        make_plan(
            "pln_copy",
            name="standard",
            cycles=[
                {"unit": "month", "count": 1, "price": {"amount_minor": 100, "currency": "USD"}}
            ],
        ),
    ]
    addons = [
        make_addon(entitlements={"seats": 5}),
        make_addon("add_empty", name="Nothing", entitlements={}, compatible_plans=["pln_ghost"]),
    ]

    types = problem_types(make_snapshot(plans=plans, addons=addons, product_type=ProductType.saas))

    assert sorted(types) == sorted(
        [
            "duplicate_name",
            "mixed_currencies",
            "unknown_dimension",
            "agreement_missing",
            "no_increment",
            "unknown_plan",
            "agreement_missing",
        ]
    )


# -- rules for listed products -------------------------------------------------------------


def test_an_unchanged_listed_product_passes() -> None:
    live = make_snapshot()

    assert problem_types(make_snapshot(), live) == []


def test_a_retired_live_plan_passes() -> None:
    live = make_snapshot(plans=[make_plan(), make_plan("pln_old", name="Old")])
    new = make_snapshot(plans=[make_plan(), make_plan("pln_old", name="Old", retired=True)])

    assert problem_types(new, live) == []


def test_a_deleted_live_plan_is_refused() -> None:
    live = make_snapshot(plans=[make_plan(), make_plan("pln_old", name="Old")])

    problems = rules.submission_problems(make_snapshot(), live, lambda _id: True)

    assert [(p.type, p.loc) for p in problems] == [("live_plan_deleted", ["plans", "pln_old"])]


def test_a_deleted_live_addon_is_refused() -> None:
    problems = rules.submission_problems(make_snapshot(addons=[]), make_snapshot(), lambda _: True)

    assert [(p.type, p.loc) for p in problems] == [
        ("live_addon_deleted", ["addons", "add_devices"])
    ]


def test_a_live_plans_subscription_method_can_not_be_removed() -> None:
    new = make_snapshot(
        plans=[
            make_plan(
                subscription_method="one_time",
                cycles=None,
                price={"amount_minor": 100, "currency": "EUR"},
            )
        ]
    )

    problems = rules.submission_problems(new, make_snapshot(), lambda _id: True)

    assert [(p.type, p.loc) for p in problems] == [
        ("live_method_removed", ["plans", "pln_standard", "subscription_method"])
    ]


def test_a_live_addons_subscription_method_can_not_be_removed() -> None:
    one_time = make_addon(
        subscription_method="one_time", cycles=None, price={"amount_minor": 100, "currency": "EUR"}
    )

    problems = rules.submission_problems(
        make_snapshot(addons=[one_time]), make_snapshot(), lambda _id: True
    )

    assert [(p.type, p.loc) for p in problems] == [
        ("live_method_removed", ["addons", "add_devices", "subscription_method"])
    ]


def test_the_product_type_of_a_listed_product_never_changes() -> None:
    live = make_snapshot(product_type=ProductType.marketplace)
    new = make_snapshot(
        addons=[make_addon(agreement=custom_agreement())], product_type=ProductType.saas
    )

    assert problem_types(new, live) == ["product_type_changed"]


def test_listed_product_problems_come_with_the_others() -> None:
    live = make_snapshot(plans=[make_plan(), make_plan("pln_old", name="Old")])
    new = make_snapshot(addons=[make_addon(entitlements={})])

    assert sorted(problem_types(new, live)) == ["live_plan_deleted", "no_increment"]
