import uuid
from datetime import datetime

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from buurtplus.core.db import JSONType, UTCDateTime, version_column

_VERSION = version_column()


class RoutingRule(SQLModel, table=True):
    """A rule of the `rules` router. Empty lists match anything."""

    __tablename__ = "routing_rules"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(sa_type=String(120))
    priority: int = Field(default=0)
    active: bool = Field(default=True)
    categories: list[str] = Field(default_factory=list, sa_type=JSONType)
    category_groups: list[str] = Field(default_factory=list, sa_type=JSONType)
    municipalities: list[str] = Field(default_factory=list, sa_type=JSONType)
    buurt_codes: list[str] = Field(default_factory=list, sa_type=JSONType)
    team_ids: list[str] = Field(default_factory=list, sa_type=JSONType)
    urgencies: list[str] = Field(default_factory=list, sa_type=JSONType)
    # OSM opening_hours in Europe/Amsterdam time; None: always.
    time_window: str | None = Field(default=None, sa_type=String(500))
    partner_id: uuid.UUID = Field(foreign_key="partners.id", ondelete="RESTRICT", index=True)
    fallback_partner_id: uuid.UUID | None = Field(
        default=None, foreign_key="partners.id", ondelete="RESTRICT"
    )
    ack_minutes: int = Field(default=24 * 60)
    # Raised on every change: the ETag, the guard against lost updates, and how routers
    # notice a change even within one clock tick.
    version: int = Field(default=1, sa_column=_VERSION)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)

    __mapper_args__ = {"version_id_col": _VERSION}
