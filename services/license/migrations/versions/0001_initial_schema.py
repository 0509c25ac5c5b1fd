"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 07:49:31.812558
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
        "instances",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=200), nullable=False),
        sa.Column("partner_id", sa.String(length=200), nullable=False),
        sa.Column("base_license_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instances")),
    )
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_instances_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_instances_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "licenses",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("instance_id", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("parent_id", sa.String(length=40), nullable=True),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=True),
        sa.Column("addon_id", sa.String(length=64), nullable=True),
        sa.Column("customer_id", sa.String(length=200), nullable=False),
        sa.Column("partner_id", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("entitlements", shared.db.JSONDocument, nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("valid_from", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acceptance_deadline", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "original_acceptance_deadline", shared.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("accepted_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revocation_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_licenses_instance_id_instances")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licenses")),
        sa.UniqueConstraint("order_id", name=op.f("uq_licenses_order_id")),
    )
    with op.batch_alter_table("licenses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_licenses_instance_created", ["instance_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_licenses_revoked_at"), ["revoked_at"], unique=False)

    op.create_table(
        "usage",
        sa.Column("instance_id", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("reported_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reported_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_usage_instance_id_instances")
        ),
        sa.PrimaryKeyConstraint("instance_id", "metric", name=op.f("pk_usage")),
    )
    op.create_table(
        "license_versions",
        sa.Column("license_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(length=20), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("issued_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("details", shared.db.JSONDocument, nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["license_id"], ["licenses.id"], name=op.f("fk_license_versions_license_id_licenses")
        ),
        sa.PrimaryKeyConstraint("license_id", "version", name=op.f("pk_license_versions")),
    )
    with op.batch_alter_table("license_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_license_versions_kid"), ["kid"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("license_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_license_versions_kid"))

    op.drop_table("license_versions")
    op.drop_table("usage")
    with op.batch_alter_table("licenses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_licenses_revoked_at"))
        batch_op.drop_index("ix_licenses_instance_created")

    op.drop_table("licenses")
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instances_partner_id"))
        batch_op.drop_index(batch_op.f("ix_instances_customer_id"))

    op.drop_table("instances")
