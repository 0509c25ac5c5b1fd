"""The sandbox payment provider's ledger

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 19:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sandbox_payments",
        sa.Column("payment_id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("charge_attempts", sa.Integer(), nullable=False),
        sa.Column("settled_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("refunded_minor", sa.BigInteger(), nullable=True),
        sa.Column("refunded_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("payment_id", name=op.f("pk_sandbox_payments")),
    )
    op.create_index(
        op.f("ix_sandbox_payments_order_id"), "sandbox_payments", ["order_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_sandbox_payments_order_id"), table_name="sandbox_payments")
    op.drop_table("sandbox_payments")
