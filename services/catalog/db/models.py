"""The catalog's tables. Drafts and snapshots are JSON documents validated by `domain.model`."""

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import JSONDocument, UTCDateTime, new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


class ProductRow(Base):
    """A product: its immutable facts, its editable draft and pointers to its revisions."""

    __tablename__ = "products"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(200), index=True)
    product_type: Mapped[str] = mapped_column(String(20))
    draft: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    locked_submission_id: Mapped[str | None] = mapped_column(String(64))
    live_revision: Mapped[int | None] = mapped_column(Integer)
    last_revision: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RevisionRow(Base):
    """Revision N of a product: the draft frozen at its submission N. Never changed after."""

    __tablename__ = "revisions"

    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[str] = mapped_column(String(64), index=True)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    state: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LiveProductRow(Base):
    """The public face of a product: its live snapshot, with columns to filter the list on."""

    __tablename__ = "live_products"
    __table_args__ = (Index("ix_live_products_listed", "listed_at", "product_id"),)

    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(200), index=True)
    # The category case-folded: up to three times as long ("ﬃ" folds to "ffi").
    category_key: Mapped[str] = mapped_column(String(120), index=True)
    search_text: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    listed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DocumentRow(Base):
    """An uploaded agreement document, stored with its sha256."""

    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_partner_created", "partner_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True, deferred_raiseload=True)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
