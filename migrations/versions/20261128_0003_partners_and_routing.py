"""partners and routing

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 16:00:11.927695
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import buurtplus.core.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "partners",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("contact_phone", sa.String(length=40), nullable=True),
        sa.Column(
            "municipalities",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partners")),
        sa.UniqueConstraint("name", name=op.f("uq_partners_name")),
    )
    op.create_table(
        "partner_clients",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("secret_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_clients_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_clients")),
    )
    with op.batch_alter_table("partner_clients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_partner_clients_partner_id"), ["partner_id"], unique=False
        )

    op.create_table(
        "routing_rules",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "categories",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "category_groups",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "municipalities",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "buurt_codes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "team_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "urgencies",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("time_window", sa.String(length=500), nullable=True),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.Column("fallback_partner_id", sa.Uuid(), nullable=True),
        sa.Column("ack_minutes", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["fallback_partner_id"],
            ["partners.id"],
            name=op.f("fk_routing_rules_fallback_partner_id_partners"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_routing_rules_partner_id_partners"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rules")),
    )
    with op.batch_alter_table("routing_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_routing_rules_partner_id"), ["partner_id"], unique=False
        )

    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("partner_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("routing_rule_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("routing_rule_name", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("routing_explanation", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("ack_deadline", buurtplus.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("ack_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("fallback_partner_id", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("escalated_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "declined_partner_ids",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=False,
                # Signals stored before routing existed have declined no one.
                server_default=sa.text("'[]'"),
            )
        )
        batch_op.create_index(batch_op.f("ix_signals_ack_deadline"), ["ack_deadline"], unique=False)
        batch_op.create_index(batch_op.f("ix_signals_partner_id"), ["partner_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_signals_partner_id_partners"),
            "partners",
            ["partner_id"],
            ["id"],
            ondelete="RESTRICT",
        )

    with op.batch_alter_table("signal_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_partner_id", sa.Uuid(), nullable=True))

    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_signals_fallback_partner_id_partners"),
            "partners",
            ["fallback_partner_id"],
            ["id"],
            ondelete="RESTRICT",
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("partner_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_partner_id"), ["partner_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_users_partner_id_partners"),
            "partners",
            ["partner_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_users_partner_id_partners"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_users_partner_id"))
        batch_op.drop_column("partner_id")

    with op.batch_alter_table("signal_events", schema=None) as batch_op:
        batch_op.drop_column("actor_partner_id")

    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_signals_fallback_partner_id_partners"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_signals_partner_id_partners"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_signals_partner_id"))
        batch_op.drop_index(batch_op.f("ix_signals_ack_deadline"))
        batch_op.drop_column("declined_partner_ids")
        batch_op.drop_column("escalated_at")
        batch_op.drop_column("fallback_partner_id")
        batch_op.drop_column("ack_minutes")
        batch_op.drop_column("ack_deadline")
        batch_op.drop_column("routing_explanation")
        batch_op.drop_column("routing_rule_name")
        batch_op.drop_column("routing_rule_id")
        batch_op.drop_column("partner_id")

    with op.batch_alter_table("routing_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_routing_rules_partner_id"))

    op.drop_table("routing_rules")
    with op.batch_alter_table("partner_clients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_clients_partner_id"))

    op.drop_table("partner_clients")
    op.drop_table("partners")
