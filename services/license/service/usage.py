"""Usage reports: a metric's current total against the instance's entitlement, and the live
add-ons that would cover an overage (from the catalog; the report stands without them)."""

from sqlalchemy.exc import IntegrityError

from services.license.db.models import UsageRow
from services.license.domain import rules
from services.license.domain.usage import Usage
from services.license.service.base import UseCases, visible_instance
from services.license.service.results import Suggestion, UsageReport
from shared.auth import Principal
from shared.clock import utcnow


class UsageReports(UseCases):
    """Report and list an instance's usage."""

    async def report_usage(
        self, principal: Principal, instance_id: str, metric: str, value: int
    ) -> UsageReport:
        """Record a metric's current total and compare it with the instance's entitlement."""
        now = utcnow()
        for attempt in range(2):
            try:
                async with self.uow() as uow:
                    instance = await visible_instance(uow, principal, instance_id)
                    row = await uow.usage.get(instance_id, metric)
                    if row is None:
                        row = UsageRow(instance_id=instance_id, metric=metric)
                        uow.session.add(row)
                    row.value = value
                    row.reported_at = now
                    row.reported_by = principal.sub
                    await uow.session.flush()
                    licenses = await uow.licenses.list_for_instance(instance_id)
                break
            except IntegrityError:
                # Two first reports of one metric at once: the second one updates.
                if attempt:
                    raise
        counted = rules.in_effect([r.terms() for r, _ in licenses], now)
        counted_ids = {t.id for t in counted}
        usage = Usage(used=value, limit=rules.entitlement(counted).get(metric, 0))
        addons = await self.addons.of_product(instance.product_id) if self.addons else None
        suggestions: list[Suggestion] = []
        for addon in addons or []:
            raises = addon.entitlements.get(metric, 0)
            if addon.retired or raises <= 0 or not addon.compatible_with(instance.plan_id):
                continue
            owned = sum(
                r.quantity for r, _ in licenses if r.addon_id == addon.id and r.id in counted_ids
            )
            suggestions.append(Suggestion(addon, raises, owned, usage.packs_to_cover(raises)))
        return UsageReport(
            metric=metric,
            usage=usage,
            reported_at=now,
            suggestions=suggestions,
            suggestions_available=addons is not None,
        )

    async def list_usage(
        self, principal: Principal, instance_id: str
    ) -> list[tuple[UsageRow, Usage]]:
        """The latest value of every metric the instance reported, against its limit now."""
        now = utcnow()
        async with self.uow(read=True) as uow:
            await visible_instance(uow, principal, instance_id)
            rows = await uow.usage.list(instance_id)
            licenses = await uow.licenses.list_for_instance(instance_id)
        limits = rules.entitlement(rules.in_effect([r.terms() for r, _ in licenses], now))
        return [(row, Usage(used=row.value, limit=limits.get(row.metric, 0))) for row in rows]
