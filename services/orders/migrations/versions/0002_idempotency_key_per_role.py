"""An Idempotency-Key belongs to its caller's role and sub together

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 19:05:00

Records made before this revision know only the caller's `sub`. Their role follows from the
route that made them: pay (`pay_…` resource) and placing an order are the customer's, a
refund (whose resource is the refunded order, of the partner's product) the partner's.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE_OF_EXISTING_RECORDS = """
UPDATE idempotency_records SET role = CASE
    WHEN substr(resource_id, 1, 4) <> 'pay_'
     AND (status_code IS NULL OR status_code <> 201)
     AND EXISTS (
        SELECT 1 FROM orders
        WHERE orders.id = idempotency_records.resource_id
          AND orders.partner_id = idempotency_records.principal
     )
    THEN 'partner'
    ELSE 'customer'
END
"""


def upgrade() -> None:
    op.add_column("idempotency_records", sa.Column("role", sa.String(length=20), nullable=True))
    op.execute(ROLE_OF_EXISTING_RECORDS)
    with op.batch_alter_table("idempotency_records") as batch:
        batch.alter_column("role", existing_type=sa.String(length=20), nullable=False)
        batch.drop_constraint("pk_idempotency_records", type_="primary")
        batch.create_primary_key("pk_idempotency_records", ["role", "principal", "key"])


def downgrade() -> None:
    # Without the role, a sub keeps one record per key: the customer's, if both have one.
    op.execute(
        "DELETE FROM idempotency_records WHERE role <> ("
        " SELECT min(other.role) FROM idempotency_records AS other"
        " WHERE other.principal = idempotency_records.principal"
        " AND other.key = idempotency_records.key)"
    )
    with op.batch_alter_table("idempotency_records") as batch:
        batch.drop_constraint("pk_idempotency_records", type_="primary")
        batch.create_primary_key("pk_idempotency_records", ["principal", "key"])
        batch.drop_column("role")
