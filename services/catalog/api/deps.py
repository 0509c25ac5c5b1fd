"""Dependencies of the catalog's routes."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from services.catalog.service import CatalogService, LiveProductReads
from shared.auth import Principal
from shared.db import Database
from shared.security import caller


async def catalog_service(request: Request) -> AsyncIterator[CatalogService]:
    db: Database = request.app.state.db
    # A GET only reads: on SQLite its transaction then needn't hold or wait for the write lock.
    sessions = db.read_sessionmaker if request.method in ("GET", "HEAD") else db.sessionmaker
    async with sessions() as session:
        yield CatalogService(session, live_reads=request.app.state.live_reads)


async def live_product_reads(request: Request) -> LiveProductReads:
    reads: LiveProductReads = request.app.state.live_reads
    return reads


Catalog = Annotated[CatalogService, Depends(catalog_service)]
LiveReads = Annotated[LiveProductReads, Depends(live_product_reads)]
# The internal routes (freeze, publish, unlock) are review's alone.
FromReview = Annotated[Principal, Depends(caller("review"))]
