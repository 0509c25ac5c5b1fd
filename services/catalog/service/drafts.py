"""Creating a product and editing its draft's product-level fields."""

from typing import Any

from services.catalog.db.models import ProductRow
from services.catalog.domain import rules
from services.catalog.domain.model import Draft, ProductDetails, ProductType
from services.catalog.errors import ProductTypeImmutableError
from services.catalog.service.common import ProductState, UseCases, lock_draft, owned, store_draft
from shared.auth import Principal
from shared.clock import utcnow
from shared.ids import new_id


class DraftUseCases(UseCases):
    """A product and its draft, for its owner."""

    async def create_product(
        self, partner: Principal, product_type: ProductType, details: ProductDetails
    ) -> ProductState:
        """Create a product with an empty draft owned by `partner`."""
        now = utcnow()
        draft = Draft(details=details)
        row = ProductRow(
            id=new_id("prd"),
            partner_id=partner.sub,
            product_type=product_type.value,
            draft=draft.model_dump(mode="json"),
            locked_submission_id=None,
            live_revision=None,
            last_revision=0,
            created_at=now,
            updated_at=now,
        )
        async with self.uow() as uow:
            await uow.products.add(row)
        return ProductState(row, draft)

    async def get_draft(self, partner: Principal, product_id: str) -> ProductState:
        """The product's draft, for its owner."""
        async with self.uow(read=True) as uow:
            row = await owned(uow, partner, product_id)
        return ProductState(row, Draft.model_validate(row.draft))

    async def patch_details(
        self, partner: Principal, product_id: str, changes: dict[str, Any]
    ) -> ProductState:
        """Change product-level fields of the draft; `product_type` can't change."""
        async with self.uow() as uow:
            row, draft = await lock_draft(uow, partner, product_id)
            if changes.pop("product_type", row.product_type) != row.product_type:
                raise ProductTypeImmutableError(
                    f"The product type is {row.product_type} and stays so."
                )
            draft = rules.patch_details(draft, changes)
            store_draft(row, draft)
        return ProductState(row, draft)
