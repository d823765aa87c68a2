import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Integer, String
from sqlmodel import Field, SQLModel

from buurtplus.core.db import JSONType, UTCDateTime
from buurtplus.core.ids import time_ordered_id


class AuditEvent(SQLModel, table=True):
    """Who did or read what, when. Written in the transaction of the act itself."""

    __tablename__ = "audit_events"

    # Insertion order: events of one instant still read back in the order they happened.
    seq: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    id: uuid.UUID = Field(default_factory=time_ordered_id, unique=True)
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    # None for the system itself (a job, the router).
    actor_id: uuid.UUID | None = Field(default=None, index=True)
    action: str = Field(sa_type=String(60))
    object_type: str = Field(sa_type=String(40))
    object_id: uuid.UUID | None = Field(default=None, index=True)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
