"""Dependencies of the catalog's routes."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from services.catalog.service import CatalogService
from shared.db import Database


async def catalog_service(request: Request) -> AsyncIterator[CatalogService]:
    db: Database = request.app.state.db
    async with db.sessionmaker() as session:
        yield CatalogService(session)


Catalog = Annotated[CatalogService, Depends(catalog_service)]
