"""`Idempotency-Key` for POSTs that create or move state.

The same key with the same request answers with the first response; the same key with another
request gets 422 `idempotency_key_reused`. A key belongs to one caller: its role and `sub`
together (a customer and a partner may both be called `acme`; their keys never meet).

The record lives in the use case's own transactions (`idempotent_call` and `Attempt`), so a
keyed request costs no transaction of its own. Work with effects outside the database (a
charge, a call to another service) *claims* the key in its first transaction: a duplicate
that arrives meanwhile waits for the first one's response (409
`idempotency_request_in_progress` if it takes too long), and a claim whose worker died is
taken over once its lease runs out (at once if it failed with a 5xx), with the same
`resource_id`, so resumable work picks up where it stopped; such work may also look at a
claim another request holds (`Attempt.claim(wait=False)`) and report what that request
achieved instead of waiting. The first response stored stays. Work whose every effect is in
one transaction only *checks* the key first and records it with its rows: of two concurrent
duplicates, the second finds the first's record and rolls back. `idempotent_response` wraps
work that knows nothing of this: the key is claimed before it runs and completed after, in
transactions of their own.

Three layers, one module each:

- `store`: the `idempotency_records` table and its queries (`IdempotencyStore`), every one
  inside a transaction its caller opened;
- `attempt`: `Attempt`, one try at a keyed request as its use case sees it;
- `edge`: the FastAPI side, the `Idempotency-Key` header and `idempotent_call`, which runs
  the attempts and turns their outcome into the response.
"""

from shared.idempotency.attempt import Attempt
from shared.idempotency.edge import IdempotencyKey, idempotent_call, idempotent_response
from shared.idempotency.store import (
    Claim,
    IdempotencyInProgressError,
    IdempotencyKeyReusedError,
    IdempotencyStore,
    fingerprint,
    idempotency_table,
)

__all__ = [
    "Attempt",
    "Claim",
    "IdempotencyInProgressError",
    "IdempotencyKey",
    "IdempotencyKeyReusedError",
    "IdempotencyStore",
    "fingerprint",
    "idempotency_table",
    "idempotent_call",
    "idempotent_response",
]
