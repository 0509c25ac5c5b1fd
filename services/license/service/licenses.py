"""Licenses as customers and partners see them: reading one or an instance's, and the
partner's extension of an acceptance deadline (a new version, valid at once)."""

from datetime import datetime

from services.license.domain import rules
from services.license.domain.access import may_see
from services.license.domain.model import Change, whole_seconds
from services.license.errors import LicenseNotFoundError
from services.license.service.base import UseCases, iso, visible_instance
from services.license.service.results import LicenseState
from shared.auth import Principal
from shared.clock import utcnow
from shared.pagination import PageRequest


class PartnersAndCustomers(UseCases):
    """Read licenses; extend an acceptance deadline."""

    async def extend_acceptance(
        self, partner: Principal, license_id: str, until: datetime, reason: str
    ) -> LicenseState:
        """Move the acceptance deadline later, as a new version valid at once."""
        now = whole_seconds(utcnow())
        async with self.uow() as uow:
            row = await uow.licenses.get(license_id, for_update=True)
            if row is None or row.partner_id != partner.sub:
                raise LicenseNotFoundError(f"You have no license {license_id}.")
            before = row.acceptance_deadline
            terms = rules.extend(row.terms(), until, now)
            assert before is not None
            assert terms.acceptance_deadline is not None
            await self._change(
                uow,
                row,
                terms,
                Change.extended,
                now,
                partner.sub,
                reason=reason,
                details={"from": iso(before), "to": iso(terms.acceptance_deadline)},
            )
            history = await uow.versions.history(row.id)
        return LicenseState(row, history[-1], history)

    async def get(self, principal: Principal, license_id: str) -> LicenseState:
        """A license with its current token and the history of its versions."""
        async with self.uow(read=True) as uow:
            row = await uow.licenses.get(license_id)
            if row is None or not may_see(
                principal.role,
                principal.sub,
                customer_id=row.customer_id,
                partner_id=row.partner_id,
            ):
                raise LicenseNotFoundError(f"No license {license_id} is visible to you.")
            history = await uow.versions.history(row.id)
        return LicenseState(row, history[-1], history)

    async def list_for_instance(
        self, principal: Principal, instance_id: str, page: PageRequest
    ) -> list[LicenseState]:
        """An instance's licenses, oldest (the base) first, `page.limit + 1` of them."""
        async with self.uow(read=True) as uow:
            await visible_instance(uow, principal, instance_id)
            rows = await uow.licenses.list_for_instance(instance_id, page)
        return [LicenseState(row, current) for row, current in rows]
