"""A typed factory of license terms for the unit tests, and their fixed clock."""

from datetime import UTC, datetime, timedelta
from typing import Any

from services.license.domain.model import Level, LicenseTerms, Mode

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def make_terms(**overrides: Any) -> LicenseTerms:
    values: dict[str, Any] = {
        "id": "lic_base",
        "order_id": "ord_1",
        "instance_id": "ins_1",
        "product_id": "prd_1",
        "level": Level.base,
        "parent_id": None,
        "plan_id": "pln_1",
        "addon_id": None,
        "entitlements": {"devices": 100},
        "mode": Mode.subscription,
        "valid_from": T0,
        "valid_until": T0 + 30 * DAY,
        "acceptance_deadline": None,
        "original_acceptance_deadline": None,
        "accepted_at": None,
        "revoked_at": None,
        "version": 1,
    }
    values.update(overrides)
    return LicenseTerms(**values)


def in_acceptance(days: int = 14, **overrides: Any) -> LicenseTerms:
    deadline = T0 + days * DAY
    return make_terms(
        mode=Mode.acceptance,
        acceptance_deadline=deadline,
        original_acceptance_deadline=deadline,
        **overrides,
    )


def addon(**overrides: Any) -> LicenseTerms:
    values: dict[str, Any] = {
        "id": "lic_addon",
        "order_id": "ord_2",
        "level": Level.addon,
        "parent_id": "lic_base",
        "plan_id": None,
        "addon_id": "add_1",
        "entitlements": {"devices": 200},
    }
    values.update(overrides)
    return make_terms(**values)
