"""signals categories audit

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 15:17:17.846345
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import buurtplus.core.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


POLICE = "politie, geen spoed: 0900-8844"
POLICE_EN = "police, non-emergency: 0900-8844"

# The default taxonomy (DESIGN.md section 3): code, labels, group, sensitivity, Plus mode,
# and the advice shown to the reporter at once.
DEFAULT_CATEGORIES = [
    (
        "burglary_risk",
        "Inbraakgevoelige situatie",
        "Burglary risk",
        "safety",
        "normal",
        False,
        "Zie je een inbraak gebeuren? Bel 112. Staat een raam of deur open, spreek de bewoner "
        f"aan als dat veilig kan; twijfel je, bel de {POLICE}.",
        "Seeing a burglary happen? Call 112. A window or door left open: tell the resident if "
        f"that is safe; in doubt, call the {POLICE_EN}.",
    ),
    (
        "vehicle_crime",
        "Voertuigcriminaliteit",
        "Vehicle crime",
        "safety",
        "normal",
        False,
        f"Gebeurt het nu? Bel 112. Schade of sporen van braak achteraf: {POLICE}.",
        f"Happening now? Call 112. Damage or signs of a break-in afterwards: {POLICE_EN}.",
    ),
    (
        "trailer_parking",
        "Verkeerd geparkeerde aanhanger",
        "Wrongly parked trailer",
        "safety",
        "normal",
        False,
        "Blokkeert hij de weg of een uitrit, bel dan de gemeente; anders routeren wij de melding.",
        "If it blocks the road or an exit, call the municipality; otherwise we route the report.",
    ),
    (
        "youth_nuisance",
        "Jongerenoverlast",
        "Youth nuisance",
        "safety",
        "normal",
        False,
        f"Dreigend of gewelddadig? Bel 112. Anders: houd afstand en meld het; {POLICE}.",
        f"Threatening or violent? Call 112. Otherwise keep your distance and report it; "
        f"{POLICE_EN}.",
    ),
    (
        "public_space",
        "Schade of verlichting openbare ruimte",
        "Public space damage or lighting",
        "safety",
        "normal",
        False,
        "Gevaarlijk voor verkeer of voetgangers? Zet het af als dat veilig kan en bel de gemeente. "
        "Anders routeren wij de melding naar de gemeente.",
        "Dangerous for traffic or pedestrians? Block it off if that is safe and call the "
        "municipality. Otherwise we route the report to the municipality.",
    ),
    (
        "suspicious_situation",
        "Verdachte situatie",
        "Suspicious situation",
        "safety",
        "normal",
        False,
        f"Is het nu aan de hand? Bel 112. Anders: {POLICE}. Grijp niet zelf in.",
        f"Is it happening now? Call 112. Otherwise: {POLICE_EN}. Do not intervene yourself.",
    ),
    (
        "loneliness",
        "Eenzaamheid",
        "Loneliness",
        "social",
        "sensitive",
        True,
        "Blijf vriendelijk in contact. Wij brengen het signaal bij het sociaal wijkteam, dat "
        "contact kan leggen. Bij acuut gevaar: bel 112.",
        "Stay kindly in touch. We pass the signal to the social neighbourhood team, which can "
        "reach out. In acute danger: call 112.",
    ),
    (
        "social_isolation",
        "Sociaal isolement",
        "Social isolation",
        "social",
        "sensitive",
        True,
        "Wij brengen het signaal bij het sociaal wijkteam. Stapelt de post zich op of is iemand "
        "al dagen niet gezien, en twijfel je of het goed gaat: bel 112.",
        "We pass the signal to the social neighbourhood team. Post piling up or someone unseen "
        "for days, and you fear they are unwell: call 112.",
    ),
    (
        "domestic_violence",
        "Huiselijk geweld",
        "Domestic violence",
        "social",
        "sensitive",
        True,
        "Bij acuut gevaar: bel 112. Anders: Veilig Thuis, 0800-2000 (gratis, dag en nacht) voor "
        "advies of een melding. Grijp niet zelf in.",
        "In acute danger: call 112. Otherwise: Veilig Thuis, 0800-2000 (free, day and night) "
        "for advice or a report. Do not intervene yourself.",
    ),
    (
        "neglect",
        "Verwaarlozing (ook zelfverwaarlozing)",
        "Neglect (incl. self-neglect)",
        "social",
        "sensitive",
        True,
        "Bij acuut gevaar: bel 112. Gaat het om een kind of een kwetsbare volwassene, dan kun je "
        "ook Veilig Thuis bellen: 0800-2000. Wij routeren het signaal.",
        "In acute danger: call 112. For a child or a vulnerable adult you can also call Veilig "
        "Thuis: 0800-2000. We route the signal.",
    ),
    (
        "worrying_behaviour",
        "Zorgwekkend gedrag",
        "Worrying behaviour",
        "social",
        "sensitive",
        True,
        "Bij gevaar voor de persoon of anderen: bel 112. Anders routeren wij het signaal naar "
        "de GGD of het meldpunt van de gemeente.",
        "If the person or others are in danger: call 112. Otherwise we route the signal to the "
        "GGD or the municipality's report desk.",
    ),
    (
        "other_concern",
        "Ander niet-pluis-gevoel",
        "Other concern (niet-pluis)",
        "social",
        "sensitive",
        True,
        "Goed dat je het meldt. Bij acuut gevaar: bel 112. Anders routeren wij het signaal naar "
        "de organisatie die kan helpen.",
        "Good that you report it. In acute danger: call 112. Otherwise we route the signal to "
        "the organisation that can help.",
    ),
    (
        "aed_missing",
        "AED ontbreekt",
        "AED missing",
        "heart_safety",
        "normal",
        False,
        "Bij een hartstilstand: bel 112 en start met reanimeren. Wij melden de ontbrekende AED "
        "aan de eigenaar.",
        "In a cardiac arrest: call 112 and start CPR. We tell the owner the AED is missing.",
    ),
    (
        "aed_defective",
        "AED defect of niet gebruiksklaar",
        "AED defective or not ready",
        "heart_safety",
        "normal",
        False,
        "Bij een hartstilstand: bel 112 en start met reanimeren. Wij melden de defecte AED aan "
        "de eigenaar.",
        "In a cardiac arrest: call 112 and start CPR. We tell the owner the AED is defective.",
    ),
]


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.Uuid(), nullable=True),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("id", name=op.f("uq_audit_events_id")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_events_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_events_object_id"), ["object_id"], unique=False)

    op.create_table(
        "categories",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("label_nl", sa.String(length=120), nullable=False),
        sa.Column("label_en", sa.String(length=120), nullable=False),
        sa.Column("group", sa.String(length=20), nullable=False),
        sa.Column("sensitivity", sa.String(length=20), nullable=False),
        sa.Column("requires_plus", sa.Boolean(), nullable=False),
        sa.Column("advice_nl", sa.Text(), nullable=False),
        sa.Column("advice_en", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("code", name=op.f("uq_categories_code")),
    )
    op.create_table(
        "signals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("reporter_id", sa.Uuid(), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("postcode", sa.String(length=6), nullable=True),
        sa.Column("buurt_code", sa.String(length=10), nullable=True),
        sa.Column("observed_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("urgency", sa.String(length=10), nullable=False),
        sa.Column("emergency_called", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("purged_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["categories.id"],
            name=op.f("fk_signals_category_id_categories"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["users.id"],
            name=op.f("fk_signals_reporter_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_signals_team_id_teams"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signals")),
    )
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signals_buurt_code"), ["buurt_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_signals_category_id"), ["category_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_signals_closed_at"), ["closed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_signals_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_signals_reporter_id"), ["reporter_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_signals_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_signals_team_id"), ["team_id"], unique=False)

    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("signal_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["signal_id"],
            ["signals.id"],
            name=op.f("fk_idempotency_keys_signal_id_signals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_idempotency_keys_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "signal_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("signal_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["signal_id"],
            ["signals.id"],
            name=op.f("fk_signal_events_signal_id_signals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signal_events")),
        sa.UniqueConstraint(
            "signal_id", "version", name=op.f("uq_signal_events_signal_id_version")
        ),
    )
    with op.batch_alter_table("signal_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signal_events_signal_id"), ["signal_id"], unique=False)

    op.create_table(
        "signal_feedback",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("signal_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("created_at", buurtplus.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_signal_feedback_author_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["signal_id"],
            ["signals.id"],
            name=op.f("fk_signal_feedback_signal_id_signals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signal_feedback")),
    )
    with op.batch_alter_table("signal_feedback", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signal_feedback_signal_id"), ["signal_id"], unique=False
        )

    categories = sa.table(
        "categories",
        sa.column("id", sa.Uuid()),
        sa.column("code", sa.String()),
        sa.column("label_nl", sa.String()),
        sa.column("label_en", sa.String()),
        sa.column("group", sa.String()),
        sa.column("sensitivity", sa.String()),
        sa.column("requires_plus", sa.Boolean()),
        sa.column("advice_nl", sa.Text()),
        sa.column("advice_en", sa.Text()),
        sa.column("active", sa.Boolean()),
        sa.column("created_at", buurtplus.core.db.UTCDateTime()),
        sa.column("updated_at", buurtplus.core.db.UTCDateTime()),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        categories,
        [
            {
                "id": uuid.uuid4(),
                "code": code,
                "label_nl": label_nl,
                "label_en": label_en,
                "group": group,
                "sensitivity": sensitivity,
                "requires_plus": requires_plus,
                "advice_nl": advice_nl,
                "advice_en": advice_en,
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
            for (
                code,
                label_nl,
                label_en,
                group,
                sensitivity,
                requires_plus,
                advice_nl,
                advice_en,
            ) in DEFAULT_CATEGORIES
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("signal_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signal_feedback_signal_id"))

    op.drop_table("signal_feedback")
    with op.batch_alter_table("signal_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signal_events_signal_id"))

    op.drop_table("signal_events")
    op.drop_table("idempotency_keys")
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signals_team_id"))
        batch_op.drop_index(batch_op.f("ix_signals_status"))
        batch_op.drop_index(batch_op.f("ix_signals_reporter_id"))
        batch_op.drop_index(batch_op.f("ix_signals_created_at"))
        batch_op.drop_index(batch_op.f("ix_signals_closed_at"))
        batch_op.drop_index(batch_op.f("ix_signals_category_id"))
        batch_op.drop_index(batch_op.f("ix_signals_buurt_code"))

    op.drop_table("signals")
    op.drop_table("categories")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_object_id"))
        batch_op.drop_index(batch_op.f("ix_audit_events_created_at"))
        batch_op.drop_index(batch_op.f("ix_audit_events_actor_id"))

    op.drop_table("audit_events")
