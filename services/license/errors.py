"""The license service's problems: each with its HTTP status and stable `code`."""

from shared.problems import ConflictError, NotFoundError, ValidationProblem


class LicenseNotFoundError(NotFoundError):
    code = "license_not_found"
    title = "License not found"


class InstanceNotFoundError(NotFoundError):
    code = "instance_not_found"
    title = "Instance not found"


class BaseLicenseMissingError(ConflictError):
    code = "base_license_missing"
    title = "The instance has no base license"


class BaseLicenseRevokedError(ConflictError):
    code = "base_license_revoked"
    title = "The instance's base license is revoked"


class BaseLicenseExistsError(ConflictError):
    code = "base_license_exists"
    title = "The instance already has a base license"


class InstanceMismatchError(ConflictError):
    code = "instance_mismatch"
    title = "The order does not match the instance's product, customer or partner"


class OrderLicenseConflictError(ConflictError):
    code = "order_license_conflict"
    title = "The order already has a license with other terms"


class LicenseRevokedError(ConflictError):
    code = "license_revoked"
    title = "The license is revoked"


class LicenseExpiredError(ConflictError):
    code = "license_expired"
    title = "The license has expired"


class NotInAcceptanceError(ConflictError):
    code = "not_in_acceptance"
    title = "The license is not awaiting acceptance"


class AcceptanceDeadlinePassedError(ConflictError):
    code = "acceptance_deadline_passed"
    title = "The acceptance deadline has passed"


class ExtensionNotLaterError(ValidationProblem):
    code = "extension_not_later"
    title = "The new deadline must be later than the current one"


class ExtensionTooLongError(ValidationProblem):
    code = "extension_too_long"
    title = "The deadline can move at most 90 days past the original one"
