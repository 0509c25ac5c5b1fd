"""The license service's problem codes that orders branches on.

They belong in `services.license.client` next to the client that raises them (a wire
contract lives with its provider); until it defines them, this is their one home in orders,
so no use case compares an upstream code with a literal of its own.
"""

LICENSE_NOT_FOUND = "license_not_found"
BASE_LICENSE_MISSING = "base_license_missing"
BASE_LICENSE_REVOKED = "base_license_revoked"

# The refusals to mint an add-on's license that mean the add-on can never be fulfilled: the
# instance's base license is gone. The paid order is refunded instead.
BASE_LICENSE_GONE = frozenset({BASE_LICENSE_MISSING, BASE_LICENSE_REVOKED})
