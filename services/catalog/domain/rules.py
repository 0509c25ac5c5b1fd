"""Editing a draft and checking it for submission.

Edits are pure functions from one `Draft` to the next; they enforce what can be refused at
once (an unknown plan, a live plan deleted). `submission_problems` runs every rule a listing
must pass, the listed-product rules included, and returns all problems at once.
"""

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from services.catalog.domain.model import (
    Addon,
    Agreement,
    AgreementKind,
    BillingMode,
    Draft,
    Plan,
    ProductDetails,
    ProductType,
    Snapshot,
)
from services.catalog.domain.plan_changes import plan_change_problems
from services.catalog.errors import (
    AddonNotFoundError,
    InvalidConfigurationError,
    LiveAddonNotDeletableError,
    LivePlanNotDeletableError,
    PlanInUseError,
    PlanNotFoundError,
    UnknownPlanError,
)
from shared.problems import FieldError

M = TypeVar("M", bound=BaseModel)


def build(model: type[M], data: Mapping[str, Any], loc: Iterable[str | int] = ()) -> M:
    """Validate `data` as `model`; problems become a 422 `invalid_configuration` with `errors`."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        prefix = list(loc)
        errors = [
            FieldError(
                loc=[*prefix, *(p for p in e["loc"] if isinstance(p, (str, int)))],
                msg=e["msg"],
                type=e["type"],
            )
            for e in exc.errors()
        ]
        raise InvalidConfigurationError("See `errors` for what to fix.", errors=errors) from None


def merge(current: BaseModel, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of `current` with `changes` laid over them (for a PATCH)."""
    return {**current.model_dump(mode="json"), **changes}


def agreement_required(product_type: ProductType, billing_mode: BillingMode) -> bool:
    """Whether add-ons need an uploaded agreement (custom or filled-in platform template).

    Only a marketplace product billed online may rely on the platform standard agreement.
    """
    return not (product_type is ProductType.marketplace and billing_mode is BillingMode.online)


def patch_details(draft: Draft, changes: Mapping[str, Any]) -> Draft:
    """The draft with its product-level details changed."""
    details = build(ProductDetails, merge(draft.details, changes))
    return draft.model_copy(update={"details": details})


def add_plan(draft: Draft, plan: Plan) -> Draft:
    """The draft with a new plan."""
    return build(Draft, {**draft.model_dump(mode="json"), "plans": [*draft.plans, plan]})


def update_plan(draft: Draft, plan_id: str, changes: Mapping[str, Any]) -> tuple[Draft, Plan]:
    """The draft with one plan changed, and that plan."""
    current = draft.plan(plan_id)
    if current is None:
        raise PlanNotFoundError(f"The draft has no plan {plan_id}.")
    plan = build(Plan, merge(current, changes))
    plans = [plan if p.id == plan_id else p for p in draft.plans]
    return draft.model_copy(update={"plans": plans}), plan


def delete_plan(draft: Draft, plan_id: str, live: Snapshot | None) -> Draft:
    """The draft without a plan; a live plan or one an add-on names can't go."""
    if draft.plan(plan_id) is None:
        raise PlanNotFoundError(f"The draft has no plan {plan_id}.")
    if live is not None and any(p.id == plan_id for p in live.plans):
        raise LivePlanNotDeletableError("Customers may own this plan: PATCH `retired: true`.")
    users = [a.id for a in draft.addons if plan_id in a.compatible_plans]
    if users:
        raise PlanInUseError(f"Remove it from the compatible plans of {', '.join(users)} first.")
    return draft.model_copy(update={"plans": [p for p in draft.plans if p.id != plan_id]})


def check_compatible_plans(draft: Draft, addon: Addon) -> None:
    """Refuse an add-on whose compatible plans are not plans of the draft."""
    unknown = [p for p in addon.compatible_plans if draft.plan(p) is None]
    if unknown:
        raise UnknownPlanError(
            f"Not plans of this product: {', '.join(unknown)}.",
            errors=[
                FieldError(loc=["compatible_plans", i], msg="unknown plan", type="unknown_plan")
                for i, p in enumerate(addon.compatible_plans)
                if p in unknown
            ],
        )


def add_addon(draft: Draft, addon: Addon) -> Draft:
    """The draft with a new add-on."""
    check_compatible_plans(draft, addon)
    return build(Draft, {**draft.model_dump(mode="json"), "addons": [*draft.addons, addon]})


def update_addon(draft: Draft, addon_id: str, changes: Mapping[str, Any]) -> tuple[Draft, Addon]:
    """The draft with one add-on changed, and that add-on."""
    current = draft.addon(addon_id)
    if current is None:
        raise AddonNotFoundError(f"The draft has no add-on {addon_id}.")
    addon = build(Addon, merge(current, changes))
    check_compatible_plans(draft, addon)
    addons = [addon if a.id == addon_id else a for a in draft.addons]
    return draft.model_copy(update={"addons": addons}), addon


def delete_addon(draft: Draft, addon_id: str, live: Snapshot | None) -> Draft:
    """The draft without an add-on; a live add-on can't go."""
    if draft.addon(addon_id) is None:
        raise AddonNotFoundError(f"The draft has no add-on {addon_id}.")
    if live is not None and any(a.id == addon_id for a in live.addons):
        raise LiveAddonNotDeletableError("Customers may own this add-on: PATCH `retired: true`.")
    return draft.model_copy(update={"addons": [a for a in draft.addons if a.id != addon_id]})


def resolve_agreement(addon: Addon, product_type: ProductType, billing: BillingMode) -> Addon:
    """The add-on with its effective agreement: the platform standard where none is set and
    the product allows it."""
    if addon.agreement is None and not agreement_required(product_type, billing):
        return addon.model_copy(
            update={"agreement": Agreement(kind=AgreementKind.platform_standard)}
        )
    return addon


def freeze(
    draft: Draft, *, product_id: str, partner_id: str, product_type: ProductType
) -> Snapshot:
    """The snapshot a revision stores for this draft, agreements resolved."""
    billing = draft.details.billing_mode
    return Snapshot(
        product_id=product_id,
        partner_id=partner_id,
        product_type=product_type,
        details=draft.details,
        plans=draft.plans,
        addons=[resolve_agreement(a, product_type, billing) for a in draft.addons],
    )


def submission_problems(
    snapshot: Snapshot, live: Snapshot | None, documents: Callable[[str], bool]
) -> list[FieldError]:
    """Every reason this snapshot can't be submitted; empty when it can.

    `documents(id)` tells whether a document exists and belongs to the product's partner.
    """
    problems: list[FieldError] = []

    def problem(loc: list[str | int], msg: str, type_: str) -> None:
        problems.append(FieldError(loc=loc, msg=msg, type=type_))

    if not any(not p.retired for p in snapshot.plans):
        problem(["plans"], "a listing needs at least one plan on sale", "no_plan")

    for kind, items in (("plans", snapshot.plans), ("addons", snapshot.addons)):
        names: dict[str, str] = {}
        for item in items:
            key = item.name.casefold()
            if key in names:
                problem([kind, item.id, "name"], f"same name as {names[key]}", "duplicate_name")
            names.setdefault(key, item.id)

    currencies = {m.currency for item in [*snapshot.plans, *snapshot.addons] for m in item.prices()}
    if len(currencies) > 1:
        problem(
            ["plans"], f"one currency per product, not {sorted(currencies)}", "mixed_currencies"
        )

    free = snapshot.details.billing_mode is BillingMode.free
    for kind, items in (("plans", snapshot.plans), ("addons", snapshot.addons)):
        for item in items:
            if free and any(m.amount_minor for m in item.prices()):
                problem([kind, item.id], "a free product has no prices above zero", "priced_free")

    problems.extend(plan_change_problems(snapshot.plans))

    required = agreement_required(snapshot.product_type, snapshot.details.billing_mode)
    plan_ids = {p.id for p in snapshot.plans}
    for addon in snapshot.addons:
        loc: list[str | int] = ["addons", addon.id]
        if not addon.entitlements or not any(addon.entitlements.values()):
            problem([*loc, "entitlements"], "an add-on must raise a dimension", "no_increment")
        for plan_id in addon.compatible_plans:
            if plan_id not in plan_ids:
                problem([*loc, "compatible_plans"], f"{plan_id} is not a plan", "unknown_plan")
        compatible = [
            p
            for p in snapshot.plans
            if not addon.compatible_plans or p.id in addon.compatible_plans
        ]
        dimensions = {d for p in compatible for d in p.entitlements}
        for dimension in addon.entitlements:
            if dimension not in dimensions:
                problem(
                    [*loc, "entitlements", dimension],
                    "no compatible plan has this dimension",
                    "unknown_dimension",
                )
        agreement = addon.agreement
        if agreement is None:
            problem(
                [*loc, "agreement"],
                "upload a custom or filled-in template agreement",
                "agreement_missing",
            )
        elif required and agreement.kind is AgreementKind.platform_standard:
            problem(
                [*loc, "agreement"],
                "only marketplace products billed online may use the platform standard agreement",
                "agreement_not_allowed",
            )
        elif agreement.document_id is not None and not documents(agreement.document_id):
            problem(
                [*loc, "agreement", "document_id"], "no such document of yours", "unknown_document"
            )

    if live is not None:
        problems.extend(_listed_product_problems(snapshot, live))
    return problems


def _listed_product_problems(snapshot: Snapshot, live: Snapshot) -> list[FieldError]:
    problems: list[FieldError] = []
    if snapshot.product_type is not live.product_type:
        problems.append(
            FieldError(
                loc=["product_type"],
                msg="the product type never changes",
                type="product_type_changed",
            )
        )
    for plan in live.plans:
        current = next((p for p in snapshot.plans if p.id == plan.id), None)
        if current is None:
            problems.append(
                FieldError(
                    loc=["plans", plan.id],
                    msg="a live plan can't be deleted; retire it",
                    type="live_plan_deleted",
                )
            )
        elif current.subscription_method is not plan.subscription_method:
            problems.append(
                FieldError(
                    loc=["plans", plan.id, "subscription_method"],
                    msg=f"the live method {plan.subscription_method.value} can't be removed",
                    type="live_method_removed",
                )
            )
    for addon in live.addons:
        current_addon = next((a for a in snapshot.addons if a.id == addon.id), None)
        if current_addon is None:
            problems.append(
                FieldError(
                    loc=["addons", addon.id],
                    msg="a live add-on can't be deleted; retire it",
                    type="live_addon_deleted",
                )
            )
        elif current_addon.subscription_method is not addon.subscription_method:
            problems.append(
                FieldError(
                    loc=["addons", addon.id, "subscription_method"],
                    msg=f"the live method {addon.subscription_method.value} can't be removed",
                    type="live_method_removed",
                )
            )
    return problems
