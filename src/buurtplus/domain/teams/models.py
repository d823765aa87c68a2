import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field, SQLModel

from buurtplus.core.actor import TeamRole
from buurtplus.core.db import JSONType, StrEnumType, UTCDateTime, version_column

_TEAM_VERSION = version_column()
_MEMBERSHIP_VERSION = version_column()


class Team(SQLModel, table=True):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("municipality_code", "name"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(sa_type=String(120))
    municipality_code: str = Field(sa_type=String(6), index=True)
    buurt_codes: list[str] = Field(default_factory=list, sa_type=JSONType)
    # GeoJSON Polygon or MultiPolygon in WGS84.
    area: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    contact_name: str | None = Field(default=None, sa_type=String(200))
    contact_email: str | None = Field(default=None, sa_type=String(254))
    contact_phone: str | None = Field(default=None, sa_type=String(40))
    # Plus mode: the team takes on social signals.
    plus_mode: bool = Field(default=False)
    # Raised on every change; the ETag, and the guard against lost updates.
    version: int = Field(default=1, sa_column=_TEAM_VERSION)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)

    __mapper_args__ = {"version_id_col": _TEAM_VERSION}


class TeamMembership(SQLModel, table=True):
    __tablename__ = "team_memberships"

    team_id: uuid.UUID = Field(foreign_key="teams.id", ondelete="CASCADE", primary_key=True)
    user_id: uuid.UUID = Field(
        foreign_key="users.id", ondelete="CASCADE", primary_key=True, index=True
    )
    team_role: TeamRole = Field(sa_type=StrEnumType(TeamRole, 20))
    cpr_valid_until: date | None = Field(default=None)
    citizen_responder: bool = Field(default=False)
    # Raised on every change; the ETag, and the guard against lost updates.
    version: int = Field(default=1, sa_column=_MEMBERSHIP_VERSION)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)

    __mapper_args__ = {"version_id_col": _MEMBERSHIP_VERSION}
