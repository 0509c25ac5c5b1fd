"""Minting, acceptance and revocation: the internal calls orders makes through its outbox.

- Minting is idempotent per order: the unique `order_id` decides, and a mint that loses a race
  to a concurrent one (IntegrityError) reads the winner's license back. Repeating a mint with
  other terms (instance, product, level, plan or add-on) is 409 `order_license_conflict`.
  An instance has one base license; an add-on license needs it (409 `base_license_missing`),
  not revoked (409 `base_license_revoked`), and the same product, customer and partner
  (409 `instance_mismatch`).
- Revoking a license does not cascade: orders revokes each add-on of a refunded instance
  itself. An add-on counts only under a base license in effect, though, so revoking the base
  empties the instance's entitlement at once.
- Accept and revoke are keyed by order id and idempotent, as orders calls them through its
  outbox with retries. Acceptance may carry the moment the customer accepted: a retry that
  arrives after the deadline still counts if the acceptance itself came in time. Revocation is
  not a new version: the current token stays, and verifies as `REVOKED`.
- Each revocation is numbered in its own transaction (the `revocations` counter), and the signed
  revocation list's `seq` is the highest number it includes. A retried revocation takes no
  number. A license is revoked only here.
"""

from datetime import datetime

from sqlalchemy.exc import IntegrityError

from services.license.client import MintRequest
from services.license.db.models import InstanceRow, LicenseRow
from services.license.db.uow import LicenseUnitOfWork
from services.license.domain import rules
from services.license.domain.model import Change, Level, LicenseTerms, whole_seconds
from services.license.errors import (
    BaseLicenseExistsError,
    BaseLicenseMissingError,
    BaseLicenseRevokedError,
    InstanceMismatchError,
    OrderLicenseConflictError,
)
from services.license.service.base import (
    REVOCATIONS_COUNTER,
    UseCases,
    current_version,
    iso,
    license_for_order,
    touch,
    touch_instance,
)
from services.license.service.results import LicenseState
from shared.clock import utcnow
from shared.ids import new_id


class Minting(UseCases):
    """Mint, accept and revoke an order's license."""

    async def mint(self, request: MintRequest, caller: str) -> tuple[LicenseState, bool]:
        """The order's license, minted on the first call; True if this call minted it."""
        try:
            return await self._mint(request, caller)
        except IntegrityError:
            # A concurrent mint won the race: return its license if it is this order's.
            pass
        async with self.uow() as uow:
            row = await uow.licenses.get_for_order(request.order_id)
            if row is not None:
                _check_same_order(row, request)
                return LicenseState(row, await current_version(uow, row)), False
        return await self._mint(request, caller)

    async def _mint(self, request: MintRequest, caller: str) -> tuple[LicenseState, bool]:
        # Rows keep the full moment, so an instance's licenses list in the order they came.
        moment = utcnow()
        now = whole_seconds(moment)
        async with self.uow() as uow:
            existing = await uow.licenses.get_for_order(request.order_id)
            if existing is not None:
                _check_same_order(existing, request)
                return LicenseState(existing, await current_version(uow, existing)), False
            instance = await uow.instances.get(request.instance_id, for_update=True)
            license_id = new_id("lic")
            if request.level is Level.base:
                if instance is not None:
                    # This very order may have just minted it (a race lost on the instance).
                    base = await uow.licenses.get(instance.base_license_id)
                    if base is not None and base.order_id == request.order_id:
                        _check_same_order(base, request)
                        return LicenseState(base, await current_version(uow, base)), False
                    raise BaseLicenseExistsError(
                        f"Instance {request.instance_id} has the base license "
                        f"{instance.base_license_id}."
                    )
                parent_id = None
                await uow.instances.add(_new_instance(request, license_id, moment))
            else:
                parent_id = await _base_to_extend(uow, instance, request)
                assert instance is not None
                touch(instance, moment)
            terms = _first_terms(request, license_id, parent_id)
            row = _new_row(terms, request, moment)
            await uow.licenses.add(row)
            current = await self._sign(uow, terms, Change.minted, now, caller)
        return LicenseState(row, current), True

    async def accept(
        self, order_id: str, accepted_at: datetime | None, caller: str
    ) -> LicenseState:
        """Move the order's license to its paid mode as a new version. Idempotent."""
        now = whole_seconds(utcnow())
        moment = min(accepted_at, now) if accepted_at is not None else now
        async with self.uow() as uow:
            row = await license_for_order(uow, order_id)
            terms = rules.accept(row.terms(), moment)
            if terms is None:
                return LicenseState(row, await current_version(uow, row))
            current = await self._change(
                uow, row, terms, Change.accepted, now, caller, details={"accepted_at": iso(moment)}
            )
        return LicenseState(row, current)

    async def revoke(self, order_id: str, reason: str, caller: str) -> LicenseState:
        """Revoke the order's license at once. Idempotent; the first reason stays."""
        now = utcnow()
        async with self.uow() as uow:
            row = await license_for_order(uow, order_id)
            if row.revoked_at is None:
                row.revoked_at = now
                row.revocation_reason = reason
                row.updated_at = now
                await touch_instance(uow, row.instance_id, now)
                # Last, so that the one row every revocation waits for is held the least.
                row.revocation_seq = await uow.counters.take(REVOCATIONS_COUNTER)
            current = await current_version(uow, row)
        return LicenseState(row, current)


async def _base_to_extend(
    uow: LicenseUnitOfWork, instance: InstanceRow | None, request: MintRequest
) -> str:
    """The id of the base license an add-on license will name as its parent."""
    if instance is None:
        raise BaseLicenseMissingError(
            f"Instance {request.instance_id} has no base license to extend."
        )
    if (instance.product_id, instance.customer_id, instance.partner_id) != (
        request.product_id,
        request.customer_id,
        request.partner_id,
    ):
        raise InstanceMismatchError(
            f"Instance {request.instance_id} belongs to another product, customer or partner."
        )
    base = await uow.licenses.get(instance.base_license_id)
    assert base is not None
    if base.revoked_at is not None:
        raise BaseLicenseRevokedError(f"The base license {base.id} is revoked.")
    return base.id


def _new_instance(request: MintRequest, license_id: str, now: datetime) -> InstanceRow:
    assert request.plan_id is not None
    return InstanceRow(
        id=request.instance_id,
        product_id=request.product_id,
        plan_id=request.plan_id,
        customer_id=request.customer_id,
        partner_id=request.partner_id,
        base_license_id=license_id,
        version=1,
        created_at=now,
        updated_at=now,
    )


def _first_terms(request: MintRequest, license_id: str, parent_id: str | None) -> LicenseTerms:
    mode, deadline = rules.first_mode(
        valid_from=request.valid_from,
        valid_until=request.valid_until,
        requires_acceptance=request.requires_acceptance,
        acceptance_days=request.acceptance_days,
    )
    return LicenseTerms(
        id=license_id,
        order_id=request.order_id,
        instance_id=request.instance_id,
        product_id=request.product_id,
        level=request.level,
        parent_id=parent_id,
        plan_id=request.plan_id if request.level is Level.base else None,
        addon_id=request.addon_id if request.level is Level.addon else None,
        entitlements=dict(request.entitlements),
        mode=mode,
        valid_from=whole_seconds(request.valid_from),
        valid_until=whole_seconds(request.valid_until) if request.valid_until else None,
        acceptance_deadline=deadline,
        original_acceptance_deadline=deadline,
        accepted_at=None,
        revoked_at=None,
        version=1,
    )


def _new_row(terms: LicenseTerms, request: MintRequest, now: datetime) -> LicenseRow:
    return LicenseRow(
        id=terms.id,
        order_id=terms.order_id,
        instance_id=terms.instance_id,
        level=terms.level.value,
        parent_id=terms.parent_id,
        product_id=terms.product_id,
        plan_id=terms.plan_id,
        addon_id=terms.addon_id,
        customer_id=request.customer_id,
        partner_id=request.partner_id,
        quantity=request.quantity,
        entitlements=terms.entitlements,
        mode=terms.mode.value,
        valid_from=terms.valid_from,
        valid_until=terms.valid_until,
        acceptance_deadline=terms.acceptance_deadline,
        original_acceptance_deadline=terms.original_acceptance_deadline,
        accepted_at=None,
        revoked_at=None,
        revocation_reason=None,
        revocation_seq=None,
        version=terms.version,
        created_at=now,
        updated_at=now,
    )


def _check_same_order(row: LicenseRow, request: MintRequest) -> None:
    wanted = (request.instance_id, request.product_id, request.level.value, request.offer_id)
    held = (row.instance_id, row.product_id, row.level, row.plan_id or row.addon_id)
    if wanted != held:
        raise OrderLicenseConflictError(
            f"Order {request.order_id} already has license {row.id} with other terms."
        )
