"""The per-process hot reads: an instance's entitlement (its signed bundle) and online
verification, with what each process remembers between requests.

These are the requests installed applications make over and over, so they are served by one
object per process that needs no transaction while nothing changed:

- Every change of any license of an instance bumps the instance's `version`. The signed
  entitlement bundle is cached per process against that version, the signing key and the
  next moment a license starts or ends, so a read costs one primary-key lookup (a "head",
  `services/license/db/heads.py`) while nothing changed, and a change made by any replica is
  seen by every replica's next read.
- Online verification remembers which tokens were authentic (signature, shape, issuer) until
  the key folder changes, so a token verified again costs its time check and one primary-key
  lookup, not another Ed25519 check. Revocation, version and time are checked on every call.

A bundle is (re)built in a read-only unit of work on the head reader's session (on SQLite a
read-only engine of its own: see `db/heads.py`), not through the use cases' `UnitsOfWork`.
"""

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from services.license.db.heads import HeadReader
from services.license.db.uow import LicenseUnitOfWork
from services.license.domain import rules
from services.license.domain.access import may_see
from services.license.domain.model import whole_seconds
from services.license.domain.tokens import bundle_claims
from services.license.errors import InstanceNotFoundError
from services.license.keyring import KeyRing
from services.license.verifier import BUNDLE_TOKEN_TYPE, Code, OfflineVerifier, Verdict
from shared.auth import Principal
from shared.clock import utcnow
from shared.ids import new_id

# Authentic license tokens remembered per process (see `AuthenticTokens`): about 3 KiB each
# (the token and its parsed claims), so 3 MiB when full.
AUTHENTIC_TOKENS_SIZE = 1024


@dataclass(frozen=True, slots=True)
class EntitlementBundle:
    """An instance's summed entitlements and the bundle token that carries them."""

    instance_id: str
    product_id: str
    plan_id: str
    entitlements: dict[str, int]
    licenses: list[str]
    token: str
    issued_at: datetime
    expires_at: datetime | None


class BundleCache:
    """Signed entitlement bundles by instance, each valid for one instance version and key.

    Least recently used entries go first once `size` is reached; size 0 disables the cache.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[str, tuple[int, str, datetime | None, EntitlementBundle]] = (
            OrderedDict()
        )

    def get(
        self, instance_id: str, version: int, kid: str, now: datetime
    ) -> EntitlementBundle | None:
        """The cached bundle if it is still the right one at `now`."""
        entry = self._entries.get(instance_id)
        if entry is None:
            return None
        cached_version, cached_kid, stale_at, bundle = entry
        if cached_version != version or cached_kid != kid or (stale_at and now >= stale_at):
            return None
        self._entries.move_to_end(instance_id)
        return bundle

    def put(
        self,
        instance_id: str,
        version: int,
        kid: str,
        stale_at: datetime | None,
        bundle: EntitlementBundle,
    ) -> None:
        """Remember `bundle` for this version and key, until `stale_at` (None: no end)."""
        if self._size <= 0:
            return
        self._entries[instance_id] = (version, kid, stale_at, bundle)
        self._entries.move_to_end(instance_id)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)


class AuthenticTokens:
    """License tokens the ring's verifier found authentic, so a repeated one skips Ed25519.

    An installed application verifies the same token again and again, and the signature check
    is most of what such a request costs. Whether a token is authentic depends only on its
    exact characters and on the verifier's keys and issuer; the ring builds a new verifier
    whenever its key folder changes, and the memory is emptied then. Only authentic verdicts
    are remembered; time, revocation and version are checked on every call, after this. At
    most `size` tokens; the memory is emptied when full.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._verifier: OfflineVerifier | None = None
        self._verdicts: dict[str, Verdict] = {}

    def authenticate(self, verifier: OfflineVerifier, token: str) -> Verdict:
        """`verifier.authenticate(token)`, remembered while `verifier` is the same object."""
        if verifier is not self._verifier:
            self._verifier, self._verdicts = verifier, {}
        verdict = self._verdicts.get(token)
        if verdict is not None:
            return verdict
        verdict = verifier.authenticate(token)
        if verdict.valid and self._size > 0:
            if len(self._verdicts) >= self._size:
                self._verdicts.clear()
            self._verdicts[token] = verdict
        return verdict


class LicenseReads:
    """The hot reads: an instance's entitlement and online verification.

    They need no session while the database's one-row heads answer: one object per process
    serves every request, and opens a session only to (re)build a bundle.
    """

    def __init__(
        self, heads: HeadReader, *, ring: KeyRing, issuer: str, bundles: BundleCache
    ) -> None:
        self.heads = heads
        self.ring = ring
        self.issuer = issuer
        self.bundles = bundles
        self.authentic = AuthenticTokens(AUTHENTIC_TOKENS_SIZE)

    async def entitlement(self, principal: Principal, instance_id: str) -> EntitlementBundle:
        """The instance's summed entitlements and its signed bundle (cached while unchanged)."""
        now = utcnow()
        self.ring.refresh()
        kid = self.ring.current.kid
        head = await self.heads.instance(instance_id)
        if head is None or not may_see(
            principal.role, principal.sub, customer_id=head.customer_id, partner_id=head.partner_id
        ):
            raise InstanceNotFoundError(f"No instance {instance_id} is visible to you.")
        cached = self.bundles.get(instance_id, head.version, kid, now)
        if cached is not None:
            return cached
        async with self.heads.read_session() as session:
            uow = LicenseUnitOfWork(session)
            # The version first, then the licenses: a bundle is never older than its version.
            instance = await uow.instances.get(instance_id)
            if instance is None:
                raise InstanceNotFoundError(f"No instance {instance_id} is visible to you.")
            rows = await uow.licenses.list_for_instance(instance_id)
        terms = [row.terms() for row, _ in rows]
        counted = rules.in_effect(terms, now)
        claims = bundle_claims(
            instance_id=instance_id,
            product_id=instance.product_id,
            licenses=counted,
            issuer=self.issuer,
            issued_at=now,
            bundle_id=new_id("bdl"),
        )
        token, kid = self.ring.sign(claims, BUNDLE_TOKEN_TYPE)
        expiries = [e for t in counted if (e := t.expires_at) is not None]
        bundle = EntitlementBundle(
            instance_id=instance_id,
            product_id=instance.product_id,
            plan_id=instance.plan_id,
            entitlements=claims["entitlements"],
            licenses=[t.id for t in counted],
            token=token,
            issued_at=whole_seconds(now),
            expires_at=min(expiries, default=None),
        )
        self.bundles.put(instance_id, instance.version, kid, rules.next_change(terms, now), bundle)
        return bundle

    async def verify(self, token: str) -> Verdict:
        """The verdict on a license token, with what only the database knows: whether the
        license is revoked, and whether this is its newest version."""
        self.ring.refresh()
        verdict = self.authentic.authenticate(self.ring.verifier, token)
        if verdict.code is Code.UNKNOWN_KEY and self.ring.refresh():
            verdict = self.authentic.authenticate(self.ring.verifier, token)
        if not verdict.valid or verdict.claims is None:
            return verdict
        claims, lic = verdict.claims, verdict.lic
        head = await self.heads.license(lic["id"])
        if head is None or (head.instance_id, head.product_id) != (claims["sub"], claims["aud"]):
            return Verdict(Code.MALFORMED, "No such license was issued.")
        if head.revoked:
            return Verdict(Code.REVOKED, "The license has been revoked.", claims)
        if lic["version"] < head.version:
            return Verdict(
                Code.SUPERSEDED, f"Version {head.version} of the license replaces this one.", claims
            )
        return self.ring.verifier.check_time(claims, utcnow().timestamp())
