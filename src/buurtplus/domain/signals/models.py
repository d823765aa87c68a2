import uuid
from datetime import datetime

from sqlalchemy import Column, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from buurtplus.core.db import JSONType, StrEnumType, UTCDateTime
from buurtplus.core.ids import time_ordered_id
from buurtplus.domain.signals.workflow import Outcome, SignalStatus, Urgency

# Every UPDATE of a signal says WHERE version = <the version read>, and raises it by one.
_VERSION = Column("version", Integer, nullable=False)


class Signal(SQLModel, table=True):
    __tablename__ = "signals"
    # Who may read a signal is its reporter, its team's coordinator and its partner: each list
    # reads its page from one of these in order, never sorting every signal it may see.
    __table_args__ = (
        Index("ix_signals_team_id_created_at_id", "team_id", "created_at", "id"),
        Index("ix_signals_reporter_id_created_at_id", "reporter_id", "created_at", "id"),
        Index("ix_signals_partner_id_created_at_id", "partner_id", "created_at", "id"),
    )

    id: uuid.UUID = Field(default_factory=time_ordered_id, primary_key=True)
    team_id: uuid.UUID = Field(foreign_key="teams.id", ondelete="RESTRICT")
    reporter_id: uuid.UUID = Field(foreign_key="users.id", ondelete="RESTRICT")
    category_id: uuid.UUID = Field(foreign_key="categories.id", ondelete="RESTRICT", index=True)
    # Personal content: purged after the retention period (description, exact position,
    # address; the postcode keeps its four digits).
    description: str | None = Field(default=None, sa_type=Text)
    latitude: float | None = Field(default=None)
    longitude: float | None = Field(default=None)
    address: str | None = Field(default=None, sa_type=String(200))
    postcode: str | None = Field(default=None, sa_type=String(6))
    buurt_code: str | None = Field(default=None, sa_type=String(10), index=True)
    observed_at: datetime = Field(sa_type=UTCDateTime)
    urgency: Urgency = Field(sa_type=StrEnumType(Urgency, 10))
    emergency_called: bool = Field(default=False)
    status: SignalStatus = Field(sa_type=StrEnumType(SignalStatus, 20), index=True)
    outcome: Outcome | None = Field(default=None, sa_type=StrEnumType(Outcome, 20))
    # The routing decision in force.
    partner_id: uuid.UUID | None = Field(
        default=None, foreign_key="partners.id", ondelete="RESTRICT"
    )
    routing_rule_id: uuid.UUID | None = Field(default=None)
    routing_rule_name: str | None = Field(default=None, sa_type=String(120))
    routing_explanation: str | None = Field(default=None, sa_type=Text)
    ack_deadline: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    ack_minutes: int | None = Field(default=None)
    fallback_partner_id: uuid.UUID | None = Field(
        default=None, foreign_key="partners.id", ondelete="RESTRICT"
    )
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Made from an observation on a patrol round; the observation is found through this.
    patrol_id: uuid.UUID | None = Field(
        default=None, foreign_key="patrols.id", ondelete="RESTRICT", index=True
    )
    observation_id: uuid.UUID | None = Field(
        default=None, foreign_key="patrol_observations.id", ondelete="RESTRICT", unique=True
    )
    # Partners that said "not ours": never routed to again.
    declined_partner_ids: list[str] = Field(default_factory=list, sa_type=JSONType)
    # Raised on every change; the ETag, and the guard against lost updates.
    version: int = Field(default=1, sa_column=_VERSION)
    # Fingerprint of the submitted body, to tell a retry from a different report.
    request_hash: str = Field(sa_type=String(64))
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    purged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    __mapper_args__ = {"version_id_col": _VERSION}


class SignalEvent(SQLModel, table=True):
    """One step in a signal's history. Rows are only ever added."""

    __tablename__ = "signal_events"
    __table_args__ = (UniqueConstraint("signal_id", "version"),)

    id: uuid.UUID = Field(default_factory=time_ordered_id, primary_key=True)
    signal_id: uuid.UUID = Field(foreign_key="signals.id", ondelete="CASCADE", index=True)
    # The signal's version after this step: orders the history, one step per version.
    version: int
    created_at: datetime = Field(sa_type=UTCDateTime)
    actor_id: uuid.UUID | None = Field(default=None)
    # The partner organisation the actor acted for: its notes are its own.
    actor_partner_id: uuid.UUID | None = Field(default=None)
    action: str = Field(sa_type=String(30))
    from_status: SignalStatus | None = Field(default=None, sa_type=StrEnumType(SignalStatus, 20))
    to_status: SignalStatus = Field(sa_type=StrEnumType(SignalStatus, 20))
    # A reason or remark; personal content, purged with the signal.
    note: str | None = Field(default=None, sa_type=Text)


class Feedback(SQLModel, table=True):
    """Terugkoppeling: a short message from the handling side, without case details."""

    __tablename__ = "signal_feedback"

    id: uuid.UUID = Field(default_factory=time_ordered_id, primary_key=True)
    signal_id: uuid.UUID = Field(foreign_key="signals.id", ondelete="CASCADE", index=True)
    author_id: uuid.UUID = Field(foreign_key="users.id", ondelete="RESTRICT")
    # The partner organisation the author wrote for (None: an admin): another partner that
    # gets the signal later does not read it.
    author_partner_id: uuid.UUID | None = Field(default=None)
    message: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(sa_type=UTCDateTime)


class IdempotencyKey(SQLModel, table=True):
    """An Idempotency-Key a reporter used, and the signal it created."""

    __tablename__ = "idempotency_keys"

    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", primary_key=True)
    key: str = Field(sa_type=String(200), primary_key=True)
    request_hash: str = Field(sa_type=String(64))
    signal_id: uuid.UUID = Field(foreign_key="signals.id", ondelete="CASCADE")
    created_at: datetime = Field(sa_type=UTCDateTime)
