import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from buurtplus.core.db import JSONType, StrEnumType, UTCDateTime
from buurtplus.core.ids import time_ordered_id
from buurtplus.domain.patrols.workflow import ObservationKind, PatrolStatus

# Every UPDATE of a patrol says WHERE version = <the version read>, and raises it by one.
_VERSION = Column("version", Integer, nullable=False)


class Patrol(SQLModel, table=True):
    """A round a team plans and walks (in pairs)."""

    __tablename__ = "patrols"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    team_id: uuid.UUID = Field(foreign_key="teams.id", ondelete="CASCADE", index=True)
    created_by: uuid.UUID = Field(foreign_key="users.id", ondelete="RESTRICT")
    planned_start: datetime = Field(sa_type=UTCDateTime, index=True)
    planned_end: datetime = Field(sa_type=UTCDateTime)
    # GeoJSON LineString in WGS84.
    route: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    note: str | None = Field(default=None, sa_type=Text)
    status: PatrolStatus = Field(sa_type=StrEnumType(PatrolStatus, 20), index=True)
    # The actual times.
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancel_reason: str | None = Field(default=None, sa_type=Text)
    # Raised on every change; the ETag, and the guard against lost updates.
    version: int = Field(default=1, sa_column=_VERSION)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)

    __mapper_args__ = {"version_id_col": _VERSION}


class PatrolParticipant(SQLModel, table=True):
    __tablename__ = "patrol_participants"

    patrol_id: uuid.UUID = Field(foreign_key="patrols.id", ondelete="CASCADE", primary_key=True)
    user_id: uuid.UUID = Field(
        foreign_key="users.id", ondelete="CASCADE", primary_key=True, index=True
    )
    joined_at: datetime = Field(sa_type=UTCDateTime)


class PatrolObservation(SQLModel, table=True):
    """Something a participant saw on a round. A signal made from it points back here."""

    __tablename__ = "patrol_observations"
    # A phone that retries sends the same client id: stored once per patrol.
    __table_args__ = (UniqueConstraint("patrol_id", "client_id"),)

    id: uuid.UUID = Field(default_factory=time_ordered_id, primary_key=True)
    patrol_id: uuid.UUID = Field(foreign_key="patrols.id", ondelete="CASCADE", index=True)
    author_id: uuid.UUID = Field(foreign_key="users.id", ondelete="RESTRICT", index=True)
    client_id: uuid.UUID | None = Field(default=None)
    observed_at: datetime = Field(sa_type=UTCDateTime, index=True)
    # Personal content: purged after the retention period (the kind and time stay).
    latitude: float | None = Field(default=None)
    longitude: float | None = Field(default=None)
    kind: ObservationKind = Field(sa_type=StrEnumType(ObservationKind, 30))
    note: str | None = Field(default=None, sa_type=Text)
    # Fingerprint of what was sent, to tell a retry from a different observation.
    request_hash: str = Field(sa_type=String(64))
    created_at: datetime = Field(sa_type=UTCDateTime)


class CalendarFeedToken(SQLModel, table=True):
    """A user's secret for calendar feeds (calendar apps send no bearer header).

    Only a hash is stored; renewing replaces it, so the old feed URL stops working."""

    __tablename__ = "calendar_feed_tokens"

    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", primary_key=True)
    token_hash: str = Field(sa_type=String(64), unique=True)
    # The user's token version when issued: a password change or a change of role (which
    # stops their bearer tokens) stops the feed URL too.
    token_version: int = Field(default=0)
    created_at: datetime = Field(sa_type=UTCDateTime)
