"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 07:55:05.797589
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
        "idempotency_records",
        sa.Column("principal", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column(
            "response",
            shared.db.JSONDocument,
            nullable=True,
        ),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("principal", "key", name=op.f("pk_idempotency_records")),
    )
    op.create_table(
        "instances",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=200), nullable=False),
        sa.Column("partner_id", sa.String(length=200), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("base_order_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instances")),
        sa.UniqueConstraint("base_order_id", name=op.f("uq_instances_base_order_id")),
    )
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.create_index(
            "ix_instances_customer", ["customer_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_instances_partner", ["partner_id", "created_at", "id"], unique=False
        )

    op.create_table(
        "orders",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=10), nullable=False),
        sa.Column("customer_id", sa.String(length=200), nullable=False),
        sa.Column("partner_id", sa.String(length=200), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=True),
        sa.Column("addon_id", sa.String(length=64), nullable=True),
        sa.Column("instance_id", sa.String(length=40), nullable=False),
        sa.Column("cycle_unit", sa.String(length=10), nullable=True),
        sa.Column("cycle_count", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "entitlements",
            shared.db.JSONDocument,
            nullable=False,
        ),
        sa.Column("requires_acceptance", sa.Boolean(), nullable=False),
        sa.Column("acceptance_days", sa.Integer(), nullable=False),
        sa.Column("max_per_instance", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("license_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("paid_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("fulfilled_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("refunded_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("refund_amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("refund_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_orders_customer", ["customer_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_orders_instance_packs", ["instance_id", "addon_id", "status"], unique=False
        )
        batch_op.create_index("ix_orders_partner", ["partner_id", "created_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_status"), ["status"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column(
            "payload",
            shared.db.JSONDocument,
            nullable=False,
        ),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("available_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failed_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_pending", ["delivered_at", "failed_at", "available_at"], unique=False
        )

    op.create_table(
        "webhook_events",
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("payment_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_webhook_events")),
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("provider_ref", sa.String(length=200), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("settled_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failed_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_payments_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index("ix_payments_order", ["order_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_order")

    op.drop_table("payments")
    op.drop_table("webhook_events")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_pending")

    op.drop_table("outbox")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_status"))
        batch_op.drop_index("ix_orders_partner")
        batch_op.drop_index("ix_orders_instance_packs")
        batch_op.drop_index("ix_orders_customer")

    op.drop_table("orders")
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.drop_index("ix_instances_partner")
        batch_op.drop_index("ix_instances_customer")

    op.drop_table("instances")
    op.drop_table("idempotency_records")
