"""The license service's problems: each with its HTTP status and stable `code`.

The codes callers branch on are constants in `services/license/client.py`, defined there once.
"""

from services.license.client import (
    ACCEPTANCE_DEADLINE_PASSED,
    ACCEPTANCE_PENDING,
    BASE_LICENSE_EXISTS,
    BASE_LICENSE_MISSING,
    BASE_LICENSE_REVOKED,
    INSTANCE_MISMATCH,
    INSTANCE_NOT_FOUND,
    LICENSE_NOT_FOUND,
    LICENSE_NOT_RENEWABLE,
    LICENSE_REVOKED,
    NOT_A_BASE_LICENSE,
    NOT_RENEWABLE,
    ORDER_LICENSE_CONFLICT,
    TERM_MISMATCH,
)
from shared.problems import ConflictError, NotFoundError, ValidationProblem


class LicenseNotFoundError(NotFoundError):
    code = LICENSE_NOT_FOUND
    title = "License not found"


class InstanceNotFoundError(NotFoundError):
    code = INSTANCE_NOT_FOUND
    title = "Instance not found"


class BaseLicenseMissingError(ConflictError):
    code = BASE_LICENSE_MISSING
    title = "The instance has no base license"


class BaseLicenseRevokedError(ConflictError):
    code = BASE_LICENSE_REVOKED
    title = "The instance's base license is revoked"


class BaseLicenseExistsError(ConflictError):
    code = BASE_LICENSE_EXISTS
    title = "The instance already has a base license"


class InstanceMismatchError(ConflictError):
    code = INSTANCE_MISMATCH
    title = "The order does not match the instance's product, customer or partner"


class OrderLicenseConflictError(ConflictError):
    code = ORDER_LICENSE_CONFLICT
    title = "The order already has a license with other terms"


class LicenseRevokedError(ConflictError):
    code = LICENSE_REVOKED
    title = "The license is revoked"


class LicenseExpiredError(ConflictError):
    code = "license_expired"
    title = "The license has expired"


class NotInAcceptanceError(ConflictError):
    code = "not_in_acceptance"
    title = "The license is not awaiting acceptance"


class AcceptanceDeadlinePassedError(ConflictError):
    code = ACCEPTANCE_DEADLINE_PASSED
    title = "The acceptance deadline has passed"


class ExtensionNotLaterError(ValidationProblem):
    code = "extension_not_later"
    title = "The new deadline must be later than the current one"


class ExtensionTooLongError(ValidationProblem):
    code = "extension_too_long"
    title = "The deadline can move at most 90 days past the original one"


class NotRenewableError(ValidationProblem):
    code = NOT_RENEWABLE
    title = "A permanent license has no term to renew"


class LicenseNotRenewableError(ConflictError):
    code = LICENSE_NOT_RENEWABLE
    title = "The license is revoked and can't be renewed"


class AcceptancePendingError(ConflictError):
    code = ACCEPTANCE_PENDING
    title = "The license has not been accepted yet"


class TermMismatchError(ConflictError):
    code = TERM_MISMATCH
    title = "The license's term no longer ends where the renewal starts"


class NotABaseLicenseError(ValidationProblem):
    code = NOT_A_BASE_LICENSE
    title = "Only a base license changes plan"
