"""aeds: the AED registry and checks of AEDs on rounds

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import buurtplus.core.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "aeds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("addr_street", sa.String(length=200), nullable=True),
        sa.Column("addr_housenumber", sa.String(length=20), nullable=True),
        sa.Column("addr_postcode", sa.String(length=6), nullable=True),
        sa.Column("addr_city", sa.String(length=100), nullable=True),
        sa.Column("buurt_code", sa.String(length=10), nullable=True),
        sa.Column("defibrillator_location", sa.String(length=500), nullable=True),
        sa.Column("indoor", sa.Boolean(), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=True),
        sa.Column("access", sa.String(length=20), nullable=False),
        sa.Column("opening_hours", sa.String(length=500), nullable=True),
        sa.Column("cabinet_locked", sa.Boolean(), nullable=False),
        sa.Column("cabinet_code", sa.String(length=40), nullable=True),
        sa.Column("operator", sa.String(length=200), nullable=True),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("contact_phone", sa.String(length=40), nullable=True),
        sa.Column("manufacturer", sa.String(length=100), nullable=True),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("pads_expiry", sa.Date(), nullable=True),
        sa.Column("battery_expiry", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("ready", sa.Boolean(), nullable=False),
        sa.Column(
            "not_ready_reasons",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("last_checked_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("source_id", sa.String(length=120), nullable=True),
        sa.Column("visibility", sa.String(length=20), nullable=False),
        sa.Column("maintainer_partner_id", sa.Uuid(), nullable=True),
        sa.Column("signal_id", sa.Uuid(), nullable=True),
        sa.Column("retired_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["maintainer_partner_id"],
            ["partners.id"],
            name=op.f("fk_aeds_maintainer_partner_id_partners"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["signal_id"],
            ["signals.id"],
            name=op.f("fk_aeds_signal_id_signals"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aeds")),
        sa.UniqueConstraint("source_id", name=op.f("uq_aeds_source_id")),
    )
    with op.batch_alter_table("aeds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_aeds_battery_expiry"), ["battery_expiry"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_aeds_buurt_code"), ["buurt_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_aeds_created_at"), ["created_at"], unique=False)
        batch_op.create_index("ix_aeds_latitude_longitude", ["latitude", "longitude"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_aeds_maintainer_partner_id"), ["maintainer_partner_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_aeds_pads_expiry"), ["pads_expiry"], unique=False)

    op.create_table(
        "aed_checks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("aed_id", sa.Uuid(), nullable=False),
        sa.Column("patrol_id", sa.Uuid(), nullable=True),
        sa.Column("checked_by", sa.Uuid(), nullable=False),
        sa.Column("checked_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("display_ok", sa.Boolean(), nullable=False),
        sa.Column("cabinet_ok", sa.Boolean(), nullable=False),
        sa.Column("kit_present", sa.Boolean(), nullable=False),
        sa.Column("pads_expiry", sa.Date(), nullable=True),
        sa.Column("battery_expiry", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column(
            "problems",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("signal_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["aed_id"], ["aeds.id"], name=op.f("fk_aed_checks_aed_id_aeds"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["checked_by"],
            ["users.id"],
            name=op.f("fk_aed_checks_checked_by_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["patrol_id"],
            ["patrols.id"],
            name=op.f("fk_aed_checks_patrol_id_patrols"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["signal_id"],
            ["signals.id"],
            name=op.f("fk_aed_checks_signal_id_signals"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aed_checks")),
    )
    with op.batch_alter_table("aed_checks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_aed_checks_aed_id"), ["aed_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_aed_checks_checked_at"), ["checked_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_aed_checks_checked_by"), ["checked_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_aed_checks_patrol_id"), ["patrol_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("aed_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_aed_checks_patrol_id"))
        batch_op.drop_index(batch_op.f("ix_aed_checks_checked_by"))
        batch_op.drop_index(batch_op.f("ix_aed_checks_checked_at"))
        batch_op.drop_index(batch_op.f("ix_aed_checks_aed_id"))

    op.drop_table("aed_checks")
    with op.batch_alter_table("aeds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_aeds_pads_expiry"))
        batch_op.drop_index(batch_op.f("ix_aeds_maintainer_partner_id"))
        batch_op.drop_index("ix_aeds_latitude_longitude")
        batch_op.drop_index(batch_op.f("ix_aeds_created_at"))
        batch_op.drop_index(batch_op.f("ix_aeds_buurt_code"))
        batch_op.drop_index(batch_op.f("ix_aeds_battery_expiry"))

    op.drop_table("aeds")
