"""License's refusals that orders acts on, named from license's own client constants."""

from services.license.client import BASE_LICENSE_MISSING, BASE_LICENSE_REVOKED, LICENSE_NOT_FOUND

__all__ = ["BASE_LICENSE_GONE", "BASE_LICENSE_MISSING", "BASE_LICENSE_REVOKED", "LICENSE_NOT_FOUND"]

# The refusals to mint an add-on's license that mean the add-on can never be fulfilled: the
# instance's base license is gone. The paid order is refunded instead.
BASE_LICENSE_GONE = frozenset({BASE_LICENSE_MISSING, BASE_LICENSE_REVOKED})
