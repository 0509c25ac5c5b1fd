"""versions name their order: license_versions.order_id, unique

A renewal or a plan change is a new version made for one order; the unique key makes a
repeated or concurrent call with that order find the version instead of making a second.
Versions made before this revision (mints, extensions, acceptances) have none.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 20:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("license_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("order_id", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_license_versions_order_id"), ["order_id"])


def downgrade() -> None:
    with op.batch_alter_table("license_versions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_license_versions_order_id"), type_="unique")
        batch_op.drop_column("order_id")
