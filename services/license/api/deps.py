"""Dependencies of the license service's routes, and the typed state they read.

The lifespan (`services/license/main.py`) builds one `LicenseRuntime` and keeps it on
`app.state.runtime`; routes reach it only through `runtime_of()`. (The database and the token
verifier that `shared` reads for every service go to `service_state(app).started(...)`.)

They are `async def` even when they await nothing: FastAPI runs a plain `def` dependency in
its thread pool, a thread hand-off on every request.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from services.license.db.heads import HeadReader
from services.license.keyring import KeyRing
from services.license.reads import LicenseReads
from services.license.service import LicenseService
from shared.auth import Principal, Role
from shared.security import caller, require


@dataclass(frozen=True, slots=True)
class LicenseRuntime:
    """What the license process built at start: its use cases, hot reads, keys and heads."""

    service: LicenseService
    reads: LicenseReads
    ring: KeyRing
    heads: HeadReader


def runtime_of(app: FastAPI) -> LicenseRuntime:
    """The license app's runtime (built by its lifespan)."""
    value = app.state.runtime
    assert isinstance(value, LicenseRuntime), "the license lifespan has not run"
    return value


async def license_service(request: Request) -> LicenseService:
    return runtime_of(request.app).service


async def license_reads(request: Request) -> LicenseReads:
    return runtime_of(request.app).reads


Licenses = Annotated[LicenseService, Depends(license_service)]
Reads = Annotated[LicenseReads, Depends(license_reads)]

# Who may read an instance's licenses: its customer and its partner (orders reads them on
# the internal routes).
Reader = Annotated[Principal, Depends(require(Role.customer, Role.partner))]
# The internal routes (mint, accept, revoke, an instance's licenses and entitlement) are
# orders' alone.
FromOrders = Annotated[Principal, Depends(caller("orders"))]
