"""The license service's tables.

An instance row is created with the instance's base license; its `version` goes up with every
change to any of the instance's licenses, so a cached entitlement bundle can tell it is stale
with one primary-key read. Each version of a license keeps the token signed for it.

Each revocation takes the next value of the `revocations` counter, in the revoking
transaction, as the license's `revocation_seq`: the signed revocation list's `seq` is the
highest of them (see `LicenseService.revocations`).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.license.domain.model import Level, LicenseTerms, Mode
from shared.db import JSONDocument, UTCDateTime, new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


class InstanceRow(Base):
    """What the license service knows of an application instance, from its base license."""

    __tablename__ = "instances"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(64))
    plan_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[str] = mapped_column(String(200), index=True)
    partner_id: Mapped[str] = mapped_column(String(200), index=True)
    base_license_id: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LicenseRow(Base):
    """A license: one per order, bound to an instance; its terms as of its newest version."""

    __tablename__ = "licenses"
    __table_args__ = (Index("ix_licenses_instance_created", "instance_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(64), unique=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id"))
    level: Mapped[str] = mapped_column(String(10))
    parent_id: Mapped[str | None] = mapped_column(String(40))
    product_id: Mapped[str] = mapped_column(String(64))
    plan_id: Mapped[str | None] = mapped_column(String(64))
    addon_id: Mapped[str | None] = mapped_column(String(64))
    customer_id: Mapped[str] = mapped_column(String(200))
    partner_id: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    entitlements: Mapped[dict[str, int]] = mapped_column(JSONDocument)
    mode: Mapped[str] = mapped_column(String(20))
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acceptance_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    original_acceptance_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    revocation_reason: Mapped[str | None] = mapped_column(Text)
    revocation_seq: Mapped[int | None] = mapped_column(BigInteger, index=True, unique=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def terms(self) -> LicenseTerms:
        """The row as the domain's value type."""
        return LicenseTerms(
            id=self.id,
            order_id=self.order_id,
            instance_id=self.instance_id,
            product_id=self.product_id,
            level=Level(self.level),
            parent_id=self.parent_id,
            plan_id=self.plan_id,
            addon_id=self.addon_id,
            entitlements=dict(self.entitlements),
            mode=Mode(self.mode),
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            acceptance_deadline=self.acceptance_deadline,
            original_acceptance_deadline=self.original_acceptance_deadline,
            accepted_at=self.accepted_at,
            revoked_at=self.revoked_at,
            version=self.version,
        )

    def apply(self, terms: LicenseTerms, now: datetime) -> None:
        """Store a new version's terms (the parts a version may change)."""
        self.mode = terms.mode.value
        self.plan_id = terms.plan_id
        self.entitlements = dict(terms.entitlements)
        self.valid_until = terms.valid_until
        self.acceptance_deadline = terms.acceptance_deadline
        self.accepted_at = terms.accepted_at
        self.version = terms.version
        self.updated_at = now


class LicenseVersionRow(Base):
    """One version of a license: the token signed for it, once, and why it was issued.

    A renewal or a plan change names its order, once: the unique `order_id` makes a repeated
    call find its version instead of making another (null for the other changes).
    """

    __tablename__ = "license_versions"

    license_id: Mapped[str] = mapped_column(ForeignKey("licenses.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    change: Mapped[str] = mapped_column(String(20))
    kid: Mapped[str] = mapped_column(String(64), index=True)
    token: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    recorded_by: Mapped[str] = mapped_column(String(200))
    order_id: Mapped[str | None] = mapped_column(String(64), unique=True)


class UsageRow(Base):
    """The latest value an instance reported for one metric."""

    __tablename__ = "usage"

    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id"), primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reported_by: Mapped[str] = mapped_column(String(200))


class CounterRow(Base):
    """A named counter that only goes up; a transaction that takes a value holds its row
    until it ends, so values are committed in the order they were taken."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
