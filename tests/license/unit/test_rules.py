"""Modes, acceptance, deadline extensions and the entitlement sum."""

import pytest

from services.license.domain import rules
from services.license.domain.model import Mode
from services.license.errors import (
    AcceptanceDeadlinePassedError,
    ExtensionNotLaterError,
    ExtensionTooLongError,
    LicenseExpiredError,
    LicenseRevokedError,
    NotInAcceptanceError,
)
from tests.license.unit.terms import DAY, T0, addon, in_acceptance, make_terms


def test_first_mode_without_acceptance_is_the_paid_mode() -> None:
    assert rules.first_mode(
        valid_from=T0, valid_until=T0 + DAY, requires_acceptance=False, acceptance_days=7
    ) == (Mode.subscription, None)
    assert rules.first_mode(
        valid_from=T0, valid_until=None, requires_acceptance=False, acceptance_days=7
    ) == (Mode.permanent, None)


def test_first_mode_with_acceptance_has_a_deadline() -> None:
    mode, deadline = rules.first_mode(
        valid_from=T0 + DAY / 3, valid_until=None, requires_acceptance=True, acceptance_days=14
    )

    assert mode is Mode.acceptance
    assert deadline == T0 + DAY / 3 + 14 * DAY


@pytest.mark.parametrize(
    ("valid_until", "paid"), [(T0 + 30 * DAY, Mode.subscription), (None, Mode.permanent)]
)
def test_accepting_moves_to_the_paid_mode_as_a_new_version(valid_until, paid) -> None:
    accepted = rules.accept(in_acceptance(valid_until=valid_until), T0 + DAY)

    assert accepted is not None
    assert accepted.mode is paid
    assert accepted.version == 2
    assert accepted.accepted_at == T0 + DAY
    assert accepted.expires_at == valid_until


def test_accepting_twice_changes_nothing() -> None:
    assert rules.accept(make_terms(), T0 + DAY) is None


def test_acceptance_after_the_deadline_is_refused() -> None:
    with pytest.raises(AcceptanceDeadlinePassedError):
        rules.accept(in_acceptance(days=14), T0 + 14 * DAY)


def test_a_revoked_license_cannot_be_accepted() -> None:
    with pytest.raises(LicenseRevokedError):
        rules.accept(in_acceptance(revoked_at=T0), T0 + DAY)


def test_extension_moves_the_deadline_as_a_new_version() -> None:
    extended = rules.extend(in_acceptance(days=14), T0 + 20 * DAY, now=T0 + DAY)

    assert extended.acceptance_deadline == T0 + 20 * DAY
    assert extended.original_acceptance_deadline == T0 + 14 * DAY
    assert extended.version == 2
    assert extended.mode is Mode.acceptance


def test_extension_must_be_later() -> None:
    with pytest.raises(ExtensionNotLaterError):
        rules.extend(in_acceptance(days=14), T0 + 14 * DAY, now=T0 + DAY)
    with pytest.raises(ExtensionNotLaterError):
        rules.extend(in_acceptance(days=14), T0 + 10 * DAY, now=T0 + DAY)


def test_extension_goes_at_most_90_days_past_the_original_deadline() -> None:
    terms = in_acceptance(days=14)
    once = rules.extend(terms, T0 + 14 * DAY + 60 * DAY, now=T0 + DAY)

    twice = rules.extend(once, T0 + 14 * DAY + 90 * DAY, now=T0 + DAY)
    assert twice.acceptance_deadline == T0 + 104 * DAY
    with pytest.raises(ExtensionTooLongError):
        rules.extend(twice, T0 + 14 * DAY + 90 * DAY + DAY / 86400, now=T0 + DAY)


@pytest.mark.parametrize(
    ("terms", "error"),
    [
        (in_acceptance(revoked_at=T0), LicenseRevokedError),
        (make_terms(), NotInAcceptanceError),
        (in_acceptance(days=1), LicenseExpiredError),
    ],
)
def test_extension_only_while_awaiting_acceptance(terms, error) -> None:
    with pytest.raises(error):
        rules.extend(terms, T0 + 30 * DAY, now=T0 + 2 * DAY)


def test_entitlement_is_the_base_plus_its_valid_addons() -> None:
    licenses = [
        make_terms(entitlements={"devices": 100, "hours": 10}),
        addon(entitlements={"devices": 200}),
        addon(id="lic_a2", entitlements={"hours": 5}),
        addon(id="lic_expired", valid_until=T0 + DAY, entitlements={"devices": 1000}),
        addon(id="lic_revoked", revoked_at=T0, entitlements={"devices": 1000}),
        addon(id="lic_other_parent", parent_id="lic_x", entitlements={"devices": 1000}),
    ]

    counted = rules.in_effect(licenses, T0 + 2 * DAY)

    assert [t.id for t in counted] == ["lic_base", "lic_addon", "lic_a2"]
    assert rules.entitlement(counted) == {"devices": 300, "hours": 15}


def test_without_a_base_in_effect_nothing_counts() -> None:
    licenses = [make_terms(revoked_at=T0), addon()]

    assert rules.in_effect(licenses, T0 + DAY) == []
    assert rules.entitlement([]) == {}


def test_next_change_is_the_first_start_or_end_of_any_license() -> None:
    licenses = [make_terms(), addon(valid_until=T0 + 5 * DAY), addon(valid_from=T0 + 2 * DAY)]

    assert rules.next_change(licenses, T0 + DAY) == T0 + 2 * DAY
    assert rules.next_change(licenses, T0 + 3 * DAY) == T0 + 5 * DAY
