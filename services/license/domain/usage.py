"""Usage against entitlement: how much of a metric is used, its limit, and what would cover it.

A reported value is the metric's current total (devices connected now, hours used this term),
not an increment. The limit is the instance's entitlement for the metric (0 when no license
grants it). Packs of an add-on that raises the metric are counted whole.
"""

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Usage:
    """A metric's total in use against its limit."""

    used: int
    limit: int

    @property
    def remaining(self) -> int:
        """What is left before the limit (0 once it is reached or passed)."""
        return max(self.limit - self.used, 0)

    @property
    def exceeded(self) -> bool:
        """Whether more is used than the limit allows (reaching it exactly is not exceeding)."""
        return self.used > self.limit

    @property
    def shortfall(self) -> int:
        """How much the limit would have to grow to cover what is used."""
        return max(self.used - self.limit, 0)

    def packs_to_cover(self, raises: int) -> int:
        """Packs of an add-on raising the metric by `raises` each needed to cover the
        shortfall (0 when there is none)."""
        if raises <= 0:
            raise ValueError("an add-on that covers a shortfall raises the metric")
        return math.ceil(self.shortfall / raises)
