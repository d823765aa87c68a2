"""patrols: rounds, participants, observations, calendar feed tokens; signals made on a round

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 18:08:15.304478
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import buurtplus.core.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_feed_tokens",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_version", sa.Integer(), nullable=False),
        sa.Column("created_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_calendar_feed_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_calendar_feed_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feed_tokens_token_hash")),
    )
    op.create_table(
        "patrols",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("planned_start", buurtplus.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("planned_end", buurtplus.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "route",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_patrols_created_by_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_patrols_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrols")),
    )
    with op.batch_alter_table("patrols", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_patrols_planned_start"), ["planned_start"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_patrols_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_patrols_team_id"), ["team_id"], unique=False)

    op.create_table(
        "patrol_observations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("patrol_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("observed_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_patrol_observations_author_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["patrol_id"],
            ["patrols.id"],
            name=op.f("fk_patrol_observations_patrol_id_patrols"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_observations")),
        sa.UniqueConstraint(
            "patrol_id", "client_id", name=op.f("uq_patrol_observations_patrol_id_client_id")
        ),
    )
    with op.batch_alter_table("patrol_observations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_patrol_observations_author_id"), ["author_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_patrol_observations_observed_at"), ["observed_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_patrol_observations_patrol_id"), ["patrol_id"], unique=False
        )

    op.create_table(
        "patrol_participants",
        sa.Column("patrol_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("joined_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patrol_id"],
            ["patrols.id"],
            name=op.f("fk_patrol_participants_patrol_id_patrols"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_patrol_participants_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("patrol_id", "user_id", name=op.f("pk_patrol_participants")),
    )
    with op.batch_alter_table("patrol_participants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_patrol_participants_user_id"), ["user_id"], unique=False
        )

    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("patrol_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("observation_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_signals_patrol_id"), ["patrol_id"], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_signals_observation_id"), ["observation_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_signals_patrol_id_patrols"),
            "patrols",
            ["patrol_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_signals_observation_id_patrol_observations"),
            "patrol_observations",
            ["observation_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade() -> None:
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_signals_observation_id_patrol_observations"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_signals_patrol_id_patrols"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_signals_observation_id"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_signals_patrol_id"))
        batch_op.drop_column("observation_id")
        batch_op.drop_column("patrol_id")

    with op.batch_alter_table("patrol_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patrol_participants_user_id"))

    op.drop_table("patrol_participants")
    with op.batch_alter_table("patrol_observations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patrol_observations_patrol_id"))
        batch_op.drop_index(batch_op.f("ix_patrol_observations_observed_at"))
        batch_op.drop_index(batch_op.f("ix_patrol_observations_author_id"))

    op.drop_table("patrol_observations")
    with op.batch_alter_table("patrols", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patrols_team_id"))
        batch_op.drop_index(batch_op.f("ix_patrols_status"))
        batch_op.drop_index(batch_op.f("ix_patrols_planned_start"))

    op.drop_table("patrols")
    op.drop_table("calendar_feed_tokens")
