"""Who may see an instance and its licenses: one rule over owners, with no I/O."""

import pytest

from services.license.domain.access import may_see

OWNERS = {"customer_id": "globex", "partner_id": "acme"}


@pytest.mark.parametrize(
    ("role", "subject", "allowed"),
    [
        ("customer", "globex", True),
        ("customer", "initech", False),
        ("customer", "acme", False),  # the partner's id, but not as the partner
        ("partner", "acme", True),
        ("partner", "umbrella", False),
        ("partner", "globex", False),  # the customer's id, but not as the customer
        ("service", "orders", True),
        ("reviewer", "globex", False),
        ("reviewer", "acme", False),
    ],
)
def test_the_owning_customer_the_owning_partner_and_services_may_see(
    role: str, subject: str, allowed: bool
) -> None:
    assert may_see(role, subject, **OWNERS) is allowed
