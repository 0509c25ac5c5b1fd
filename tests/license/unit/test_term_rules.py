"""The rules of renewals and plan changes (`rules.renew`, `rules.change_plan`)."""

import pytest

from services.license.domain import rules
from services.license.domain.model import LicenseTerms, Mode, Status
from services.license.errors import (
    AcceptancePendingError,
    LicenseNotRenewableError,
    LicenseRevokedError,
    NotABaseLicenseError,
    NotRenewableError,
    TermMismatchError,
)
from tests.license.unit.terms import DAY, T0, addon, in_acceptance, make_terms


def test_a_renewal_moves_the_term_end_and_nothing_else() -> None:
    terms = make_terms()
    assert terms.valid_until is not None

    renewed = rules.renew(terms, terms.valid_until, terms.valid_until + 31 * DAY)

    assert renewed.valid_until == T0 + 61 * DAY
    assert renewed.version == 2
    assert (renewed.valid_from, renewed.plan_id, renewed.entitlements) == (
        terms.valid_from,
        terms.plan_id,
        terms.entitlements,
    )


def test_an_expired_license_renewed_past_now_is_active_again() -> None:
    terms = make_terms()
    later = T0 + 40 * DAY
    assert terms.status_at(later) is Status.expired
    assert terms.valid_until is not None

    renewed = rules.renew(terms, terms.valid_until, terms.valid_until + 30 * DAY)

    assert renewed.status_at(later) is Status.active


def test_an_addon_renews_on_its_own_term() -> None:
    pack = addon(valid_until=T0 + 10 * DAY)

    renewed = rules.renew(pack, T0 + 10 * DAY, T0 + 40 * DAY)

    assert (renewed.parent_id, renewed.valid_until) == ("lic_base", T0 + 40 * DAY)


@pytest.mark.parametrize(
    ("terms", "error"),
    [
        (make_terms(valid_until=None, mode=Mode.permanent), NotRenewableError),
        (make_terms(revoked_at=T0 + DAY), LicenseNotRenewableError),
        (in_acceptance(), AcceptancePendingError),
    ],
)
def test_what_does_not_renew(terms: LicenseTerms, error: type[Exception]) -> None:
    with pytest.raises(error):
        rules.renew(terms, T0 + 30 * DAY, T0 + 60 * DAY)


def test_a_term_renewed_already_is_not_renewed_again() -> None:
    terms = make_terms()

    with pytest.raises(TermMismatchError):
        rules.renew(terms, T0 + 29 * DAY, T0 + 59 * DAY)


def test_a_plan_change_keeps_the_term() -> None:
    terms = make_terms()

    changed = rules.change_plan(terms, "pln_2", {"devices": 500})

    assert (changed.plan_id, changed.entitlements, changed.version) == (
        "pln_2",
        {"devices": 500},
        2,
    )
    assert (changed.valid_from, changed.valid_until, changed.mode) == (
        terms.valid_from,
        terms.valid_until,
        terms.mode,
    )


def test_an_expired_or_permanent_base_changes_plan() -> None:
    expired = make_terms(valid_until=T0 + DAY)
    permanent = make_terms(valid_until=None, mode=Mode.permanent)

    assert rules.change_plan(expired, "pln_2", {}).plan_id == "pln_2"
    assert rules.change_plan(permanent, "pln_2", {}).valid_until is None


@pytest.mark.parametrize(
    ("terms", "error"),
    [
        (addon(), NotABaseLicenseError),
        (make_terms(revoked_at=T0 + DAY), LicenseRevokedError),
        (in_acceptance(), AcceptancePendingError),
    ],
)
def test_what_does_not_change_plan(terms: LicenseTerms, error: type[Exception]) -> None:
    with pytest.raises(error):
        rules.change_plan(terms, "pln_2", {"devices": 1})
