"""The catalog's use cases: one process-wide `CatalogService`, each use case its own transaction.

One module per family of use cases, all on the same units of work (`self.uow()`):
`drafts` (products and their drafts), `plans` (plans and add-ons), `revisions` (reading them,
freezing, publishing, unlocking), `documents` and `live` (the public catalog, with the
per-process memory `LiveProductReads`). `common` holds their base, result types and the
helpers that lock and store a draft.
"""

from services.catalog.service.common import (
    CatalogUnits,
    Frozen,
    ProductState,
    Published,
    RevisionState,
)
from services.catalog.service.documents import DocumentUseCases
from services.catalog.service.drafts import DraftUseCases
from services.catalog.service.live import LiveProductReads, LiveProductUseCases
from services.catalog.service.plans import PlanUseCases
from services.catalog.service.revisions import RevisionUseCases

__all__ = [
    "CatalogService",
    "CatalogUnits",
    "Frozen",
    "LiveProductReads",
    "ProductState",
    "Published",
    "RevisionState",
]


class CatalogService(
    DraftUseCases, PlanUseCases, RevisionUseCases, DocumentUseCases, LiveProductUseCases
):
    """Every use case of the catalog; one per process, built in the app's lifespan."""
