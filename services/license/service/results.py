"""What the license use cases return: plain values the API renders (never the API models)."""

from dataclasses import dataclass
from datetime import datetime

from services.catalog.client import AddonInfo
from services.license.db.models import LicenseRow, LicenseVersionRow
from services.license.domain.usage import Usage


@dataclass(frozen=True, slots=True)
class LicenseState:
    """A license row, its current version (with the token) and, when read, its history."""

    row: LicenseRow
    current: LicenseVersionRow
    history: list[LicenseVersionRow] | None = None


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A live add-on that raises the reported metric."""

    addon: AddonInfo
    raises: int
    packs_owned: int
    packs_to_cover: int


@dataclass(frozen=True, slots=True)
class UsageReport:
    """A metric's latest value against the instance's limit, and add-ons that would raise it."""

    metric: str
    usage: Usage
    reported_at: datetime
    suggestions: list[Suggestion]
    suggestions_available: bool


@dataclass(frozen=True, slots=True)
class Revocations:
    """The signed list of revoked license ids, as of the revocation numbered `seq`."""

    issuer: str
    issued_at: datetime
    expires_at: datetime
    seq: int
    revoked: list[str]
    token: str
