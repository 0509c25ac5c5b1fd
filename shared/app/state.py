"""The typed state every service app carries: `service_state(app)`.

The factory sets what it builds (the service's name, settings, metrics, the schema head its
migrations lead to); the service's lifespan adds what it builds that shared code uses (the
database, the access-token verifier, the outbox if it has one). Shared code reads all of it
through `service_state`, never through loose `app.state` attributes.
"""

from dataclasses import dataclass

from starlette.applications import Starlette

from shared.auth import AccessTokenVerifier
from shared.db import Database
from shared.observability import Metrics
from shared.outbox import Outbox
from shared.settings import ServiceSettings


@dataclass
class ServiceState:
    """What shared code needs of a running service."""

    name: str
    settings: ServiceSettings
    metrics: Metrics
    # The revision the service's migrations lead to; `/readyz` compares the database's.
    schema_head: str | None
    _db: Database | None = None
    _verifier: AccessTokenVerifier | None = None
    outbox: Outbox | None = None

    def started(
        self, *, db: Database, verifier: AccessTokenVerifier, outbox: Outbox | None = None
    ) -> None:
        """Called by the service's lifespan with what it built, before it yields."""
        self._db = db
        self._verifier = verifier
        self.outbox = outbox

    @property
    def db(self) -> Database:
        """The service's database (from the lifespan)."""
        if self._db is None:
            raise RuntimeError(f"{self.name}: the lifespan has not provided the database")
        return self._db

    @property
    def verifier(self) -> AccessTokenVerifier:
        """The verifier of the access tokens the service accepts (from the lifespan)."""
        if self._verifier is None:
            raise RuntimeError(f"{self.name}: the lifespan has not provided the token verifier")
        return self._verifier

    @property
    def is_started(self) -> bool:
        """Whether the lifespan has provided its part."""
        return self._db is not None and self._verifier is not None


def service_state(app: Starlette) -> ServiceState:
    """The typed state of an app built by `create_service_app`."""
    state = app.state.service_state
    assert isinstance(state, ServiceState), "the app was not built by create_service_app"
    return state
