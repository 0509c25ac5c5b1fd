"""What every family of license use cases shares: the units of work, the key ring, and the
steps that sign and store a new version of a license."""

from datetime import datetime, timedelta
from typing import Any

from services.license.db.models import InstanceRow, LicenseRow, LicenseVersionRow
from services.license.db.uow import LicenseUnitOfWork
from services.license.domain.access import may_see
from services.license.domain.model import Change, LicenseTerms
from services.license.domain.tokens import license_claims
from services.license.errors import InstanceNotFoundError, LicenseNotFoundError
from services.license.keyring import KeyRing
from services.license.suggestions import LiveAddons
from services.license.verifier import LICENSE_TOKEN_TYPE
from shared.auth import Principal
from shared.uow import UnitsOfWork

# The counter that numbers revocations (`LicenseRow.revocation_seq`).
REVOCATIONS_COUNTER = "revocations"
# How long a revocation list lasts by default (`LicenseSettings.revocations_ttl_seconds`).
DEFAULT_REVOCATIONS_TTL = timedelta(days=1)


class UseCases:
    """The state every use case reads: one object per process, one unit of work per call."""

    def __init__(
        self,
        uow: UnitsOfWork[LicenseUnitOfWork],
        *,
        ring: KeyRing,
        issuer: str,
        addons: LiveAddons | None = None,
        revocations_ttl: timedelta = DEFAULT_REVOCATIONS_TTL,
    ) -> None:
        self.uow = uow
        self.ring = ring
        self.issuer = issuer
        self.addons = addons
        self.revocations_ttl = revocations_ttl

    async def _sign(
        self,
        uow: LicenseUnitOfWork,
        terms: LicenseTerms,
        change: Change,
        now: datetime,
        caller: str,
        *,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
        order_id: str | None = None,
    ) -> LicenseVersionRow:
        """Sign `terms` as a new version and store it in `uow` (made for `order_id`, if any)."""
        self.ring.refresh()
        claims = license_claims(terms, issuer=self.issuer, issued_at=now)
        token, kid = self.ring.sign(claims, LICENSE_TOKEN_TYPE)
        row = LicenseVersionRow(
            license_id=terms.id,
            version=terms.version,
            change=change.value,
            kid=kid,
            token=token,
            issued_at=now,
            expires_at=terms.expires_at,
            reason=reason,
            details=details or {},
            recorded_by=caller,
            order_id=order_id,
        )
        await uow.versions.add(row)
        return row

    async def _change(
        self,
        uow: LicenseUnitOfWork,
        row: LicenseRow,
        terms: LicenseTerms,
        change: Change,
        now: datetime,
        caller: str,
        *,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
        order_id: str | None = None,
    ) -> LicenseVersionRow:
        """Apply the next version `terms` to `row`, bump its instance, sign and store it."""
        row.apply(terms, now)
        await touch_instance(uow, row.instance_id, now)
        return await self._sign(
            uow, terms, change, now, caller, reason=reason, details=details, order_id=order_id
        )


async def current_version(uow: LicenseUnitOfWork, row: LicenseRow) -> LicenseVersionRow:
    """The license's current version (its token)."""
    current = await uow.versions.get(row.id, row.version)
    assert current is not None
    return current


async def license_for_order(uow: LicenseUnitOfWork, order_id: str) -> LicenseRow:
    """The order's license, locked for a change; `LicenseNotFoundError` without one."""
    row = await uow.licenses.get_for_order(order_id, for_update=True)
    if row is None:
        raise LicenseNotFoundError(f"Order {order_id} has no license.")
    return row


async def visible_instance(
    uow: LicenseUnitOfWork, principal: Principal, instance_id: str
) -> InstanceRow:
    """The instance if `principal` may see it; `InstanceNotFoundError` otherwise."""
    instance = await uow.instances.get(instance_id)
    if instance is None or not may_see(
        principal.role,
        principal.sub,
        customer_id=instance.customer_id,
        partner_id=instance.partner_id,
    ):
        raise InstanceNotFoundError(f"No instance {instance_id} is visible to you.")
    return instance


def touch(instance: InstanceRow, now: datetime) -> None:
    """Bump the instance's version: every cached bundle of it is stale from now on."""
    instance.version += 1
    instance.updated_at = now


async def touch_instance(uow: LicenseUnitOfWork, instance_id: str, now: datetime) -> None:
    """Lock the instance and bump its version (see `touch`)."""
    instance = await uow.instances.get(instance_id, for_update=True)
    assert instance is not None
    touch(instance, now)


def iso(moment: datetime) -> str:
    """A moment as recorded in a version's `details`."""
    return moment.isoformat()
