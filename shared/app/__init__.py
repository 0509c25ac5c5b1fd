"""The common shape of every service's FastAPI app.

`create_service_app` wires what all four services share: problem+json rendering, request ids,
JSON logs, metrics, a request-body limit, CORS, health and readiness probes, and API docs
served from local files (no CDN: the machines that run this may have no internet).

- `factory`: `create_service_app`;
- `state`: `ServiceState`, what shared code reads of a running service (`service_state(app)`);
- `handlers`: every error a request can end in, answered as problem+json (a database that
  can't be reached is a 503 `unavailable` with `Retry-After`, any other error a 500);
- `middleware`: `RequestGuardMiddleware` (body size limits, NUL characters);
- `operations`: `/healthz`, `/readyz`, `/metrics`;
- `openapi`: the generated document, rewritten to document problems as they are answered.
"""

from shared.app.factory import Lifespan, create_service_app
from shared.app.handlers import database_unavailable_problem, problem_response
from shared.app.state import ServiceState, service_state

__all__ = [
    "Lifespan",
    "ServiceState",
    "create_service_app",
    "database_unavailable_problem",
    "problem_response",
    "service_state",
]
