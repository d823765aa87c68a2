import json
import uuid
from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, TypeAdapter
from pydantic.json_schema import SkipJsonSchema

from buurtplus.api.schemas.common import InputModel, Moment, Name, Page, PatchModel, Version
from buurtplus.api.schemas.events import EventRead
from buurtplus.core.pagination import Page as DomainPage
from buurtplus.domain.webhooks.deliveries import DeliveryRecord
from buurtplus.domain.webhooks.endpoints import IssuedEndpoint
from buurtplus.domain.webhooks.feed import EventFeed
from buurtplus.outbox.models import (
    DeliveryAttempt,
    DeliveryStatus,
    EventType,
    WebhookEndpoint,
    WebhookEvent,
)

SIGNAL_EVENT_TYPES: list[EventType] = [t for t in EventType if t != EventType.ping]

WebhookUrl = Annotated[
    str,
    StringConstraints(min_length=8, max_length=2000, pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://\S+$"),
    Field(examples=["https://zaken.wijkteam-oost.example.nl/webhooks/buurtplus"]),
]
EventTypes = Annotated[
    list[EventType],
    Field(min_length=1, max_length=len(EventType), description="Event types to send here"),
]


class EndpointCreate(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://zaken.wijkteam-oost.example.nl/webhooks/buurtplus",
                    "event_types": ["signal.routed", "signal.escalated", "signal.withdrawn"],
                    "description": "Zaaksysteem",
                }
            ]
        }
    )

    url: WebhookUrl
    event_types: EventTypes = Field(default_factory=lambda: list(SIGNAL_EVENT_TYPES))
    description: Name | None = None
    enabled: StrictBool = True


class EndpointUpdate(PatchModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"enabled": True}]})
    nullable: ClassVar[frozenset[str]] = frozenset({"description"})

    url: WebhookUrl | SkipJsonSchema[None] = None
    event_types: EventTypes | SkipJsonSchema[None] = None
    description: Name | None = None
    enabled: StrictBool | SkipJsonSchema[None] = None


class EndpointRead(BaseModel):
    id: uuid.UUID
    partner_id: uuid.UUID
    url: str
    description: str | None
    event_types: list[EventType]
    enabled: bool
    disabled_reason: str | None = Field(description="Why it was switched off, if it is")
    disabled_at: datetime | None
    failing_since: datetime | None = Field(
        description="First failed delivery since the last success; after 5 days it is switched off"
    )
    previous_secret_valid_until: datetime | None = Field(
        description="Until then the rotated-out secret signs too (a second signature)"
    )
    version: Version
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> "EndpointRead":
        return cls(
            id=endpoint.id,
            partner_id=endpoint.partner_id,
            url=endpoint.url,
            description=endpoint.description,
            event_types=[EventType(t) for t in endpoint.event_types],
            enabled=endpoint.enabled,
            disabled_reason=endpoint.disabled_reason,
            disabled_at=endpoint.disabled_at,
            failing_since=endpoint.failing_since,
            previous_secret_valid_until=endpoint.previous_secret_expires_at,
            version=endpoint.version,
            created_at=endpoint.created_at,
            updated_at=endpoint.updated_at,
        )


class EndpointIssued(EndpointRead):
    secret: str = Field(
        description="The signing secret (whsec_...): shown once, now; verify webhooks with it"
    )

    @classmethod
    def with_secret(cls, issued: IssuedEndpoint) -> "EndpointIssued":
        return cls(**EndpointRead.of(issued.endpoint).model_dump(), secret=issued.secret)


class EndpointPage(Page[EndpointRead]):
    @classmethod
    def of(cls, page: DomainPage[WebhookEndpoint]) -> "EndpointPage":
        return cls(items=[EndpointRead.of(e) for e in page.items], next_cursor=page.next_cursor)


class SecretRotation(InputModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"grace_hours": 24}]})

    grace_hours: float | None = Field(
        default=None,
        strict=True,
        ge=0,
        le=24 * 30,
        description="How long the old secret keeps signing; the configured default if left out",
    )


class RecoverRequest(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"since": "2026-03-01T00:00:00+01:00", "until": "2026-03-02T00:00:00+01:00"}
            ]
        }
    )

    since: Moment
    until: Moment


class RecoverResult(BaseModel):
    events: int = Field(description="Events queued for this endpoint again")


class AttemptRead(BaseModel):
    attempted_at: datetime
    duration_ms: int
    status_code: int | None
    response_excerpt: str | None = Field(description="The first KiB of the response")
    error: str | None

    @classmethod
    def of(cls, attempt: DeliveryAttempt) -> "AttemptRead":
        return cls(
            attempted_at=attempt.attempted_at,
            duration_ms=attempt.duration_ms,
            status_code=attempt.status_code,
            response_excerpt=attempt.response_excerpt,
            error=attempt.error,
        )


class DeliveryRead(BaseModel):
    id: uuid.UUID
    endpoint_id: uuid.UUID
    partner_id: uuid.UUID
    event_id: uuid.UUID = Field(description="Sent as webhook-id, the same on every attempt")
    event_type: EventType
    status: DeliveryStatus = Field(description="pending, succeeded or dead (no attempts left)")
    attempt_count: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    attempts: list[AttemptRead]

    @classmethod
    def of(cls, found: DeliveryRecord) -> "DeliveryRead":
        d = found.delivery
        return cls(
            id=d.id,
            endpoint_id=d.endpoint_id,
            partner_id=d.partner_id,
            event_id=found.event.id,
            event_type=EventType(d.event_type),
            status=DeliveryStatus(d.status),
            attempt_count=d.attempt_count,
            next_attempt_at=d.next_attempt_at,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            created_at=d.created_at,
            delivered_at=d.delivered_at,
            attempts=[AttemptRead.of(a) for a in found.attempts],
        )


class DeliveryPage(Page[DeliveryRead]):
    @classmethod
    def of(cls, page: DomainPage[DeliveryRecord]) -> "DeliveryPage":
        return cls(items=[DeliveryRead.of(d) for d in page.items], next_cursor=page.next_cursor)


def event_read(event: WebhookEvent) -> EventRead:
    """The stored (signed, sent) body, with the event's id."""
    return _EVENT_READ.validate_python(json.loads(event.body) | {"id": event.id})


_EVENT_READ: TypeAdapter[EventRead] = TypeAdapter(EventRead)


class EventFeedRead(BaseModel):
    items: list[EventRead]
    next_cursor: str = Field(description="Pass as `after` next time, also when items is empty")
    has_more: bool = Field(description="More events are waiting: read again at once")

    @classmethod
    def of(cls, feed: EventFeed) -> "EventFeedRead":
        return cls(
            items=[event_read(e) for e in feed.items],
            next_cursor=feed.position or "",
            has_more=feed.has_more,
        )
