"""The license service's use cases. Each opens its own transaction and applies `domain` rules.

Decisions where DESIGN.md is silent:

- Minting is idempotent per order: the unique `order_id` decides, and a mint that loses a race
  to a concurrent one (IntegrityError) reads the winner's license back. Repeating a mint with
  other terms (instance, product, level, plan or add-on) is 409 `order_license_conflict`.
  An instance has one base license; an add-on license needs it (409 `base_license_missing`),
  not revoked (409 `base_license_revoked`), and the same product, customer and partner
  (409 `instance_mismatch`).
- Revoking a license does not cascade: orders revokes each add-on of a refunded instance
  itself. An add-on counts only under a base license in effect, though, so revoking the base
  empties the instance's entitlement at once.
- Accept and revoke are keyed by order id and idempotent, as orders calls them through its
  outbox with retries. Acceptance may carry the moment the customer accepted: a retry that
  arrives after the deadline still counts if the acceptance itself came in time. Revocation is
  not a new version: the current token stays, and verifies as `REVOKED`.
- Each revocation is numbered in its own transaction (the `revocations` counter), and the signed
  revocation list's `seq` is the highest number it includes; it lasts `revocations_ttl_seconds`
  (`exp`). A retried revocation takes no number. A license is revoked only here.
- Every change of any license of an instance bumps the instance's `version`. The signed
  entitlement bundle is cached per process against that version, the signing key and the
  next moment a license starts or ends, so a read costs one primary-key lookup while nothing
  changed, and a change made by any replica is seen by every replica's next read.
- Online verification remembers which tokens were authentic (signature, shape, issuer) until
  the key folder changes, so a token verified again costs its time check and one primary-key
  lookup, not another Ed25519 check. Revocation, version and time are checked on every call.
- JWKS lists the current key plus every key that signed the current version of a license that
  is neither revoked nor expired. A superseded version's key may drop out: such a token is no
  longer valid anyway. An old bundle whose key dropped out is refreshed by fetching a new one.
"""

import math
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.client import AddonInfo
from services.license.db.heads import HeadReader
from services.license.db.models import InstanceRow, LicenseRow, LicenseVersionRow, UsageRow
from services.license.db.repositories import (
    CounterRepository,
    InstanceRepository,
    LicenseRepository,
    LicenseVersionRepository,
    UsageRepository,
)
from services.license.domain import rules
from services.license.domain.model import Change, Level, LicenseTerms, whole_seconds
from services.license.domain.tokens import bundle_claims, license_claims, revocation_list_claims
from services.license.errors import (
    BaseLicenseExistsError,
    BaseLicenseMissingError,
    BaseLicenseRevokedError,
    InstanceMismatchError,
    InstanceNotFoundError,
    LicenseNotFoundError,
    OrderLicenseConflictError,
)
from services.license.keyring import KeyRing
from services.license.suggestions import LiveAddons
from services.license.verifier import (
    BUNDLE_TOKEN_TYPE,
    LICENSE_TOKEN_TYPE,
    REVOCATION_LIST_TOKEN_TYPE,
    Code,
    OfflineVerifier,
    Verdict,
)
from shared.auth import Principal, Role
from shared.clock import utcnow
from shared.db import Database
from shared.ids import new_id
from shared.pagination import PageRequest


@dataclass(frozen=True, slots=True)
class Mint:
    """What orders asks for when an order is paid: one license for one order."""

    order_id: str
    instance_id: str
    customer_id: str
    partner_id: str
    product_id: str
    level: Level
    plan_id: str | None
    addon_id: str | None
    quantity: int
    entitlements: dict[str, int]
    valid_from: datetime
    valid_until: datetime | None
    requires_acceptance: bool
    acceptance_days: int


@dataclass(frozen=True, slots=True)
class LicenseState:
    """A license row, its current version (with the token) and, when read, its history."""

    row: LicenseRow
    current: LicenseVersionRow
    history: list[LicenseVersionRow] | None = None


@dataclass(frozen=True, slots=True)
class Entitlement:
    """An instance's summed entitlements and the bundle token that carries them."""

    instance_id: str
    product_id: str
    plan_id: str
    entitlements: dict[str, int]
    licenses: list[str]
    token: str
    issued_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A live add-on that raises the reported metric."""

    addon: AddonInfo
    raises: int
    packs_owned: int
    packs_to_cover: int


@dataclass(frozen=True, slots=True)
class UsageReport:
    """A metric's latest value against the instance's limit."""

    metric: str
    used: int
    limit: int
    reported_at: datetime
    suggestions: list[Suggestion]
    suggestions_available: bool

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    @property
    def exceeded(self) -> bool:
        return self.used > self.limit


@dataclass(frozen=True, slots=True)
class Revocations:
    """The signed list of revoked license ids, as of the revocation numbered `seq`."""

    issuer: str
    issued_at: datetime
    expires_at: datetime
    seq: int
    revoked: list[str]
    token: str


# The counter that numbers revocations (`LicenseRow.revocation_seq`).
REVOCATIONS_COUNTER = "revocations"
# How long a revocation list lasts by default (`LicenseSettings.revocations_ttl_seconds`).
DEFAULT_REVOCATIONS_TTL = timedelta(days=1)


# Authentic license tokens remembered per process (see `AuthenticTokens`): about 3 KiB each
# (the token and its parsed claims), so 3 MiB when full.
AUTHENTIC_TOKENS_SIZE = 1024


class BundleCache:
    """Signed entitlement bundles by instance, each valid for one instance version and key.

    Least recently used entries go first once `size` is reached; size 0 disables the cache.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[str, tuple[int, str, datetime | None, Entitlement]] = (
            OrderedDict()
        )

    def get(self, instance_id: str, version: int, kid: str, now: datetime) -> Entitlement | None:
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
        bundle: Entitlement,
    ) -> None:
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


def can_read(principal: Principal, customer_id: str, partner_id: str) -> bool:
    """The owner customer, the owning partner and services may read an instance's licenses."""
    if principal.role is Role.service:
        return True
    if principal.role is Role.customer:
        return principal.sub == customer_id
    if principal.role is Role.partner:
        return principal.sub == partner_id
    return False


class LicenseReads:
    """The hot reads: an instance's entitlement and online verification.

    They need no session while the database's one-row heads answer: one object per process
    serves every request, and opens a session only to (re)build a bundle.
    """

    def __init__(
        self,
        db: Database,
        *,
        ring: KeyRing,
        issuer: str,
        bundles: BundleCache,
        heads: HeadReader,
    ) -> None:
        self.db = db
        self.ring = ring
        self.issuer = issuer
        self.bundles = bundles
        self.heads = heads
        self.authentic = AuthenticTokens(AUTHENTIC_TOKENS_SIZE)

    async def entitlement(self, principal: Principal, instance_id: str) -> Entitlement:
        """The instance's summed entitlements and its signed bundle (cached while unchanged)."""
        now = utcnow()
        self.ring.refresh()
        kid = self.ring.current.kid
        head = await self.heads.instance(instance_id)
        if head is None or not can_read(principal, head.customer_id, head.partner_id):
            raise InstanceNotFoundError(f"No instance {instance_id} is visible to you.")
        cached = self.bundles.get(instance_id, head.version, kid, now)
        if cached is not None:
            return cached
        async with self.heads.read_session() as session:
            # The version first, then the licenses: a bundle is never older than its version.
            instance = await InstanceRepository(session).get(instance_id)
            if instance is None:
                raise InstanceNotFoundError(f"No instance {instance_id} is visible to you.")
            rows = await LicenseRepository(session).list_for_instance(instance_id)
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
        bundle = Entitlement(
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


class LicenseService:
    """Use cases of the license service, one transaction each."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        ring: KeyRing,
        issuer: str,
        addons: LiveAddons | None = None,
        revocations_ttl: timedelta = DEFAULT_REVOCATIONS_TTL,
    ) -> None:
        self.session = session
        self.ring = ring
        self.issuer = issuer
        self.addons = addons
        self.revocations_ttl = revocations_ttl
        self.counters = CounterRepository(session)
        self.instances = InstanceRepository(session)
        self.licenses = LicenseRepository(session)
        self.versions = LicenseVersionRepository(session)
        self.usage = UsageRepository(session)

    # -- the internal endpoints orders calls ---------------------------------------------

    async def mint(self, request: Mint, caller: str) -> tuple[LicenseState, bool]:
        """The order's license, minted on the first call; True if this call minted it."""
        try:
            return await self._mint(request, caller)
        except IntegrityError:
            # A concurrent mint won the race: return its license if it is this order's.
            pass
        async with self.session.begin():
            row = await self.licenses.get_for_order(request.order_id)
            if row is not None:
                _check_same_order(row, request)
                return LicenseState(row, await self._current(row)), False
        return await self._mint(request, caller)

    async def _mint(self, request: Mint, caller: str) -> tuple[LicenseState, bool]:
        # Rows keep the full moment, so an instance's licenses list in the order they came.
        moment = utcnow()
        now = whole_seconds(moment)
        async with self.session.begin():
            existing = await self.licenses.get_for_order(request.order_id)
            if existing is not None:
                _check_same_order(existing, request)
                return LicenseState(existing, await self._current(existing)), False
            instance = await self.instances.get(request.instance_id, for_update=True)
            license_id = new_id("lic")
            parent_id: str | None = None
            if request.level is Level.base:
                if instance is not None:
                    # This very order may have just minted it (a race lost on the instance).
                    base = await self.licenses.get(instance.base_license_id)
                    if base is not None and base.order_id == request.order_id:
                        _check_same_order(base, request)
                        return LicenseState(base, await self._current(base)), False
                    raise BaseLicenseExistsError(
                        f"Instance {request.instance_id} has the base license "
                        f"{instance.base_license_id}."
                    )
                assert request.plan_id is not None
                await self.instances.add(
                    InstanceRow(
                        id=request.instance_id,
                        product_id=request.product_id,
                        plan_id=request.plan_id,
                        customer_id=request.customer_id,
                        partner_id=request.partner_id,
                        base_license_id=license_id,
                        version=1,
                        created_at=moment,
                        updated_at=moment,
                    )
                )
            else:
                if instance is None:
                    raise BaseLicenseMissingError(
                        f"Instance {request.instance_id} has no base license to extend."
                    )
                if (instance.product_id, instance.customer_id, instance.partner_id) != (
                    request.product_id,
                    request.customer_id,
                    request.partner_id,
                ):
                    raise InstanceMismatchError(
                        f"Instance {request.instance_id} belongs to another product, customer "
                        "or partner."
                    )
                base = await self.licenses.get(instance.base_license_id)
                assert base is not None
                if base.revoked_at is not None:
                    raise BaseLicenseRevokedError(f"The base license {base.id} is revoked.")
                parent_id = base.id
                _touch(instance, moment)
            mode, deadline = rules.first_mode(
                valid_from=request.valid_from,
                valid_until=request.valid_until,
                requires_acceptance=request.requires_acceptance,
                acceptance_days=request.acceptance_days,
            )
            terms = LicenseTerms(
                id=license_id,
                order_id=request.order_id,
                instance_id=request.instance_id,
                product_id=request.product_id,
                level=request.level,
                parent_id=parent_id,
                plan_id=request.plan_id if request.level is Level.base else None,
                addon_id=request.addon_id if request.level is Level.addon else None,
                entitlements=dict(request.entitlements),
                mode=mode,
                valid_from=whole_seconds(request.valid_from),
                valid_until=whole_seconds(request.valid_until) if request.valid_until else None,
                acceptance_deadline=deadline,
                original_acceptance_deadline=deadline,
                accepted_at=None,
                revoked_at=None,
                version=1,
            )
            row = _new_row(terms, request, moment)
            await self.licenses.add(row)
            current = await self._sign(terms, Change.minted, now, caller)
        return LicenseState(row, current), True

    async def accept(
        self, order_id: str, accepted_at: datetime | None, caller: str
    ) -> LicenseState:
        """Move the order's license to its paid mode as a new version. Idempotent."""
        now = whole_seconds(utcnow())
        moment = min(accepted_at, now) if accepted_at is not None else now
        async with self.session.begin():
            row = await self._for_order(order_id)
            terms = rules.accept(row.terms(), moment)
            if terms is None:
                return LicenseState(row, await self._current(row))
            current = await self._change(
                row, terms, Change.accepted, now, caller, details={"accepted_at": _iso(moment)}
            )
        return LicenseState(row, current)

    async def revoke(self, order_id: str, reason: str, caller: str) -> LicenseState:
        """Revoke the order's license at once. Idempotent; the first reason stays."""
        now = utcnow()
        async with self.session.begin():
            row = await self._for_order(order_id)
            if row.revoked_at is None:
                row.revoked_at = now
                row.revocation_reason = reason
                row.updated_at = now
                await self._touch_instance(row.instance_id, now)
                # Last, so that the one row every revocation waits for is held the least.
                row.revocation_seq = await self.counters.take(REVOCATIONS_COUNTER)
            current = await self._current(row)
        return LicenseState(row, current)

    # -- partners, customers ---------------------------------------------------------------

    async def extend_acceptance(
        self, partner: Principal, license_id: str, until: datetime, reason: str
    ) -> LicenseState:
        """Move the acceptance deadline later, as a new version valid at once."""
        now = whole_seconds(utcnow())
        async with self.session.begin():
            row = await self.licenses.get(license_id, for_update=True)
            if row is None or row.partner_id != partner.sub:
                raise LicenseNotFoundError(f"You have no license {license_id}.")
            before = row.acceptance_deadline
            terms = rules.extend(row.terms(), until, now)
            assert before is not None
            assert terms.acceptance_deadline is not None
            await self._change(
                row,
                terms,
                Change.extended,
                now,
                partner.sub,
                reason=reason,
                details={"from": _iso(before), "to": _iso(terms.acceptance_deadline)},
            )
            history = await self.versions.history(row.id)
        return LicenseState(row, history[-1], history)

    async def get(self, principal: Principal, license_id: str) -> LicenseState:
        """A license with its current token and the history of its versions."""
        async with self.session.begin():
            row = await self.licenses.get(license_id)
            if row is None or not can_read(principal, row.customer_id, row.partner_id):
                raise LicenseNotFoundError(f"No license {license_id} is visible to you.")
            history = await self.versions.history(row.id)
        return LicenseState(row, history[-1], history)

    async def list_for_instance(
        self, principal: Principal, instance_id: str, page: PageRequest
    ) -> list[LicenseState]:
        """An instance's licenses, oldest (the base) first, `page.limit + 1` of them."""
        async with self.session.begin():
            await self._visible_instance(principal, instance_id)
            rows = await self.licenses.list_for_instance(instance_id, page)
        return [LicenseState(row, current) for row, current in rows]

    # -- usage ---------------------------------------------------------------------------

    async def report_usage(
        self, principal: Principal, instance_id: str, metric: str, value: int
    ) -> UsageReport:
        """Record a metric's current total and compare it with the instance's entitlement."""
        now = utcnow()
        for attempt in range(2):
            try:
                async with self.session.begin():
                    instance = await self._visible_instance(principal, instance_id)
                    row = await self.usage.get(instance_id, metric)
                    if row is None:
                        row = UsageRow(instance_id=instance_id, metric=metric)
                        self.session.add(row)
                    row.value = value
                    row.reported_at = now
                    row.reported_by = principal.sub
                    await self.session.flush()
                    licenses = await self.licenses.list_for_instance(instance_id)
                break
            except IntegrityError:
                # Two first reports of one metric at once: the second one updates.
                if attempt:
                    raise
        counted = rules.in_effect([r.terms() for r, _ in licenses], now)
        counted_ids = {t.id for t in counted}
        limit = rules.entitlement(counted).get(metric, 0)
        addons = await self.addons.of_product(instance.product_id) if self.addons else None
        suggestions: list[Suggestion] = []
        for addon in addons or []:
            raises = addon.entitlements.get(metric, 0)
            if addon.retired or raises <= 0 or not addon.compatible_with(instance.plan_id):
                continue
            owned = sum(
                r.quantity for r, _ in licenses if r.addon_id == addon.id and r.id in counted_ids
            )
            shortfall = max(value - limit, 0)
            suggestions.append(Suggestion(addon, raises, owned, math.ceil(shortfall / raises)))
        return UsageReport(
            metric=metric,
            used=value,
            limit=limit,
            reported_at=now,
            suggestions=suggestions,
            suggestions_available=addons is not None,
        )

    async def list_usage(
        self, principal: Principal, instance_id: str
    ) -> tuple[list[UsageRow], dict[str, int]]:
        """The latest value of every metric the instance reported, and its entitlements."""
        now = utcnow()
        async with self.session.begin():
            await self._visible_instance(principal, instance_id)
            rows = await self.usage.list(instance_id)
            licenses = await self.licenses.list_for_instance(instance_id)
        counted = rules.in_effect([r.terms() for r, _ in licenses], now)
        return rows, rules.entitlement(counted)

    # -- verification ------------------------------------------------------------------

    async def jwks(self) -> list[dict[str, str]]:
        """The public keys verifiers need: the current one and those of live licenses."""
        self.ring.refresh()
        current = self.ring.current.kid
        now = utcnow()
        kids = [current]
        async with self.session.begin():
            for kid in reversed(self.ring.kids):
                if kid != current and await self.versions.signs_live_license(kid, now):
                    kids.append(kid)
        return [self.ring.jwk(kid) for kid in kids]

    async def revocations(self) -> Revocations:
        """Every revoked license id, signed for offline verifiers with its `seq` and `exp`."""
        now = whole_seconds(utcnow())
        expires = now + self.revocations_ttl
        async with self.session.begin():
            revoked, seq = await self.licenses.revoked()
        self.ring.refresh()
        claims = revocation_list_claims(
            issuer=self.issuer, revoked=revoked, seq=seq, issued_at=now, expires_at=expires
        )
        token, _ = self.ring.sign(claims, REVOCATION_LIST_TOKEN_TYPE)
        return Revocations(
            issuer=self.issuer,
            issued_at=now,
            expires_at=expires,
            seq=seq,
            revoked=revoked,
            token=token,
        )

    # -- helpers -------------------------------------------------------------------------

    async def _sign(
        self,
        terms: LicenseTerms,
        change: Change,
        now: datetime,
        caller: str,
        *,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> LicenseVersionRow:
        self.ring.refresh()
        claims = license_claims(terms, issuer=self.issuer, issued_at=now)
        token, kid = self.ring.sign(claims, LICENSE_TOKEN_TYPE)
        row = LicenseVersionRow(
            license_id=terms.id,
            version=terms.version,
            change=change.value,
            kid=kid,
            token=token,
            issued_at=now,
            expires_at=terms.expires_at,
            reason=reason,
            details=details or {},
            recorded_by=caller,
        )
        await self.versions.add(row)
        return row

    async def _change(
        self,
        row: LicenseRow,
        terms: LicenseTerms,
        change: Change,
        now: datetime,
        caller: str,
        *,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> LicenseVersionRow:
        row.apply(terms, now)
        await self._touch_instance(row.instance_id, now)
        return await self._sign(terms, change, now, caller, reason=reason, details=details)

    async def _current(self, row: LicenseRow) -> LicenseVersionRow:
        current = await self.versions.get(row.id, row.version)
        assert current is not None
        return current

    async def _for_order(self, order_id: str) -> LicenseRow:
        row = await self.licenses.get_for_order(order_id, for_update=True)
        if row is None:
            raise LicenseNotFoundError(f"Order {order_id} has no license.")
        return row

    async def _visible_instance(self, principal: Principal, instance_id: str) -> InstanceRow:
        instance = await self.instances.get(instance_id)
        if instance is None or not can_read(principal, instance.customer_id, instance.partner_id):
            raise InstanceNotFoundError(f"No instance {instance_id} is visible to you.")
        return instance

    async def _touch_instance(self, instance_id: str, now: datetime) -> None:
        instance = await self.instances.get(instance_id, for_update=True)
        assert instance is not None
        _touch(instance, now)


def _touch(instance: InstanceRow, now: datetime) -> None:
    instance.version += 1
    instance.updated_at = now


def _new_row(terms: LicenseTerms, request: Mint, now: datetime) -> LicenseRow:
    return LicenseRow(
        id=terms.id,
        order_id=terms.order_id,
        instance_id=terms.instance_id,
        level=terms.level.value,
        parent_id=terms.parent_id,
        product_id=terms.product_id,
        plan_id=terms.plan_id,
        addon_id=terms.addon_id,
        customer_id=request.customer_id,
        partner_id=request.partner_id,
        quantity=request.quantity,
        entitlements=terms.entitlements,
        mode=terms.mode.value,
        valid_from=terms.valid_from,
        valid_until=terms.valid_until,
        acceptance_deadline=terms.acceptance_deadline,
        original_acceptance_deadline=terms.original_acceptance_deadline,
        accepted_at=None,
        revoked_at=None,
        revocation_reason=None,
        revocation_seq=None,
        version=terms.version,
        created_at=now,
        updated_at=now,
    )


def _check_same_order(row: LicenseRow, request: Mint) -> None:
    wanted = (
        request.instance_id,
        request.product_id,
        request.level.value,
        request.plan_id if request.level is Level.base else request.addon_id,
    )
    held = (row.instance_id, row.product_id, row.level, row.plan_id or row.addon_id)
    if wanted != held:
        raise OrderLicenseConflictError(
            f"Order {request.order_id} already has license {row.id} with other terms."
        )


def _iso(moment: datetime) -> str:
    return moment.isoformat()
