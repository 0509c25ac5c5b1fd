"""number revocations: licenses.revocation_seq and the counters table

The signed revocation list carries `seq`, the number of revocations it includes, so that an
offline verifier can refuse a list older than one it has seen. Licenses revoked before this
revision are numbered in the order they were revoked.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 19:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "counters",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_counters")),
    )
    with op.batch_alter_table("licenses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revocation_seq", sa.BigInteger(), nullable=True))
    op.execute(
        """
        UPDATE licenses SET revocation_seq = (
            SELECT numbered.n FROM (
                SELECT id, ROW_NUMBER() OVER (ORDER BY revoked_at, id) AS n
                FROM licenses WHERE revoked_at IS NOT NULL
            ) AS numbered
            WHERE numbered.id = licenses.id
        )
        WHERE revoked_at IS NOT NULL
        """
    )
    op.execute(
        """
        INSERT INTO counters (name, value)
        SELECT 'revocations', COUNT(*) FROM licenses WHERE revoked_at IS NOT NULL
        """
    )
    with op.batch_alter_table("licenses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_licenses_revocation_seq"), ["revocation_seq"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("licenses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_licenses_revocation_seq"))
        batch_op.drop_column("revocation_seq")
    op.drop_table("counters")
