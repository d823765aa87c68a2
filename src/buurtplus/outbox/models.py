import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, FetchedValue, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from buurtplus.core.db import JSONType, StrEnumType, UTCDateTime, version_column
from buurtplus.core.ids import time_ordered_id

# Integer keys that are a rowid alias on SQLite and 64-bit on PostgreSQL.
_BigId = BigInteger().with_variant(Integer, "sqlite")
# Raised by every change of an endpoint, also those the delivery side makes by a plain UPDATE
# (switched off, failing since, the old secret wiped): each of those says `version + 1` itself.
_ENDPOINT_VERSION = version_column()


class EventType(StrEnum):
    signal_routed = "signal.routed"
    signal_rerouted = "signal.rerouted"
    signal_escalated = "signal.escalated"
    signal_withdrawn = "signal.withdrawn"
    signal_updated = "signal.updated"
    ping = "ping"


class DeliveryStatus(StrEnum):
    pending = "pending"
    succeeded = "succeeded"
    # No attempts left (or the endpoint answered 410 Gone).
    dead = "dead"


class WebhookEndpoint(SQLModel, table=True):
    """Where a partner wants its events pushed, and the secret they are signed with."""

    __tablename__ = "webhook_endpoints"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    partner_id: uuid.UUID = Field(foreign_key="partners.id", ondelete="CASCADE", index=True)
    url: str = Field(sa_type=String(2000))
    description: str | None = Field(default=None, sa_type=String(200))
    # Event types sent to this endpoint.
    event_types: list[str] = Field(default_factory=list, sa_type=JSONType)
    enabled: bool = Field(default=True)
    disabled_reason: str | None = Field(default=None, sa_type=String(200))
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Secrets are needed in the clear to sign; they never leave through the API after creation.
    secret: str = Field(sa_type=String(100))
    previous_secret: str | None = Field(default=None, sa_type=String(100))
    previous_secret_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The first failure since the last success: an endpoint failing for days is disabled.
    failing_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Raised on every change; the ETag, and the guard against lost updates.
    version: int = Field(default=1, sa_column=_ENDPOINT_VERSION)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)

    __mapper_args__ = {"version_id_col": _ENDPOINT_VERSION}


class WebhookEvent(SQLModel, table=True):
    """One event for one partner, written in the transaction of the change it reports.

    Partners read events (pull API) in the order of `seq` on SQLite, where one transaction
    writes at a time; on PostgreSQL, where writers run side by side, in the order of
    (`xact_id`, `seq`): the writing transaction's id, then the number within it (see
    domain/webhooks/feed.py). `body` is the exact JSON that is signed and sent, so every retry
    sends the same bytes.
    """

    __tablename__ = "webhook_events"
    __table_args__ = (
        Index("ix_webhook_events_partner_id_seq", "partner_id", "seq"),
        Index("ix_webhook_events_partner_id_xact_id_seq", "partner_id", "xact_id", "seq"),
    )

    seq: int | None = Field(
        default=None, sa_column=Column(_BigId, primary_key=True, autoincrement=True)
    )
    id: uuid.UUID = Field(default_factory=time_ordered_id, unique=True)
    partner_id: uuid.UUID = Field(foreign_key="partners.id", ondelete="CASCADE")
    type: EventType = Field(sa_type=StrEnumType(EventType, 40))
    signal_id: uuid.UUID | None = Field(default=None, index=True)
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    body: str = Field(sa_type=Text)
    # PostgreSQL: `pg_current_xact_id()` of the inserting transaction, filled in by the
    # database (0 for events written before it was kept). SQLite: NULL.
    xact_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True, server_default=FetchedValue())
    )


class Delivery(SQLModel, table=True):
    """One event on its way to one endpoint: pending until a 2xx, or dead after the last try."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: uuid.UUID = Field(default_factory=time_ordered_id, primary_key=True)
    event_seq: int = Field(
        sa_column=Column(
            _BigId,
            ForeignKey("webhook_events.seq", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    endpoint_id: uuid.UUID = Field(
        foreign_key="webhook_endpoints.id", ondelete="CASCADE", index=True
    )
    partner_id: uuid.UUID = Field(foreign_key="partners.id", ondelete="CASCADE", index=True)
    event_type: EventType = Field(sa_type=StrEnumType(EventType, 40))
    status: DeliveryStatus = Field(
        default=DeliveryStatus.pending, sa_type=StrEnumType(DeliveryStatus, 20)
    )
    attempt_count: int = Field(default=0)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A worker holds a claimed delivery until the lease ends; after that another may take it.
    leased_by: str | None = Field(default=None, sa_type=String(120))
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_status_code: int | None = Field(default=None)
    last_error: str | None = Field(default=None, sa_type=String(500))
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DeliveryAttempt(SQLModel, table=True):
    """One HTTP request made for a delivery, kept for the partner's attempt log."""

    __tablename__ = "webhook_attempts"

    id: uuid.UUID = Field(default_factory=time_ordered_id, primary_key=True)
    delivery_id: uuid.UUID = Field(
        foreign_key="webhook_deliveries.id", ondelete="CASCADE", index=True
    )
    attempted_at: datetime = Field(sa_type=UTCDateTime)
    duration_ms: int
    status_code: int | None = Field(default=None)
    # The start of the response body, or what went wrong before there was one.
    response_excerpt: str | None = Field(default=None, sa_type=Text)
    error: str | None = Field(default=None, sa_type=String(500))
    worker: str = Field(sa_type=String(120))
