"""The rules of a license's life: its first mode, acceptance, deadline extensions, renewals,
plan changes, entitlement.

Each change returns the next version of the terms; the caller signs and stores it. Revocation
is not a version: it is a fact about the license (`revoked_at`) that every version shares.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from services.license.domain.model import Level, LicenseTerms, Mode, Status, whole_seconds
from services.license.errors import (
    AcceptanceDeadlinePassedError,
    AcceptancePendingError,
    ExtensionNotLaterError,
    ExtensionTooLongError,
    LicenseExpiredError,
    LicenseNotRenewableError,
    LicenseRevokedError,
    NotABaseLicenseError,
    NotInAcceptanceError,
    NotRenewableError,
    TermMismatchError,
)
from services.license.verifier import sum_entitlements

MAX_EXTENSION = timedelta(days=90)


def paid_mode(valid_until: datetime | None) -> Mode:
    """The mode a paid license is in: a subscription if its term ends, else permanent."""
    return Mode.subscription if valid_until is not None else Mode.permanent


def first_mode(
    *,
    valid_from: datetime,
    valid_until: datetime | None,
    requires_acceptance: bool,
    acceptance_days: int,
) -> tuple[Mode, datetime | None]:
    """The mode of a new license and its acceptance deadline (None without acceptance)."""
    if requires_acceptance:
        return Mode.acceptance, whole_seconds(valid_from) + timedelta(days=acceptance_days)
    return paid_mode(valid_until), None


def accept(terms: LicenseTerms, accepted_at: datetime) -> LicenseTerms | None:
    """The version after the customer accepted at `accepted_at`, or None if nothing changes.

    Accepting a license that is already in its paid mode is a no-op (orders retries). The
    acceptance counts if it happened before the deadline, even if it reaches us later.
    """
    if terms.revoked_at is not None:
        raise LicenseRevokedError(f"License {terms.id} is revoked.")
    if terms.mode is not Mode.acceptance:
        return None
    assert terms.acceptance_deadline is not None
    if accepted_at >= terms.acceptance_deadline:
        raise AcceptanceDeadlinePassedError(
            f"License {terms.id} had to be accepted before {terms.acceptance_deadline.isoformat()}."
        )
    return terms.next_version(
        mode=paid_mode(terms.valid_until), accepted_at=whole_seconds(accepted_at)
    )


def extend(terms: LicenseTerms, until: datetime, now: datetime) -> LicenseTerms:
    """The version with the acceptance deadline moved to `until`.

    Only a license still awaiting acceptance, neither revoked nor expired, can be extended;
    the new deadline is later than the current one and at most 90 days past the original.
    """
    status = terms.status_at(now)
    if status is Status.revoked:
        raise LicenseRevokedError(f"License {terms.id} is revoked.")
    if terms.mode is not Mode.acceptance:
        raise NotInAcceptanceError(f"License {terms.id} is in {terms.mode.value} mode.")
    if status is Status.expired:
        raise LicenseExpiredError(f"License {terms.id} has expired; it can't be extended.")
    assert terms.acceptance_deadline is not None
    assert terms.original_acceptance_deadline is not None
    until = whole_seconds(until)
    if until <= terms.acceptance_deadline:
        raise ExtensionNotLaterError(
            f"The deadline is {terms.acceptance_deadline.isoformat()}; pick a later one."
        )
    latest = terms.original_acceptance_deadline + MAX_EXTENSION
    if until > latest:
        raise ExtensionTooLongError(f"The deadline can move to {latest.isoformat()} at the latest.")
    return terms.next_version(acceptance_deadline=until)


def renew(terms: LicenseTerms, term_end: datetime, valid_until: datetime) -> LicenseTerms:
    """The version whose term ends at `valid_until` instead of `term_end`.

    Only a subscription license in its paid mode, not revoked, renews; an expired one too
    (its new term runs on from where the old one ended, so it may be active again). `term_end`
    is the end of the term the renewal was priced for: if the license's term no longer ends
    there (another renewal came first), this one is refused, so a term is renewed once.
    """
    if terms.mode is Mode.permanent:
        raise NotRenewableError(f"License {terms.id} is permanent; it has no term to renew.")
    if terms.revoked_at is not None:
        raise LicenseNotRenewableError(f"License {terms.id} is revoked.")
    if terms.mode is Mode.acceptance:
        raise AcceptancePendingError(f"License {terms.id} has not been accepted yet.")
    assert terms.valid_until is not None
    term_end, valid_until = whole_seconds(term_end), whole_seconds(valid_until)
    if term_end != terms.valid_until:
        raise TermMismatchError(
            f"License {terms.id}'s term ends at {terms.valid_until.isoformat()}, "
            f"not at {term_end.isoformat()}."
        )
    if valid_until <= term_end:
        raise ValueError("a renewal ends after the term it renews")
    return terms.next_version(valid_until=valid_until)


def change_plan(terms: LicenseTerms, plan_id: str, entitlements: dict[str, int]) -> LicenseTerms:
    """The version of a base license on another plan, with that plan's quota, for the same term.

    Only a base license in its paid mode, not revoked, changes plan. An expired one may (the
    instance is isolated, and renews on the new plan): the version changes no dates.
    """
    if terms.level is not Level.base:
        raise NotABaseLicenseError(f"License {terms.id} is an add-on license; it has no plan.")
    if terms.revoked_at is not None:
        raise LicenseRevokedError(f"License {terms.id} is revoked.")
    if terms.mode is Mode.acceptance:
        raise AcceptancePendingError(f"License {terms.id} has not been accepted yet.")
    return terms.next_version(plan_id=plan_id, entitlements=dict(entitlements))


def in_effect(licenses: Iterable[LicenseTerms], now: datetime) -> list[LicenseTerms]:
    """The licenses of an instance that count at `now`: the base in effect and its add-ons.

    Add-ons in effect count only under a base in effect; without one nothing counts.
    """
    effective = [t for t in licenses if t.in_effect_at(now)]
    base = next((t for t in effective if t.level is Level.base), None)
    if base is None:
        return []
    return [base, *(t for t in effective if t.parent_id == base.id)]


def entitlement(licenses: Iterable[LicenseTerms]) -> dict[str, int]:
    """The base plan's quota plus the increments of the add-ons (see `in_effect`)."""
    total, _ = sum_entitlements(
        {
            "id": t.id,
            "level": t.level.value,
            "parent": t.parent_id,
            "entitlements": t.entitlements,
        }
        for t in licenses
    )
    return total


def next_change(licenses: Iterable[LicenseTerms], now: datetime) -> datetime | None:
    """The first moment after `now` at which the set of licenses in effect may change."""
    moments = [m for t in licenses if (m := t.next_change_after(now)) is not None]
    return min(moments, default=None)
