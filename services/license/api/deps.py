"""Dependencies of the license service's routes.

They are `async def` even when they await nothing: FastAPI runs a plain `def` dependency in
its thread pool, a thread hand-off on every request.
"""

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request

from services.license.service import LicenseReads, LicenseService
from shared.auth import Principal, Role
from shared.db import Database
from shared.security import caller, require


async def license_service(request: Request) -> AsyncIterator[LicenseService]:
    db: Database = request.app.state.db
    state = request.app.state
    async with db.sessionmaker() as session:
        yield LicenseService(
            session,
            ring=state.ring,
            issuer=state.settings.issuer,
            addons=state.addons,
            revocations_ttl=timedelta(seconds=state.settings.revocations_ttl_seconds),
        )


async def license_reads(request: Request) -> LicenseReads:
    reads: LicenseReads = request.app.state.reads
    return reads


Licenses = Annotated[LicenseService, Depends(license_service)]
Reads = Annotated[LicenseReads, Depends(license_reads)]

# Who may read an instance's licenses: its customer and its partner (orders reads them on
# the internal routes).
Reader = Annotated[Principal, Depends(require(Role.customer, Role.partner))]
# The internal routes (mint, accept, revoke, an instance's licenses and entitlement) are
# orders' alone.
FromOrders = Annotated[Principal, Depends(caller("orders"))]
