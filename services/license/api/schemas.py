"""Request and response bodies of the license API (distinct from the tables and the domain)."""

from datetime import UTC, datetime
from typing import Annotated, Any, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from services.license.api import examples
from services.license.client import (
    MAX_ENTITLEMENT,
    MAX_QUANTITY,
    Dimension,
    ObjectId,
    Reason,
    Subject,
)
from services.license.db.models import LicenseVersionRow, UsageRow
from services.license.domain.model import Change, Level, Mode, Status
from services.license.service import (
    Entitlement,
    LicenseState,
    Mint,
    Revocations,
    Suggestion,
    UsageReport,
)
from services.license.verifier import Code, Verdict
from shared.clock import utcnow

MAX_TOKEN_CHARS = 16_384

# Times a license may name: far enough from the ends of the calendar to add 90 days and more.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MintRequest(Request):
    """The license of one paid order, as orders computed it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "order_id": "ord_2m4kq7x9c3v5b8n1z6l0p4w2",
                    "instance_id": "ins_7h2k9d4f1s6g3j8l5q0w2e4r",
                    "customer_id": "globex",
                    "partner_id": "acme",
                    "product_id": "prd_x3nq4c5o2b7lzj6v8d1ke9fa",
                    "level": "addon",
                    "addon_id": "add_5t7y9u1i3o5p7a9s1d3f5g7h",
                    "quantity": 2,
                    "entitlements": {"devices": 200},
                    "valid_from": "2026-11-26T08:00:00Z",
                    "valid_until": "2026-12-26T08:00:00Z",
                    "requires_acceptance": True,
                    "acceptance_days": 14,
                }
            ]
        },
    )

    order_id: ObjectId
    instance_id: ObjectId
    customer_id: Subject
    partner_id: Subject
    product_id: ObjectId
    level: Level
    plan_id: ObjectId | None = Field(default=None, description="A base license's plan.")
    addon_id: ObjectId | None = Field(default=None, description="An add-on license's add-on.")
    quantity: int = Field(
        default=1, ge=1, le=MAX_QUANTITY, description="Packs; always 1 for a base."
    )
    entitlements: dict[Dimension, Annotated[int, Field(ge=0, le=MAX_ENTITLEMENT)]] = Field(
        max_length=20,
        description="The plan's quota, or the add-on's increments already times `quantity`.",
    )
    valid_from: AwareDatetime
    valid_until: AwareDatetime | None = Field(
        description="End of the paid term; null for a one-time purchase (permanent)."
    )
    requires_acceptance: bool = False
    acceptance_days: int = Field(default=7, ge=1, le=90)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.level is Level.base:
            if self.plan_id is None or self.addon_id is not None:
                raise ValueError("a base license names a `plan_id` and no `addon_id`")
            if self.quantity != 1:
                raise ValueError("a base license has quantity 1")
        elif self.addon_id is None or self.plan_id is not None:
            raise ValueError("an add-on license names an `addon_id` and no `plan_id`")
        if self.valid_until is not None and self.valid_until <= self.valid_from:
            raise ValueError("`valid_until` must be after `valid_from`")
        for moment in (self.valid_from, self.valid_until):
            _check_range(moment)
        return self

    def mint(self) -> Mint:
        return Mint(**self.model_dump())


class AcceptRequest(Request):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"accepted_at": "2026-12-01T09:30:00Z"}]}
    )

    accepted_at: AwareDatetime | None = Field(
        default=None,
        description="When the customer accepted (default: now). An acceptance made before "
        "the deadline counts even if it is delivered after it.",
    )

    @model_validator(mode="after")
    def _in_range(self) -> Self:
        _check_range(self.accepted_at)
        return self


class ExtensionRequest(Request):
    """A later acceptance deadline and why."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"until": "2026-12-24T08:00:00Z", "reason": "Customer's test rig is delayed."}
            ]
        },
    )

    until: AwareDatetime = Field(
        description="The new deadline: later than the current one, at most 90 days past the "
        "original one."
    )
    reason: Reason

    @model_validator(mode="after")
    def _in_range(self) -> Self:
        _check_range(self.until)
        return self


class VerifyRequest(Request):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"token": examples.LICENSE["token"]}]}
    )

    token: str = Field(max_length=MAX_TOKEN_CHARS, description="A license token (compact JWS).")


class UsageRequest(Request):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"metric": "devices", "value": 130}]}
    )

    metric: Dimension
    value: int = Field(ge=0, le=MAX_ENTITLEMENT, description="The current total in use.")


class LicenseVersionView(BaseModel):
    version: int
    change: Change
    kid: str = Field(description="The key that signed this version's token.")
    issued_at: datetime
    expires_at: datetime | None
    reason: str | None
    details: dict[str, Any]

    @classmethod
    def of(cls, row: LicenseVersionRow) -> "LicenseVersionView":
        return cls(
            version=row.version,
            change=Change(row.change),
            kid=row.kid,
            issued_at=row.issued_at,
            expires_at=row.expires_at,
            reason=row.reason,
            details=row.details,
        )


class LicenseView(BaseModel):
    """A license as of its current version, with that version's token."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.LICENSE]})

    id: str
    order_id: str
    instance_id: str
    product_id: str
    customer_id: str
    partner_id: str
    level: Level
    parent_id: str | None = Field(description="An add-on license's base license.")
    plan_id: str | None
    addon_id: str | None
    quantity: int
    entitlements: dict[str, int]
    mode: Mode
    status: Status = Field(description="Derived at read time.")
    valid_from: datetime
    valid_until: datetime | None
    acceptance_deadline: datetime | None
    original_acceptance_deadline: datetime | None
    accepted_at: datetime | None
    revoked_at: datetime | None
    revocation_reason: str | None
    version: int
    expires_at: datetime | None = Field(description="The token's `exp`; null if permanent.")
    token: str = Field(description="The signed token of the current version (license+jwt).")
    created_at: datetime
    updated_at: datetime
    history: list[LicenseVersionView] | None = Field(
        default=None, description="Every version, oldest first (on single reads)."
    )

    @classmethod
    def of(cls, state: LicenseState, now: datetime | None = None) -> "LicenseView":
        row = state.row
        terms = row.terms()
        return cls(
            id=row.id,
            order_id=row.order_id,
            instance_id=row.instance_id,
            product_id=row.product_id,
            customer_id=row.customer_id,
            partner_id=row.partner_id,
            level=terms.level,
            parent_id=row.parent_id,
            plan_id=row.plan_id,
            addon_id=row.addon_id,
            quantity=row.quantity,
            entitlements=row.entitlements,
            mode=terms.mode,
            status=terms.status_at(now or utcnow()),
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            acceptance_deadline=row.acceptance_deadline,
            original_acceptance_deadline=row.original_acceptance_deadline,
            accepted_at=row.accepted_at,
            revoked_at=row.revoked_at,
            revocation_reason=row.revocation_reason,
            version=row.version,
            expires_at=terms.expires_at,
            token=state.current.token,
            created_at=row.created_at,
            updated_at=row.updated_at,
            history=[LicenseVersionView.of(v) for v in state.history]
            if state.history is not None
            else None,
        )


class EntitlementView(BaseModel):
    """What an installed application fetches: its entitlements and one signed bundle."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.ENTITLEMENT]})

    instance_id: str
    product_id: str
    plan_id: str
    entitlements: dict[str, int] = Field(
        description="The base plan's quota plus the increments of the valid add-on licenses."
    )
    licenses: list[str] = Field(description="The licenses counted, the base first.")
    token: str = Field(description="The bundle (license-bundle+jwt) holding those licenses.")
    issued_at: datetime
    expires_at: datetime | None = Field(description="The bundle's `exp`: its first license's.")

    @classmethod
    def of(cls, entitlement: Entitlement) -> "EntitlementView":
        return cls(
            instance_id=entitlement.instance_id,
            product_id=entitlement.product_id,
            plan_id=entitlement.plan_id,
            entitlements=entitlement.entitlements,
            licenses=entitlement.licenses,
            token=entitlement.token,
            issued_at=entitlement.issued_at,
            expires_at=entitlement.expires_at,
        )


class TokenLicense(BaseModel):
    """The authenticated claims of a verified license token."""

    id: str
    instance_id: str
    product_id: str
    level: str
    parent: str | None
    order: str | None
    plan: str | None
    addon: str | None
    entitlements: dict[str, int]
    mode: str
    acceptance_deadline: datetime | None
    version: int
    issued_at: datetime
    not_before: datetime
    expires_at: datetime | None

    @classmethod
    def of(cls, claims: dict[str, Any]) -> "TokenLicense":
        lic = claims["lic"]
        return cls(
            id=lic["id"],
            instance_id=claims["sub"],
            product_id=claims["aud"],
            level=lic["level"],
            parent=lic.get("parent"),
            order=lic.get("order"),
            plan=lic.get("plan"),
            addon=lic.get("addon"),
            entitlements=lic["entitlements"],
            mode=lic["mode"],
            acceptance_deadline=_moment(lic.get("acceptance_deadline")),
            version=lic["version"],
            issued_at=_moment(claims["iat"]) or utcnow(),
            not_before=_moment(claims["nbf"]) or utcnow(),
            expires_at=_moment(claims.get("exp")),
        )


class VerifyResult(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.VERIFY_RESULT]})

    valid: bool
    code: Code = Field(
        description="VALID, EXPIRED, REVOKED, SUPERSEDED, BAD_SIGNATURE, … (never STALE: that "
        "one is offline verifiers' answer to a revocation list past its `exp`)"
    )
    detail: str
    license: TokenLicense | None = Field(
        description="The token's license claims, once its signature is checked."
    )

    @classmethod
    def of(cls, verdict: Verdict) -> "VerifyResult":
        claims = dict(verdict.claims) if verdict.claims is not None and verdict.lic else None
        return cls(
            valid=verdict.valid,
            code=verdict.code,
            detail=verdict.detail,
            license=TokenLicense.of(claims) if claims else None,
        )


class JWK(BaseModel):
    kty: str = Field(examples=["OKP"])
    crv: str = Field(examples=["Ed25519"])
    x: str
    kid: str
    alg: str = Field(examples=["EdDSA"])
    use: str = Field(examples=["sig"])


class JWKS(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.JWKS]})

    keys: list[JWK]


class RevocationListView(BaseModel):
    """The revoked license ids, plainly and as a signed token (revocation-list+jwt)."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.REVOCATIONS]})

    issuer: str
    issued_at: datetime
    expires_at: datetime = Field(
        description="The token's `exp`: after it, offline verifiers call the list stale "
        "(`LICENSE_REVOCATIONS_TTL_SECONDS` after `issued_at`)."
    )
    seq: int = Field(
        ge=0,
        description="The token's `seq`: the number of the newest revocation the list includes. "
        "It grows with every revocation; a verifier refuses a list below one it has seen.",
    )
    revoked: list[str]
    token: str = Field(description="Offline verifiers trust this, not the plain fields.")

    @classmethod
    def of(cls, revocations: Revocations) -> "RevocationListView":
        return cls(
            issuer=revocations.issuer,
            issued_at=revocations.issued_at,
            expires_at=revocations.expires_at,
            seq=revocations.seq,
            revoked=revocations.revoked,
            token=revocations.token,
        )


class SuggestionView(BaseModel):
    """A live add-on that raises the metric: what to offer the customer."""

    addon_id: str
    name: str
    raises: int = Field(description="How much one pack adds to the metric.")
    entitlements: dict[str, int]
    subscription_method: str
    cycles: list[dict[str, Any]] | None
    price: dict[str, Any] | None
    max_per_instance: int
    packs_owned: int = Field(description="Packs of it the instance has in effect.")
    packs_to_cover: int = Field(description="Packs needed to cover the overage (0 if none).")

    @classmethod
    def of(cls, suggestion: Suggestion) -> "SuggestionView":
        addon = suggestion.addon
        return cls(
            addon_id=addon.id,
            name=addon.name,
            raises=suggestion.raises,
            entitlements=addon.entitlements,
            subscription_method=addon.subscription_method,
            cycles=[c.model_dump(mode="json") for c in addon.cycles] if addon.cycles else None,
            price=addon.price.model_dump(mode="json") if addon.price else None,
            max_per_instance=addon.max_per_instance,
            packs_owned=suggestion.packs_owned,
            packs_to_cover=suggestion.packs_to_cover,
        )


class UsageView(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.USAGE]})

    metric: str
    used: int
    limit: int = Field(description="The instance's entitlement for the metric (0 if none).")
    remaining: int
    exceeded: bool
    reported_at: datetime
    suggestions: list[SuggestionView]
    suggestions_available: bool = Field(
        description="False when the catalog could not be asked: the suggestions are missing."
    )

    @classmethod
    def of(cls, report: UsageReport) -> "UsageView":
        return cls(
            metric=report.metric,
            used=report.used,
            limit=report.limit,
            remaining=report.remaining,
            exceeded=report.exceeded,
            reported_at=report.reported_at,
            suggestions=[SuggestionView.of(s) for s in report.suggestions],
            suggestions_available=report.suggestions_available,
        )


class MetricUsage(BaseModel):
    metric: str
    used: int
    limit: int
    remaining: int
    exceeded: bool
    reported_at: datetime

    @classmethod
    def of(cls, row: UsageRow, entitlements: dict[str, int]) -> "MetricUsage":
        limit = entitlements.get(row.metric, 0)
        return cls(
            metric=row.metric,
            used=row.value,
            limit=limit,
            remaining=max(limit - row.value, 0),
            exceeded=row.value > limit,
            reported_at=row.reported_at,
        )


class UsageList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.USAGE_LIST]})

    instance_id: str
    items: list[MetricUsage]


def _check_range(moment: datetime | None) -> None:
    if moment is not None and not EARLIEST <= moment < LATEST:
        raise ValueError("times must be between 1970 and 9000")


def _moment(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if isinstance(value, int) else None
