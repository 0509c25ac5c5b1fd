"""Renewals and plan changes: the internal calls orders makes for a paid `renewal` or
`change` order (DESIGN.md §5). Each makes a new version of an existing license, valid at once;
older tokens verify as `SUPERSEDED`.

- A renewal moves the license's `valid_until` from `term_end` (the end of the term the order
  was priced for) to the order's `valid_until`; an expired license is active again if that is
  still ahead. If the term no longer ends at `term_end`, another order renewed it first: 409
  `term_mismatch`, so one term is renewed by one order however the calls interleave.
- A plan change gives the base license the target plan and its quota for the same term, and
  the instance takes the plan: its entitlement changes at once. Add-on licenses are untouched.

Both are idempotent per order: the version names its order (unique `order_id`), a repeated
call answers the license as it stands (200) and a repeat with other terms is 409
`order_license_conflict`. The license row is locked first, so concurrent calls with one order
queue on it and the second finds the first's version; the unique key is the backstop.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.license.client import PlanChangeRequest, RenewalRequest
from services.license.db.models import LicenseRow, LicenseVersionRow
from services.license.db.uow import LicenseUnitOfWork
from services.license.domain import rules
from services.license.domain.model import Change, whole_seconds
from services.license.errors import LicenseNotFoundError, OrderLicenseConflictError
from services.license.service.base import UseCases, current_version, iso
from services.license.service.results import LicenseState
from shared.clock import utcnow

# What a new version is made of: the locked license, now, and the unit of work.
Apply = Callable[[LicenseUnitOfWork, LicenseRow, datetime], Awaitable[LicenseVersionRow]]


class TermChanges(UseCases):
    """Renew a license; change a base license's plan."""

    async def renew(
        self, license_id: str, request: RenewalRequest, caller: str
    ) -> tuple[LicenseState, bool]:
        """The license renewed for the order; True if this call renewed it."""
        details = {
            "term_end": iso(whole_seconds(request.term_end)),
            "valid_until": iso(whole_seconds(request.valid_until)),
        }

        async def apply(
            uow: LicenseUnitOfWork, row: LicenseRow, now: datetime
        ) -> LicenseVersionRow:
            terms = rules.renew(row.terms(), request.term_end, request.valid_until)
            return await self._change(
                uow,
                row,
                terms,
                Change.renewal,
                now,
                caller,
                details=details,
                order_id=request.order_id,
            )

        return await self._for_order(license_id, request.order_id, Change.renewal, details, apply)

    async def change_plan(
        self, license_id: str, request: PlanChangeRequest, caller: str
    ) -> tuple[LicenseState, bool]:
        """The base license on the order's plan; True if this call changed it."""
        wanted = {"plan_id": request.plan_id, "entitlements": dict(request.entitlements)}

        async def apply(
            uow: LicenseUnitOfWork, row: LicenseRow, now: datetime
        ) -> LicenseVersionRow:
            before = {"plan_id": row.plan_id, "entitlements": dict(row.entitlements)}
            terms = rules.change_plan(row.terms(), request.plan_id, request.entitlements)
            version = await self._change(
                uow,
                row,
                terms,
                Change.plan_change,
                now,
                caller,
                details={**wanted, "from": before},
                order_id=request.order_id,
            )
            # The instance is locked by `_change`: it takes the plan with the same commit.
            instance = await uow.instances.get(row.instance_id)
            assert instance is not None
            instance.plan_id = request.plan_id
            return version

        return await self._for_order(
            license_id, request.order_id, Change.plan_change, wanted, apply
        )

    async def _for_order(
        self,
        license_id: str,
        order_id: str,
        change: Change,
        wanted: dict[str, Any],
        apply: Apply,
    ) -> tuple[LicenseState, bool]:
        try:
            return await self._once(license_id, order_id, change, wanted, apply)
        except IntegrityError:
            # A concurrent call with this order won the race (the unique key caught it).
            return await self._once(license_id, order_id, change, wanted, apply)

    async def _once(
        self,
        license_id: str,
        order_id: str,
        change: Change,
        wanted: dict[str, Any],
        apply: Apply,
    ) -> tuple[LicenseState, bool]:
        now = whole_seconds(utcnow())
        async with self.uow() as uow:
            row = await uow.licenses.get(license_id, for_update=True)
            if row is None:
                raise LicenseNotFoundError(f"No license {license_id}.")
            done = await uow.versions.get_for_order(order_id)
            if done is not None:
                _check_same(done, license_id, change, wanted)
                return LicenseState(row, await current_version(uow, row)), False
            current = await apply(uow, row, now)
        return LicenseState(row, current), True


def _check_same(
    done: LicenseVersionRow, license_id: str, change: Change, wanted: dict[str, Any]
) -> None:
    recorded = {key: done.details.get(key) for key in wanted}
    if (done.license_id, done.change, recorded) != (license_id, change.value, wanted):
        raise OrderLicenseConflictError(
            f"Order {done.order_id} already made version {done.version} of license "
            f"{done.license_id} with other terms."
        )
