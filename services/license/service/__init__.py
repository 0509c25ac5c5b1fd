"""The license service's use cases: one process-wide `LicenseService`, one unit of work each.

Each family of use cases has its module, and `LicenseService` is all of them on one object:

- `minting`: mint, accept and revoke an order's license (orders' internal calls);
- `terms`: renew a license, change a base license's plan (orders' internal calls);
- `licenses`: read a license or an instance's, extend an acceptance deadline;
- `usage`: report and list an instance's usage against its entitlement;
- `publishing`: the key set (JWKS) and the signed revocation list.

Every use case opens its own transaction, `async with self.uow() as uow:` (or
`self.uow(read=True)` when it only reads), applies the rules of `services/license/domain`, and
returns plain values (`results`) for the API to render. The per-process hot reads (an
instance's entitlement bundle, online verification) are `services/license/reads.py`.
"""

from services.license.service.base import DEFAULT_REVOCATIONS_TTL, REVOCATIONS_COUNTER
from services.license.service.licenses import PartnersAndCustomers
from services.license.service.minting import Minting
from services.license.service.publishing import Publishing
from services.license.service.results import LicenseState, Revocations, Suggestion, UsageReport
from services.license.service.terms import TermChanges
from services.license.service.usage import UsageReports

__all__ = [
    "DEFAULT_REVOCATIONS_TTL",
    "REVOCATIONS_COUNTER",
    "LicenseService",
    "LicenseState",
    "Revocations",
    "Suggestion",
    "UsageReport",
]


class LicenseService(Minting, TermChanges, PartnersAndCustomers, UsageReports, Publishing):
    """Every use case of the license service, on one object per process."""
