"""Dependencies of the catalog's routes: what the lifespan built, through one typed accessor.

They are `async def` even when they await nothing: FastAPI runs a plain `def` dependency in
its thread pool, a thread hand-off on every request.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from services.catalog.service import CatalogService, LiveProductReads
from shared.auth import Principal
from shared.db import Database
from shared.security import caller


@dataclass(frozen=True, slots=True)
class CatalogRuntime:
    """What the catalog's lifespan builds, once per process, kept on `app.state.runtime`."""

    db: Database
    catalog: CatalogService
    live_reads: LiveProductReads


def runtime_of(app: FastAPI) -> CatalogRuntime:
    """The running app's `CatalogRuntime` (set by its lifespan)."""
    runtime: CatalogRuntime = app.state.runtime
    return runtime


async def catalog_service(request: Request) -> CatalogService:
    return runtime_of(request.app).catalog


async def live_product_reads(request: Request) -> LiveProductReads:
    return runtime_of(request.app).live_reads


Catalog = Annotated[CatalogService, Depends(catalog_service)]
LiveReads = Annotated[LiveProductReads, Depends(live_product_reads)]
# The internal routes (freeze, publish, unlock) are review's alone.
FromReview = Annotated[Principal, Depends(caller("review"))]
