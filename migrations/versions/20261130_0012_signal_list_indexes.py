"""signals: an index per reader of a list (team, reporter, partner), each in page order

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 12:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each replaces the index on its first column alone, which it covers.
COLUMNS = ("team_id", "reporter_id", "partner_id")


def upgrade() -> None:
    with op.batch_alter_table("signals", schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.drop_index(f"ix_signals_{column}")
            batch_op.create_index(
                f"ix_signals_{column}_created_at_id", [column, "created_at", "id"], unique=False
            )


def downgrade() -> None:
    with op.batch_alter_table("signals", schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.drop_index(f"ix_signals_{column}_created_at_id")
            batch_op.create_index(f"ix_signals_{column}", [column], unique=False)
