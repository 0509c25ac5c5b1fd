"""The catalog's live revision as the orders domain sees it.

The catalog client's models are the catalog's wire contract; the purchase rules in `domain/`
see only `ProductOffer` and `Offer`, so this is the one place that knows both.
"""

from typing import Any

from services.catalog.client import LiveProduct, PlanInfo
from services.orders.domain.model import Cycle, CycleUnit, Money, Offer, PricedCycle, ProductOffer


def product_offer(live: LiveProduct) -> ProductOffer:
    """The catalog client's live revision, as the domain sees it."""
    return ProductOffer(
        product_id=live.id,
        partner_id=live.partner_id,
        revision=live.revision,
        requires_acceptance=live.requires_acceptance,
        acceptance_days=live.acceptance_days,
        plans={p.id: _offer(p) for p in live.plans},
        addons={
            a.id: _offer(
                a,
                compatible_plans=frozenset(a.compatible_plans),
                max_per_instance=a.max_per_instance,
            )
            for a in live.addons
        },
    )


def _offer(info: PlanInfo, **addon: Any) -> Offer:
    return Offer(
        id=info.id,
        one_time=info.subscription_method == "one_time",
        entitlements=dict(info.entitlements),
        cycles=tuple(
            PricedCycle(
                Cycle(CycleUnit(c.unit), c.count),
                Money(c.price.amount_minor, c.price.currency),
            )
            for c in info.cycles or []
        ),
        price=Money(info.price.amount_minor, info.price.currency) if info.price else None,
        retired=info.retired,
        **addon,
    )
