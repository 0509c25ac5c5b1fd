"""Plans (base specifications) and add-ons (expansion packs) in a product's draft."""

from typing import Any

from services.catalog.db.uow import CatalogUnitOfWork
from services.catalog.domain import rules
from services.catalog.domain.model import Addon, AddonSpec, Configuration, Plan
from services.catalog.errors import UnknownDocumentError
from services.catalog.service.common import UseCases, live_snapshot, lock_draft, store_draft
from shared.auth import Principal
from shared.ids import new_id


class PlanUseCases(UseCases):
    """Adding, changing and deleting the draft's plans and add-ons."""

    async def add_plan(self, partner: Principal, product_id: str, config: Configuration) -> Plan:
        """Add a plan to the draft."""
        plan = Plan(id=new_id("pln"), **config.model_dump())
        async with self.uow() as uow:
            row, draft = await lock_draft(uow, partner, product_id)
            store_draft(row, rules.add_plan(draft, plan))
        return plan

    async def update_plan(
        self, partner: Principal, product_id: str, plan_id: str, changes: dict[str, Any]
    ) -> Plan:
        """Change fields of a plan of the draft (retire it, reprice it...)."""
        async with self.uow() as uow:
            row, draft = await lock_draft(uow, partner, product_id)
            draft, plan = rules.update_plan(draft, plan_id, changes)
            store_draft(row, draft)
        return plan

    async def delete_plan(self, partner: Principal, product_id: str, plan_id: str) -> None:
        """Delete a plan from the draft; a live one can only be retired."""
        async with self.uow() as uow:
            row, draft = await lock_draft(uow, partner, product_id)
            store_draft(row, rules.delete_plan(draft, plan_id, await live_snapshot(uow, row)))

    async def add_addon(self, partner: Principal, product_id: str, spec: AddonSpec) -> Addon:
        """Add an add-on to the draft."""
        addon = Addon(id=new_id("add"), **spec.model_dump())
        async with self.uow() as uow:
            row, draft = await lock_draft(uow, partner, product_id)
            await _check_agreement(uow, partner, addon)
            store_draft(row, rules.add_addon(draft, addon))
        return addon

    async def update_addon(
        self, partner: Principal, product_id: str, addon_id: str, changes: dict[str, Any]
    ) -> Addon:
        """Change fields of an add-on of the draft."""
        async with self.uow() as uow:
            row, draft = await lock_draft(uow, partner, product_id)
            draft, addon = rules.update_addon(draft, addon_id, changes)
            await _check_agreement(uow, partner, addon)
            store_draft(row, draft)
        return addon

    async def delete_addon(self, partner: Principal, product_id: str, addon_id: str) -> None:
        """Delete an add-on from the draft; a live one can only be retired."""
        async with self.uow() as uow:
            row, draft = await lock_draft(uow, partner, product_id)
            store_draft(row, rules.delete_addon(draft, addon_id, await live_snapshot(uow, row)))


async def _check_agreement(uow: CatalogUnitOfWork, partner: Principal, addon: Addon) -> None:
    document_id = addon.agreement.document_id if addon.agreement else None
    if document_id and not await uow.documents.owned_ids(partner.sub, {document_id}):
        raise UnknownDocumentError(f"You have no document {document_id}.")
