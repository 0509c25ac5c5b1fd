"""The catalog's value types: a product's editable draft and its frozen snapshot.

Plans (base specifications) and add-ons share one configuration model: a subscription method,
billing cycles or a one-time price, and entitlements (dimension -> integer). For a plan the
entitlements are the base quota; for an add-on they are increments per pack.
"""

from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic_extra_types.currency_code import ISO4217

from shared.text import LABEL, TEXT

MAX_AMOUNT_MINOR = 10**12
MAX_ENTITLEMENT = 10**12
MAX_CYCLES = 12
MAX_PLANS = 50
MAX_ADDONS = 100
MAX_DIMENSIONS = 20


class ProductType(StrEnum):
    marketplace = "marketplace"
    saas = "saas"
    service = "service"


class BillingMode(StrEnum):
    online = "online"
    offline = "offline"
    free = "free"


class SubscriptionMethod(StrEnum):
    subscription = "subscription"
    one_time = "one_time"


class CycleUnit(StrEnum):
    month = "month"
    year = "year"


class AgreementKind(StrEnum):
    platform_standard = "platform_standard"
    platform_template = "platform_template"
    custom = "custom"


class Strict(BaseModel):
    """Base of every value type: unknown fields are an error, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# Names and categories are labels, the description is text (see shared.text for what each holds).
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50), LABEL]
Category = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40), LABEL
]
Description = Annotated[str, StringConstraints(max_length=5000), TEXT]
Dimension = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$", min_length=1, max_length=40)
]
ObjectId = Annotated[str, StringConstraints(pattern=r"^[a-z]{3}_[a-z0-9]{1,40}$")]
AcceptanceDays = Annotated[int, Field(ge=1, le=90)]


class Money(Strict):
    """An amount in the currency's minor units (cents) and its ISO 4217 code."""

    amount_minor: int = Field(ge=0, le=MAX_AMOUNT_MINOR, examples=[4900])
    currency: ISO4217 = Field(examples=["EUR"])


class Cycle(Strict):
    """A billing cycle of a subscription: every `count` `unit`s, at `price`."""

    unit: CycleUnit
    count: int = Field(ge=1, le=36)
    price: Money


class SharedConfiguration(Strict):
    """What plans and add-ons share: how they are sold and what they grant."""

    name: Name
    subscription_method: SubscriptionMethod
    cycles: list[Cycle] | None = Field(
        default=None, max_length=MAX_CYCLES, description="Subscription only: the billing cycles."
    )
    price: Money | None = Field(default=None, description="One-time only: the single price.")
    entitlements: dict[Dimension, Annotated[int, Field(ge=0, le=MAX_ENTITLEMENT)]] = Field(
        default_factory=dict, max_length=MAX_DIMENSIONS, examples=[{"devices": 100}]
    )
    retired: bool = Field(default=False, description="Retired: no new sales; owners keep it.")

    @model_validator(mode="after")
    def _method_matches_pricing(self) -> Self:
        if self.subscription_method is SubscriptionMethod.subscription:
            if self.price is not None:
                raise ValueError("a subscription is priced per cycle: use `cycles`, not `price`")
            if not self.cycles:
                raise ValueError("a subscription needs at least one cycle")
            seen = set()
            for cycle in self.cycles:
                key = (cycle.unit, cycle.count)
                if key in seen:
                    raise ValueError(f"duplicate cycle: every {cycle.count} {cycle.unit.value}")
                seen.add(key)
        else:
            if self.cycles:
                raise ValueError("a one-time purchase has no cycles: use `price`")
            if self.price is None:
                raise ValueError("a one-time purchase needs a `price`")
        return self

    def prices(self) -> list[Money]:
        """Every price this configuration can be sold at."""
        if self.cycles:
            return [c.price for c in self.cycles]
        return [self.price] if self.price else []


class Configuration(SharedConfiguration):
    """A plan as a partner describes it (the server assigns the id): the shared configuration
    and the plan's own change policy. (Named `Configuration` because that is the name the API's
    clients know for the body that adds a plan.)"""

    changes_to: list[ObjectId] = Field(
        default_factory=list,
        max_length=MAX_PLANS,
        description="Ids of the product's plans an instance on this plan may change to "
        "(empty: none). Policy, not contract: a later revision may change it. Checked at "
        "submission: each must be another plan of the product, listed once.",
        examples=[["pln_7k9m1p3r5t7v9x1z3b5d7f9h"]],
    )


class Plan(Configuration):
    """A base specification: what a new application instance gets."""

    id: ObjectId


class Agreement(Strict):
    """The service support agreement of an add-on."""

    kind: AgreementKind
    document_id: ObjectId | None = None

    @model_validator(mode="after")
    def _document_matches_kind(self) -> Self:
        if self.kind is AgreementKind.platform_standard and self.document_id is not None:
            raise ValueError("the platform standard agreement takes no document")
        if self.kind is not AgreementKind.platform_standard and self.document_id is None:
            raise ValueError(f"a {self.kind.value} agreement needs a `document_id`")
        return self


class AddonTerms(Strict):
    """What only add-ons have."""

    compatible_plans: list[ObjectId] = Field(
        default_factory=list, max_length=MAX_PLANS, description="Empty means every plan."
    )
    max_per_instance: int = Field(default=10, ge=1, le=1000)
    agreement: Agreement | None = Field(
        default=None,
        description="Null: the platform standard agreement where the product allows it.",
    )


class AddonSpec(SharedConfiguration, AddonTerms):
    """An add-on as a partner describes it (the server assigns the id)."""


class Addon(AddonSpec):
    """A scaling add-on (expansion pack): increments bought for an existing instance."""

    id: ObjectId


class ProductDetails(Strict):
    """The editable, product-level part of a draft."""

    name: Name
    category: Category
    description: Description = ""
    billing_mode: BillingMode
    requires_acceptance: bool = False
    acceptance_days: AcceptanceDays = 7


class Draft(Strict):
    """A product's editable draft: details, plans and add-ons."""

    details: ProductDetails
    plans: list[Plan] = Field(default_factory=list, max_length=MAX_PLANS)
    addons: list[Addon] = Field(default_factory=list, max_length=MAX_ADDONS)

    def plan(self, plan_id: str) -> Plan | None:
        """The plan with this id, if the draft has it."""
        return next((p for p in self.plans if p.id == plan_id), None)

    def addon(self, addon_id: str) -> Addon | None:
        """The add-on with this id, if the draft has it."""
        return next((a for a in self.addons if a.id == addon_id), None)


class Snapshot(Strict):
    """A frozen draft as a revision holds it: self-contained, agreements resolved."""

    product_id: ObjectId
    partner_id: str
    product_type: ProductType
    details: ProductDetails
    plans: list[Plan]
    addons: list[Addon]
