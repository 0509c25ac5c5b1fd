"""The problem codes callers branch on are constants in the provider's client.py, and they are
the codes the provider's errors answer with (a renamed code breaks here, not in production)."""

from services.catalog import client as catalog_client
from services.catalog import errors as catalog_errors
from services.license import client as license_client
from services.license import errors as license_errors
from shared.problems import ProblemError


def test_licenses_codes_are_its_clients_constants() -> None:
    pairs = [
        (license_client.LICENSE_NOT_FOUND, license_errors.LicenseNotFoundError),
        (license_client.INSTANCE_NOT_FOUND, license_errors.InstanceNotFoundError),
        (license_client.BASE_LICENSE_MISSING, license_errors.BaseLicenseMissingError),
        (license_client.BASE_LICENSE_REVOKED, license_errors.BaseLicenseRevokedError),
        (license_client.BASE_LICENSE_EXISTS, license_errors.BaseLicenseExistsError),
        (license_client.INSTANCE_MISMATCH, license_errors.InstanceMismatchError),
        (license_client.ORDER_LICENSE_CONFLICT, license_errors.OrderLicenseConflictError),
        (license_client.LICENSE_REVOKED, license_errors.LicenseRevokedError),
        (
            license_client.ACCEPTANCE_DEADLINE_PASSED,
            license_errors.AcceptanceDeadlinePassedError,
        ),
    ]

    for code, error in pairs:
        assert error.code == code
    assert license_client.BASE_LICENSE_REVOKED == "base_license_revoked"
    assert license_client.LICENSE_NOT_FOUND == "license_not_found"


def test_the_catalogs_codes_are_its_clients_constants() -> None:
    answered = {
        getattr(error, "code", None)
        for error in vars(catalog_errors).values()
        if isinstance(error, type) and issubclass(error, ProblemError)
    }
    constants = [
        catalog_client.PRODUCT_NOT_FOUND,
        catalog_client.REVISION_NOT_FOUND,
        catalog_client.REVISION_NOT_PUBLISHABLE,
        catalog_client.DRAFT_LOCKED,
        catalog_client.DRAFT_INVALID,
    ]

    assert set(constants) <= answered
    assert catalog_client.DRAFT_LOCKED == "draft_locked"
