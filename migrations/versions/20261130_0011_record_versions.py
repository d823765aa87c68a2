"""teams, memberships, accounts, categories, partners, webhook endpoints and routing rules
carry a version (their ETag, and the guard against lost updates)

Routing rules counted their changes in `revision` already: that count becomes their version.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONED = (
    "teams",
    "team_memberships",
    "users",
    "categories",
    "partners",
    "webhook_endpoints",
)


def _version() -> sa.Column[int]:
    # Rows stored before this migration are at version 1.
    return sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1"))


def upgrade() -> None:
    for table in VERSIONED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(_version())
    with op.batch_alter_table("routing_rules", schema=None) as batch_op:
        batch_op.add_column(_version())
    op.execute("UPDATE routing_rules SET version = revision")
    with op.batch_alter_table("routing_rules", schema=None) as batch_op:
        batch_op.drop_column("revision")


def downgrade() -> None:
    with op.batch_alter_table("routing_rules", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("revision", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )
    op.execute("UPDATE routing_rules SET revision = version")
    with op.batch_alter_table("routing_rules", schema=None) as batch_op:
        batch_op.alter_column("revision", server_default=None)
        batch_op.drop_column("version")
    for table in reversed(VERSIONED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("version")
