"""Status derived at read time, with a fixed clock: no job is needed for expiry."""

from services.license.domain.model import Mode, Status
from tests.license.unit.terms import DAY, T0, addon, in_acceptance, make_terms


def test_a_subscription_is_active_until_its_term_ends() -> None:
    terms = make_terms()

    assert terms.status_at(T0) is Status.active
    assert terms.status_at(T0 + 30 * DAY - DAY / 86400) is Status.active
    assert terms.status_at(T0 + 30 * DAY) is Status.expired


def test_a_permanent_license_never_expires() -> None:
    terms = make_terms(mode=Mode.permanent, valid_until=None)

    assert terms.expires_at is None
    assert terms.status_at(T0 + 10_000 * DAY) is Status.active


def test_revoked_wins_over_everything() -> None:
    terms = make_terms(revoked_at=T0 + DAY)

    assert terms.status_at(T0 + 2 * DAY) is Status.revoked
    assert terms.status_at(T0 + 100 * DAY) is Status.revoked
    assert not terms.in_effect_at(T0 + 2 * DAY)


def test_acceptance_mode_expires_at_the_deadline() -> None:
    terms = in_acceptance(days=14)

    assert terms.expires_at == T0 + 14 * DAY
    assert terms.status_at(T0 + 13 * DAY) is Status.active
    assert terms.status_at(T0 + 14 * DAY) is Status.expired


def test_acceptance_exp_is_the_earlier_of_term_end_and_deadline() -> None:
    assert in_acceptance(days=14, valid_until=T0 + 10 * DAY).expires_at == T0 + 10 * DAY
    assert in_acceptance(days=14, valid_until=None).expires_at == T0 + 14 * DAY


def test_a_license_that_has_not_started_is_active_but_not_in_effect() -> None:
    terms = make_terms(valid_from=T0 + DAY)

    assert terms.status_at(T0) is Status.active
    assert not terms.in_effect_at(T0)
    assert terms.in_effect_at(T0 + DAY)


def test_next_change_is_the_start_or_the_end() -> None:
    assert make_terms(valid_from=T0 + DAY).next_change_after(T0) == T0 + DAY
    assert make_terms().next_change_after(T0) == T0 + 30 * DAY
    assert make_terms(mode=Mode.permanent, valid_until=None).next_change_after(T0) is None
    assert addon(revoked_at=T0).next_change_after(T0) is None


def test_next_version_counts_up() -> None:
    terms = in_acceptance().next_version(mode=Mode.subscription)

    assert terms.version == 2
    assert terms.mode is Mode.subscription
