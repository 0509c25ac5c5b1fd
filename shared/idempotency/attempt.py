"""`Attempt`: one try at a keyed request, as its use case sees it.

The use case calls its hooks inside its own transactions; `Replay` and `Busy`, raised from
them, tell `idempotent_call` to answer the stored response or to try again shortly.
"""

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.idempotency.store import Claim, IdempotencyStore

T = TypeVar("T")


class Replay(Exception):
    """Raised inside the work: the key already has its response, which is answered again."""

    def __init__(self, claim: Claim) -> None:
        super().__init__("replay")
        self.claim = claim


class Busy(Exception):
    """Raised inside the work: another request holds the key; wait and try again."""


class Attempt(Generic[T]):
    """One try at an idempotent request, as its use case sees it.

    The use case puts the idempotency record into its own transactions instead of two of
    their own: `claim` (or `check`) in the first, `complete` in the last. `claim` is for work
    with effects outside the database (a charge, a call to another service), which must
    never run twice at once: the claim is committed with the first transaction and keeps
    concurrent duplicates waiting. `check` is for work whose every effect is in the
    transaction that completes it: nothing is written until `complete`, and of two
    concurrent duplicates the second one's `complete` finds the first's record and rolls
    its transaction back. Without a key the hooks only keep the response.
    """

    def __init__(
        self,
        store: IdempotencyStore | None,
        *,
        caller: Principal,
        key: str | None,
        fingerprint: str,
        resource_id: str,
        render: Callable[[T], BaseModel],
        status_code: int | Callable[[Any], int],
    ) -> None:
        self._store = store
        self._caller = caller
        self._key = key
        self._fingerprint = fingerprint
        self._render = render
        self._status_code = status_code
        self.resource_id = resource_id
        self.claimed = False
        self.taken_over = False
        self.held = False
        self.response: tuple[int, Any] | None = None

    @property
    def keyed(self) -> bool:
        """Whether the request came with an `Idempotency-Key`."""
        return self._store is not None and self._key is not None

    @property
    def resuming(self) -> bool:
        """Whether an earlier request with this key began the work (`resource_id` is its):
        it holds the key now (`held`), or it died and this one took the key over."""
        return self.held or self.taken_over

    async def claim(self, session: AsyncSession, *, wait: bool = True) -> None:
        """First thing in the work's first transaction: claim the key (see the class).

        With `wait=False`, a key another request holds does not send this one waiting at
        once: `held` is set and `resource_id` is the holder's, for work that can report
        what the holder achieved (say, its payment settled meanwhile); such work calls
        `wait` when it can't, and never does the work itself while `held`.
        """
        if self._store is None or self._key is None:
            return
        claim = await self._store.claim(
            session, self._caller, self._key, self._fingerprint, self.resource_id
        )
        if claim.replay:
            raise Replay(claim)
        if claim.held and wait:
            raise Busy
        # A dead claim taken over keeps its resource id: the work resumes what it began.
        self.held = claim.held
        self.taken_over = not claim.held and claim.resource_id != self.resource_id
        self.resource_id = claim.resource_id
        self.claimed = not claim.held

    def wait(self) -> None:
        """Give up this try while another request holds the key: `idempotent_call` tries
        again shortly (and answers 409 `idempotency_request_in_progress` past its wait)."""
        raise Busy

    async def rebind(self, session: AsyncSession, resource_id: str) -> None:
        """In the work's first transaction: the work goes on with an existing resource
        instead of `resource_id` (see `IdempotencyStore.rebind`)."""
        if self._store is not None and self._key is not None and self.claimed:
            await self._store.rebind(session, self._caller, self._key, resource_id)
        self.resource_id = resource_id

    async def lock(self, session: AsyncSession) -> None:
        """First thing in a transaction that locks the work's rows and then completes the
        key: lock the key's record before them. `claim` locks the record first and the
        work's rows after it; a last transaction that took them the other way round could
        deadlock with a retry's first one."""
        if self._store is not None and self._key is not None and (self.claimed or self.held):
            await self._store.lock(session, self._caller, self._key)

    async def check(self, session: AsyncSession) -> None:
        """First thing in the work's first transaction: replay a stored response, if any."""
        if self._store is None or self._key is None:
            return
        claim = await self._store.lookup(session, self._caller, self._key, self._fingerprint)
        if claim is None:
            return
        if not claim.replay:
            raise Busy
        raise Replay(claim)

    async def complete(self, session: AsyncSession, result: T) -> None:
        """In the work's last transaction: store the response that every retry gets.

        If another request stored the key's response first, this transaction is rolled
        back and that response is answered instead.
        """
        status, body = self.respond(result)
        if self._store is None or self._key is None:
            return
        stored = await self._store.record(
            session,
            self._caller,
            self._key,
            fingerprint=self._fingerprint,
            resource_id=self.resource_id,
            status_code=status,
            response=body,
            claimed=self.claimed or self.held,
        )
        if not stored:
            raise Busy  # a concurrent duplicate completed first: roll this one back

    def respond(self, result: T) -> tuple[int, Any]:
        """The response to `result`: its status code and JSON body (kept for the answer)."""
        model = self._render(result)
        status = self._status_code(model) if callable(self._status_code) else self._status_code
        self.response = (status, model.model_dump(mode="json"))
        return self.response

    async def release(self) -> None:
        """Let a retry take this attempt's unfinished claim over at once (its work failed in
        a way worth retrying)."""
        if self._store is not None and self._key is not None and self.claimed:
            async with self._store.sessionmaker() as session, session.begin():
                await self._store.release(
                    session, self._caller, self._key, resource_id=self.resource_id
                )
