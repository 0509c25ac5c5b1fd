"""The review service's tables: submissions, their events, the outbox and idempotency keys."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import JSONDocument, UTCDateTime, new_metadata
from shared.idempotency import idempotency_table
from shared.outbox import outbox_table


class Base(DeclarativeBase):
    metadata = new_metadata()


class SubmissionRow(Base):
    """A submission of a product's draft: revision N of it, and the review's outcome.

    `open_product_id` holds the product id while the submission is open and NULL after; its
    unique index is what makes "one open submission per product" hold under races.
    """

    __tablename__ = "submissions"
    __table_args__ = (
        Index("ix_submissions_queue", "submitted_at", "id"),
        Index("ix_submissions_partner", "partner_id", "submitted_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(64), index=True)
    partner_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), index=True)
    open_product_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    note: Mapped[str | None] = mapped_column(Text)
    revision: Mapped[int | None] = mapped_column(Integer)
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    changes: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONDocument)
    reviewer_id: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EventRow(Base):
    """One entry of a submission's timeline: who did what, when."""

    __tablename__ = "submission_events"
    __table_args__ = (Index("ix_submission_events_timeline", "submission_id", "at", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(20))
    details: Mapped[dict[str, Any]] = mapped_column(JSONDocument)


outbox = outbox_table(Base.metadata)
idempotency_records = idempotency_table(Base.metadata)
