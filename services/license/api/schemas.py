"""Request and response bodies of the license API (distinct from the tables and the domain).

The bodies orders sends and the answers it reads (`MintRequest`, `AcceptRequest`,
`LicenseView`, `EntitlementView`) are defined once, in `services/license/client.py`; they are
used here as they are, and rendered from the use cases' results by `license_view` and
`entitlement_view`. The rest are the public API's own.
"""

from datetime import UTC, datetime
from typing import Any, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from services.license.api import examples
from services.license.client import (
    MAX_ENTITLEMENT,
    AcceptRequest,
    Dimension,
    EntitlementView,
    LicenseVersionView,
    LicenseView,
    MintRequest,
    Reason,
    StrictBody,
    check_moment,
)
from services.license.db.models import LicenseVersionRow, UsageRow
from services.license.domain.model import Change
from services.license.domain.usage import Usage
from services.license.reads import EntitlementBundle
from services.license.service import LicenseState, Revocations, Suggestion, UsageReport
from services.license.verifier import Code, Verdict
from shared.clock import utcnow
from shared.pagination import Page, PageRequest, build_page

__all__ = [
    "AcceptRequest",
    "EntitlementView",
    "ExtensionRequest",
    "JwkView",
    "JwksView",
    "LicenseVersionView",
    "LicenseView",
    "MetricUsageView",
    "MintRequest",
    "RevocationListView",
    "SuggestionView",
    "TokenLicenseView",
    "UsageListView",
    "UsageReportRequest",
    "UsageView",
    "VerificationView",
    "VerifyRequest",
    "entitlement_view",
    "license_view",
]

MAX_TOKEN_CHARS = 16_384


class ExtensionRequest(StrictBody):
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
        check_moment(self.until)
        return self


class VerifyRequest(StrictBody):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"token": examples.LICENSE["token"]}]}
    )

    token: str = Field(max_length=MAX_TOKEN_CHARS, description="A license token (compact JWS).")


class UsageReportRequest(StrictBody):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"metric": "devices", "value": 130}]}
    )

    metric: Dimension
    value: int = Field(ge=0, le=MAX_ENTITLEMENT, description="The current total in use.")


def license_page(states: list[LicenseState], page: PageRequest) -> Page[LicenseView]:
    """One page of an instance's licenses (`states`: the `limit + 1` fetched, oldest first)."""
    items, cursor = build_page(states, page, lambda s: (s.row.created_at, s.row.id))
    return Page(items=[license_view(s) for s in items], next_cursor=cursor)


def license_view(state: LicenseState, now: datetime | None = None) -> LicenseView:
    """A license as the API answers it; its status derived at `now` (default: now)."""
    row = state.row
    terms = row.terms()
    return LicenseView(
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
        history=[_version_view(v) for v in state.history] if state.history is not None else None,
    )


def _version_view(row: LicenseVersionRow) -> LicenseVersionView:
    return LicenseVersionView(
        version=row.version,
        change=Change(row.change),
        kid=row.kid,
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        reason=row.reason,
        details=row.details,
        order_id=row.order_id,
    )


def entitlement_view(bundle: EntitlementBundle) -> EntitlementView:
    """An instance's entitlement and bundle as the API answers them."""
    return EntitlementView(
        instance_id=bundle.instance_id,
        product_id=bundle.product_id,
        plan_id=bundle.plan_id,
        entitlements=bundle.entitlements,
        licenses=bundle.licenses,
        token=bundle.token,
        issued_at=bundle.issued_at,
        expires_at=bundle.expires_at,
    )


class TokenLicenseView(BaseModel):
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
    def of(cls, claims: dict[str, Any]) -> "TokenLicenseView":
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


class VerificationView(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.VERIFY_RESULT]})

    valid: bool
    code: Code = Field(
        description="VALID, EXPIRED, REVOKED, SUPERSEDED, BAD_SIGNATURE, … (never STALE: that "
        "one is offline verifiers' answer to a revocation list past its `exp`)"
    )
    detail: str
    license: TokenLicenseView | None = Field(
        description="The token's license claims, once its signature is checked."
    )

    @classmethod
    def of(cls, verdict: Verdict) -> "VerificationView":
        claims = dict(verdict.claims) if verdict.claims is not None and verdict.lic else None
        return cls(
            valid=verdict.valid,
            code=verdict.code,
            detail=verdict.detail,
            license=TokenLicenseView.of(claims) if claims else None,
        )


class JwkView(BaseModel):
    kty: str = Field(examples=["OKP"])
    crv: str = Field(examples=["Ed25519"])
    x: str
    kid: str
    alg: str = Field(examples=["EdDSA"])
    use: str = Field(examples=["sig"])


class JwksView(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.JWKS]})

    keys: list[JwkView]


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
            used=report.usage.used,
            limit=report.usage.limit,
            remaining=report.usage.remaining,
            exceeded=report.usage.exceeded,
            reported_at=report.reported_at,
            suggestions=[SuggestionView.of(s) for s in report.suggestions],
            suggestions_available=report.suggestions_available,
        )


class MetricUsageView(BaseModel):
    metric: str
    used: int
    limit: int
    remaining: int
    exceeded: bool
    reported_at: datetime

    @classmethod
    def of(cls, row: UsageRow, usage: Usage) -> "MetricUsageView":
        return cls(
            metric=row.metric,
            used=usage.used,
            limit=usage.limit,
            remaining=usage.remaining,
            exceeded=usage.exceeded,
            reported_at=row.reported_at,
        )


class UsageListView(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.USAGE_LIST]})

    instance_id: str
    items: list[MetricUsageView]


def _moment(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if isinstance(value, int) else None
