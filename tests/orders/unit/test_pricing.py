"""Prices of plans and add-ons, and when terms end."""

from datetime import UTC, datetime

import pytest

from services.orders.domain.model import Cycle, CycleUnit
from services.orders.domain.pricing import add_months, term_end, unit_price
from services.orders.errors import CycleNotApplicableError, CycleRequiredError, UnknownCycleError
from tests.orders.unit.offers import MONTH, YEAR, eur, plan


def test_a_subscription_costs_the_chosen_cycle() -> None:
    assert unit_price(plan(), MONTH) == eur(4900)
    assert unit_price(plan(), YEAR) == eur(49000)


def test_a_one_time_purchase_costs_its_single_price() -> None:
    assert unit_price(plan(one_time=True, cycles=(), price=eur(99000)), None) == eur(99000)


def test_a_subscription_needs_a_cycle() -> None:
    with pytest.raises(CycleRequiredError):
        unit_price(plan(), None)


def test_a_one_time_purchase_takes_no_cycle() -> None:
    with pytest.raises(CycleNotApplicableError):
        unit_price(plan(one_time=True, cycles=(), price=eur(99000)), MONTH)


def test_a_cycle_not_on_offer_is_refused() -> None:
    with pytest.raises(UnknownCycleError):
        unit_price(plan(), Cycle(CycleUnit.month, 3))


def test_money_times_quantity() -> None:
    assert eur(1900).times(3) == eur(5700)


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (datetime(2026, 1, 15, 9, 30, tzinfo=UTC), 1, datetime(2026, 2, 15, 9, 30, tzinfo=UTC)),
        (datetime(2026, 1, 31, tzinfo=UTC), 1, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2028, 1, 31, tzinfo=UTC), 1, datetime(2028, 2, 29, tzinfo=UTC)),
        (datetime(2026, 3, 31, tzinfo=UTC), 1, datetime(2026, 4, 30, tzinfo=UTC)),
        (datetime(2026, 11, 30, tzinfo=UTC), 3, datetime(2027, 2, 28, tzinfo=UTC)),
        (datetime(2026, 12, 5, tzinfo=UTC), 1, datetime(2027, 1, 5, tzinfo=UTC)),
        (datetime(2026, 5, 5, tzinfo=UTC), 36, datetime(2029, 5, 5, tzinfo=UTC)),
    ],
)
def test_months_are_calendar_months_clamped_to_the_month_end(start, months, end) -> None:
    assert add_months(start, months) == end


def test_a_term_ends_count_units_later() -> None:
    start = datetime(2028, 2, 29, 12, tzinfo=UTC)

    assert term_end(start, Cycle(CycleUnit.month, 2)) == datetime(2028, 4, 29, 12, tzinfo=UTC)
    assert term_end(start, Cycle(CycleUnit.year, 1)) == datetime(2029, 2, 28, 12, tzinfo=UTC)
    assert term_end(start, Cycle(CycleUnit.year, 3)) == datetime(2031, 2, 28, 12, tzinfo=UTC)


def test_a_one_time_purchase_has_no_term_end() -> None:
    assert term_end(datetime(2026, 1, 1, tzinfo=UTC), None) is None
