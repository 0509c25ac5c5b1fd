"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 07:40:02.479920
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("partner_id", sa.String(length=200), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_documents_partner_created", ["partner_id", "created_at", "id"], unique=False
        )

    op.create_table(
        "products",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("partner_id", sa.String(length=200), nullable=False),
        sa.Column("product_type", sa.String(length=20), nullable=False),
        sa.Column("draft", shared.db.JSONDocument, nullable=False),
        sa.Column("locked_submission_id", sa.String(length=64), nullable=True),
        sa.Column("live_revision", sa.Integer(), nullable=True),
        sa.Column("last_revision", sa.Integer(), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_products_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "live_products",
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("partner_id", sa.String(length=200), nullable=False),
        sa.Column("category_key", sa.String(length=40), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("snapshot", shared.db.JSONDocument, nullable=False),
        sa.Column("listed_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_live_products_product_id_products")
        ),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_live_products")),
    )
    with op.batch_alter_table("live_products", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_live_products_category_key"), ["category_key"], unique=False
        )
        batch_op.create_index("ix_live_products_listed", ["listed_at", "product_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_live_products_partner_id"), ["partner_id"], unique=False
        )

    op.create_table(
        "revisions",
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.String(length=64), nullable=False),
        sa.Column("snapshot", shared.db.JSONDocument, nullable=False),
        sa.Column("changes", shared.db.JSONDocument, nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_revisions_product_id_products")
        ),
        sa.PrimaryKeyConstraint("product_id", "number", name=op.f("pk_revisions")),
    )
    with op.batch_alter_table("revisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_revisions_submission_id"), ["submission_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revisions_submission_id"))

    op.drop_table("revisions")
    with op.batch_alter_table("live_products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_live_products_partner_id"))
        batch_op.drop_index("ix_live_products_listed")
        batch_op.drop_index(batch_op.f("ix_live_products_category_key"))

    op.drop_table("live_products")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_products_partner_id"))

    op.drop_table("products")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index("ix_documents_partner_created")

    op.drop_table("documents")
