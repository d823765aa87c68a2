"""outbox events remember the transaction that wrote them (PostgreSQL orders the pull feed by it)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The 64-bit id of the transaction that inserts the row (it never wraps around).
CURRENT_TRANSACTION = "pg_current_xact_id()::text::bigint"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Events written so far were numbered in commit order (one writer at a time): they
        # all count as transaction 0, ahead of every later one and in the order of their seq.
        op.add_column(
            "webhook_events",
            sa.Column("xact_id", sa.BigInteger(), nullable=True, server_default=sa.text("0")),
        )
        op.alter_column("webhook_events", "xact_id", server_default=sa.text(CURRENT_TRANSACTION))
    else:
        # SQLite has one writer at a time: seq alone is commit order there.
        with op.batch_alter_table("webhook_events", schema=None) as batch_op:
            batch_op.add_column(sa.Column("xact_id", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_events_partner_id_xact_id_seq",
            ["partner_id", "xact_id", "seq"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_events_partner_id_xact_id_seq")
        batch_op.drop_column("xact_id")
