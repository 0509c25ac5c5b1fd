"""The order records the payment that paid it

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 19:20:00

A refund gives back that payment, not any settled one of the order (with a provider that
confirms by webhook, a second payment can settle; it is refunded on its own). Orders paid
before this revision get the settled payment whose settlement paid them (`settled_at` is
`paid_at`), else their first settled one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAYMENT_OF_PAID_ORDERS = """
UPDATE orders SET payment_id = coalesce(
    (
        SELECT payments.id FROM payments
        WHERE payments.order_id = orders.id AND payments.status = 'settled'
          AND payments.settled_at = orders.paid_at
        ORDER BY payments.id
        LIMIT 1
    ),
    (
        SELECT payments.id FROM payments
        WHERE payments.order_id = orders.id AND payments.status = 'settled'
        ORDER BY payments.settled_at, payments.id
        LIMIT 1
    )
)
WHERE orders.paid_at IS NOT NULL
"""


def upgrade() -> None:
    op.add_column("orders", sa.Column("payment_id", sa.String(length=40), nullable=True))
    op.execute(PAYMENT_OF_PAID_ORDERS)


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("payment_id")
