"""Who may see a license or an instance: a rule over owners, in the domain's own terms.

An instance, and every license bound to it, belongs to one customer (who bought it) and one
partner (whose product it is). Those two may see it; so may a service (orders reads an
instance's licenses on its internal routes, which admit no one else). Anyone else is told the
thing does not exist, rather than that it is someone else's.

Roles are the access token's role names; the rule takes plain strings so that it needs no
auth machinery and is tested without any.
"""

CUSTOMER = "customer"
PARTNER = "partner"
SERVICE = "service"


def may_see(role: str, subject: str, *, customer_id: str, partner_id: str) -> bool:
    """Whether the principal (`role`, `subject`) may see what `customer_id` bought from
    `partner_id`: the owning customer, the owning partner, or a service."""
    if role == SERVICE:
        return True
    if role == CUSTOMER:
        return subject == customer_id
    if role == PARTNER:
        return subject == partner_id
    return False
