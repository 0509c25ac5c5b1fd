"""The catalog's value types refuse every configuration DESIGN.md rules out."""

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from services.catalog.domain.model import (
    AddonSpec,
    Agreement,
    AgreementKind,
    Configuration,
    Money,
    ProductDetails,
    SubscriptionMethod,
)
from tests.catalog.unit.factories import config_fields, make_details

EUR_100 = {"amount_minor": 100, "currency": "EUR"}
MONTHLY = {"unit": "month", "count": 1, "price": EUR_100}


def refusal(model: type[BaseModel], data: dict[str, Any]) -> str:
    """The validation message for `data`, which must be refused."""
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return str(caught.value)


def test_a_valid_subscription_lists_its_prices() -> None:
    config = Configuration.model_validate(
        config_fields(cycles=[MONTHLY, {"unit": "year", "count": 1, "price": EUR_100}])
    )

    assert config.subscription_method is SubscriptionMethod.subscription
    assert config.prices() == [Money(amount_minor=100, currency="EUR")] * 2
    assert config.retired is False


def test_a_valid_one_time_purchase_has_a_single_price() -> None:
    config = Configuration.model_validate(
        config_fields(subscription_method="one_time", cycles=None, price=EUR_100)
    )

    assert config.prices() == [Money(amount_minor=100, currency="EUR")]


def test_a_one_time_purchase_with_a_cycle_is_refused() -> None:
    message = refusal(
        Configuration,
        config_fields(subscription_method="one_time", cycles=[MONTHLY], price=EUR_100),
    )

    assert "a one-time purchase has no cycles" in message


def test_a_one_time_purchase_without_a_price_is_refused() -> None:
    message = refusal(Configuration, config_fields(subscription_method="one_time", cycles=None))

    assert "needs a `price`" in message


def test_duplicate_cycles_are_refused() -> None:
    cycles = [MONTHLY, {"unit": "month", "count": 1, "price": {**EUR_100, "amount_minor": 200}}]

    assert "duplicate cycle" in refusal(Configuration, config_fields(cycles=cycles))


def test_same_unit_with_another_count_is_not_a_duplicate() -> None:
    cycles = [MONTHLY, {"unit": "month", "count": 3, "price": EUR_100}]

    assert len(Configuration.model_validate(config_fields(cycles=cycles)).prices()) == 2


@pytest.mark.parametrize("cycles", [None, []])
def test_a_subscription_without_cycles_is_refused(cycles: list[Any] | None) -> None:
    assert "at least one cycle" in refusal(Configuration, config_fields(cycles=cycles))


def test_a_subscription_with_a_price_is_refused() -> None:
    message = refusal(Configuration, config_fields(price=EUR_100))

    assert "use `cycles`, not `price`" in message


@pytest.mark.parametrize("count", [0, 37])
def test_a_cycle_count_outside_1_to_36_is_refused(count: int) -> None:
    refusal(Configuration, config_fields(cycles=[{**MONTHLY, "count": count}]))


def test_a_cycle_unit_other_than_month_or_year_is_refused() -> None:
    refusal(Configuration, config_fields(cycles=[{**MONTHLY, "unit": "week"}]))


@pytest.mark.parametrize("currency", ["XYZ", "EURO", "", "€"])
def test_an_unknown_currency_is_refused(currency: str) -> None:
    with pytest.raises(ValidationError):
        Money.model_validate({"amount_minor": 100, "currency": currency})


def test_a_negative_price_is_refused() -> None:
    with pytest.raises(ValidationError):
        Money.model_validate({"amount_minor": -1, "currency": "EUR"})


def test_a_fractional_price_is_refused() -> None:
    with pytest.raises(ValidationError):
        Money.model_validate({"amount_minor": 1.5, "currency": "EUR"})


def test_a_zero_price_is_allowed() -> None:
    assert Money.model_validate({"amount_minor": 0, "currency": "EUR"}).amount_minor == 0


def test_names_up_to_50_characters_are_allowed_and_stripped() -> None:
    config = Configuration.model_validate(config_fields(name=f"  {'n' * 50}  "))

    assert config.name == "n" * 50


@pytest.mark.parametrize("name", ["n" * 51, "", "   "])
def test_names_over_50_characters_or_blank_are_refused(name: str) -> None:
    refusal(Configuration, config_fields(name=name))
    refusal(ProductDetails, {**make_details().model_dump(), "name": name})


def test_a_category_over_40_characters_is_refused() -> None:
    refusal(ProductDetails, {**make_details().model_dump(), "category": "c" * 41})


@pytest.mark.parametrize("days", [0, 91])
def test_acceptance_days_outside_1_to_90_are_refused(days: int) -> None:
    refusal(ProductDetails, {**make_details().model_dump(), "acceptance_days": days})


@pytest.mark.parametrize("dimension", ["devices", "session_hours", "d", "gpu2", "a" * 40])
def test_dimension_names_that_are_lowercase_identifiers_are_allowed(dimension: str) -> None:
    config = Configuration.model_validate(config_fields(entitlements={dimension: 1}))

    assert config.entitlements == {dimension: 1}


@pytest.mark.parametrize(
    "dimension", ["Devices", "2fa", "session-hours", "has space", "", "a" * 41, "_devices"]
)
def test_other_dimension_names_are_refused(dimension: str) -> None:
    refusal(Configuration, config_fields(entitlements={dimension: 1}))


def test_a_negative_entitlement_is_refused() -> None:
    refusal(Configuration, config_fields(entitlements={"devices": -1}))


def test_unknown_fields_are_refused() -> None:
    assert "extra" in refusal(Configuration, config_fields(colour="blue")).lower()


def test_a_description_may_span_lines() -> None:
    text = "Line one.\n\nLine two,\r\n\twith a tab."

    assert make_details(description=text).description == text


def test_the_platform_standard_agreement_takes_no_document() -> None:
    with pytest.raises(ValidationError, match="takes no document"):
        Agreement(kind=AgreementKind.platform_standard, document_id="doc_abc")
    assert Agreement(kind=AgreementKind.platform_standard).document_id is None


@pytest.mark.parametrize("kind", [AgreementKind.custom, AgreementKind.platform_template])
def test_custom_and_template_agreements_need_a_document(kind: AgreementKind) -> None:
    with pytest.raises(ValidationError, match="needs a `document_id`"):
        Agreement(kind=kind)
    assert Agreement(kind=kind, document_id="doc_abc").document_id == "doc_abc"


def test_an_agreement_of_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValidationError):
        Agreement.model_validate({"kind": "handshake", "document_id": "doc_abc"})


def test_an_add_on_spec_defaults_to_every_plan_ten_packs_and_the_platform_agreement() -> None:
    spec = AddonSpec.model_validate(config_fields(name="+100 devices"))

    assert spec.compatible_plans == []
    assert spec.max_per_instance == 10
    assert spec.agreement is None


@pytest.mark.parametrize("maximum", [0, 1001])
def test_max_per_instance_outside_1_to_1000_is_refused(maximum: int) -> None:
    refusal(AddonSpec, config_fields(max_per_instance=maximum))


def test_compatible_plans_must_look_like_plan_ids() -> None:
    refusal(AddonSpec, config_fields(compatible_plans=["not a plan id"]))


def test_values_are_immutable() -> None:
    money = Money(amount_minor=1, currency="EUR")

    with pytest.raises(ValidationError):
        money.amount_minor = 2  # type: ignore[misc]
