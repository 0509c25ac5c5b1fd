"""The license's value types: its terms, its modes, and its status derived at read time.

Status is never stored: a license is `revoked` once `revoked_at` is set, `expired` from the
end of its term (`valid_until`) or, in acceptance mode, from its acceptance deadline, and
`active` otherwise. So no scheduled job is needed for expiry to be right.

Every time is a timezone-aware UTC datetime in whole seconds, as tokens carry them.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Self


class Level(StrEnum):
    base = "base"
    addon = "addon"


class Mode(StrEnum):
    acceptance = "acceptance"
    subscription = "subscription"
    permanent = "permanent"


class Status(StrEnum):
    active = "active"
    expired = "expired"
    revoked = "revoked"


class Change(StrEnum):
    """Why a version of a license was issued."""

    minted = "minted"
    extended = "extended"
    accepted = "accepted"
    renewal = "renewal"
    plan_change = "plan_change"


def whole_seconds(moment: datetime) -> datetime:
    """`moment` without its fraction of a second (JWT times are whole seconds)."""
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment.replace(microsecond=0)


@dataclass(frozen=True, slots=True)
class LicenseTerms:
    """What a license grants and until when, as of one of its versions."""

    id: str
    order_id: str
    instance_id: str
    product_id: str
    level: Level
    parent_id: str | None
    plan_id: str | None
    addon_id: str | None
    entitlements: dict[str, int] = field(hash=False)
    mode: Mode
    valid_from: datetime
    valid_until: datetime | None
    acceptance_deadline: datetime | None
    original_acceptance_deadline: datetime | None
    accepted_at: datetime | None
    revoked_at: datetime | None
    version: int

    @property
    def expires_at(self) -> datetime | None:
        """When the license stops being valid: its `exp` (None for a permanent license).

        In acceptance mode, the earlier of the term's end and the acceptance deadline.
        """
        if self.mode is Mode.acceptance and self.acceptance_deadline is not None:
            if self.valid_until is None:
                return self.acceptance_deadline
            return min(self.valid_until, self.acceptance_deadline)
        return self.valid_until

    def status_at(self, now: datetime) -> Status:
        """The status at `now`: revoked, expired, or active."""
        if self.revoked_at is not None:
            return Status.revoked
        expires = self.expires_at
        if expires is not None and now >= expires:
            return Status.expired
        return Status.active

    def in_effect_at(self, now: datetime) -> bool:
        """Whether the license grants its entitlements at `now`: active and started."""
        return self.status_at(now) is Status.active and self.valid_from <= now

    def next_change_after(self, now: datetime) -> datetime | None:
        """The next moment after `now` at which `in_effect_at` may change by itself."""
        if self.revoked_at is not None:
            return None
        moments = [m for m in (self.valid_from, self.expires_at) if m is not None and m > now]
        return min(moments, default=None)

    def next_version(self, **changes: object) -> Self:
        """These terms with `changes` applied, as the next version."""
        return replace(self, version=self.version + 1, **changes)  # type: ignore[arg-type]
