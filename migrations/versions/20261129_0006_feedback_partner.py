"""feedback remembers the partner organisation its author wrote for

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 03:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("signal_feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("author_partner_id", sa.Uuid(), nullable=True))
    # Feedback written so far belongs to its author's partner organisation, if any.
    op.execute(
        "UPDATE signal_feedback SET author_partner_id = "
        "(SELECT users.partner_id FROM users WHERE users.id = signal_feedback.author_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("signal_feedback", schema=None) as batch_op:
        batch_op.drop_column("author_partner_id")
