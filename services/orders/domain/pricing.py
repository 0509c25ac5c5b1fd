"""Prices and terms: what an order costs and when the license it buys ends.

The price is the chosen cycle's price (or the one-time price) times the quantity, in the
price's currency. A term ends `count` calendar months or years after it starts; a day of the
month the end month lacks is clamped to its last day (Jan 31 + 1 month = Feb 28 or 29).
"""

import calendar
from datetime import datetime

from services.orders.domain.model import Cycle, CycleUnit, Money, Offer
from services.orders.errors import CycleNotApplicableError, CycleRequiredError, UnknownCycleError


def unit_price(offer: Offer, cycle: Cycle | None) -> Money:
    """The price of one pack of `offer` in `cycle` (None for a one-time purchase)."""
    if offer.one_time:
        if cycle is not None:
            raise CycleNotApplicableError(f"{offer.id} is a one-time purchase: omit `cycle`.")
        assert offer.price is not None
        return offer.price
    if cycle is None:
        offered = ", ".join(f"{c.cycle.count} {c.cycle.unit}" for c in offer.cycles)
        raise CycleRequiredError(f"{offer.id} is a subscription: pick a `cycle` ({offered}).")
    for priced in offer.cycles:
        if priced.cycle == cycle:
            return priced.price
    raise UnknownCycleError(f"{offer.id} is not sold every {cycle.count} {cycle.unit}.")


def add_months(start: datetime, months: int) -> datetime:
    """`start` moved `months` calendar months on, the day clamped to the month's length."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def term_end(start: datetime, cycle: Cycle | None) -> datetime | None:
    """When a term bought at `start` ends; None for a one-time purchase (no end)."""
    if cycle is None:
        return None
    months = cycle.count * (12 if cycle.unit is CycleUnit.year else 1)
    return add_months(start, months)
