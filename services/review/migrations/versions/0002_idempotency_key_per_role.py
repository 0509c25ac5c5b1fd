"""An Idempotency-Key belongs to its caller's role and sub together

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 19:05:00

Records made before this revision know only the caller's `sub`; the only keyed route of
review (`POST /v1/submissions`) is the partner's, so they are the partners'.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("idempotency_records", sa.Column("role", sa.String(length=20), nullable=True))
    op.execute("UPDATE idempotency_records SET role = 'partner'")
    with op.batch_alter_table("idempotency_records") as batch:
        batch.alter_column("role", existing_type=sa.String(length=20), nullable=False)
        batch.drop_constraint("pk_idempotency_records", type_="primary")
        batch.create_primary_key("pk_idempotency_records", ["role", "principal", "key"])


def downgrade() -> None:
    with op.batch_alter_table("idempotency_records") as batch:
        batch.drop_constraint("pk_idempotency_records", type_="primary")
        batch.create_primary_key("pk_idempotency_records", ["principal", "key"])
        batch.drop_column("role")
