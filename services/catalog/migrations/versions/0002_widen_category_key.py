"""widen live_products.category_key to hold a case-folded 40-character category

Case folding can make a string up to three times longer ("ß" -> "ss", "ﬃ" -> "ffi"), so a valid
category could overflow VARCHAR(40) on PostgreSQL and make publishing fail.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("live_products", schema=None) as batch_op:
        batch_op.alter_column(
            "category_key",
            existing_type=sa.String(length=40),
            type_=sa.String(length=120),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("live_products", schema=None) as batch_op:
        batch_op.alter_column(
            "category_key",
            existing_type=sa.String(length=120),
            type_=sa.String(length=40),
            existing_nullable=False,
        )
