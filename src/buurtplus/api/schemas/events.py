"""The events partners receive: pushed as signed webhooks, or pulled from the event feed.

A webhook body is `{type, timestamp, data}` (Standard Webhooks); a feed item is the same with
the event's `id` (the `webhook-id` it is pushed with). `data` is typed per event type. The data
of a signal event is built in `domain/signals/events.py`: keys a partner may not see are left
out, not sent as null."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from buurtplus.domain.categories.models import CategoryGroup
from buurtplus.domain.signals.workflow import SignalStatus, Urgency
from buurtplus.outbox.models import EventType

SIGNAL = "/api/v1/signals/5d2c7f0e-8b1a-4c3d-9e2f-1a0b3c4d5e6f"
EXAMPLE_CHANGE: dict[str, Any] = {
    "signal_id": "5d2c7f0e-8b1a-4c3d-9e2f-1a0b3c4d5e6f",
    "change": "route",
    "assigned_to_you": True,
    "category": "public_space",
    "category_group": "safety",
    "sensitive": False,
    "urgency": "normal",
    "links": {"signal": SIGNAL, "history": f"{SIGNAL}/history", "feedback": f"{SIGNAL}/feedback"},
    "status": "routed",
    "version": 2,
    "team_id": "6b1f0c2a-9d4e-4c3b-8a7f-2e5d1c0b9a88",
    "created_at": "2026-03-02T09:30:00+01:00",
    "ack_deadline": "2026-03-03T09:30:00+01:00",
    "buurt_code": "BU0363MA01",
    "description": "Lantaarnpaal bij de speeltuin is al een week kapot.",
    "observed_at": "2026-03-02T08:45:00+01:00",
    "latitude": 52.3601,
    "longitude": 4.9215,
    "address": "Oosterpark 12",
    "postcode": "1091AB",
}
# What every signal event holds, also for a partner the signal left.
ALWAYS_SENT = (
    "signal_id",
    "change",
    "assigned_to_you",
    "category",
    "category_group",
    "sensitive",
    "urgency",
    "links",
)


class SignalLinks(BaseModel):
    """Where to read the rest with your own token (each read is audited)."""

    signal: str = Field(examples=["/api/v1/signals/5d2c7f0e-8b1a-4c3d-9e2f-1a0b3c4d5e6f"])
    history: str
    feedback: str


class SignalChange(BaseModel):
    """What happened to a signal, as much as you may know of it.

    Always sent: the ids, what changed, the category, urgency and links. Only while the signal
    is yours (`assigned_to_you`): status, version, team and dates. Only for a category that is
    not sensitive: the buurt, and in the events of workflow steps also the description and place
    (not in the event for new feedback). Keys you may not see are left out, never sent as null.
    Personal content (description and place) is taken out of stored events after the retention
    period, and out of your earlier events when the signal leaves you."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_CHANGE]})

    signal_id: uuid.UUID
    change: str = Field(
        description="The workflow action that caused the event (route, reject, escalate, "
        "withdraw, acknowledge, start, close, ...) or `feedback`",
        examples=["route"],
    )
    assigned_to_you: bool = Field(description="The signal is yours to handle now")
    category: str = Field(description="Category code", examples=["loneliness"])
    category_group: CategoryGroup
    sensitive: bool = Field(
        description="A sensitive category: no place or description is sent; read the signal"
    )
    urgency: Urgency
    links: SignalLinks
    status: SignalStatus | None = Field(default=None, description="Only while it is yours")
    version: int | None = Field(
        default=None, description="The signal's version (its ETag), only while it is yours"
    )
    team_id: uuid.UUID | None = Field(default=None, description="Only while it is yours")
    created_at: datetime | None = Field(default=None, description="Only while it is yours")
    ack_deadline: datetime | None = Field(
        default=None, description="Acknowledge before this; only while it is yours"
    )
    buurt_code: str | None = Field(default=None, description="Not for sensitive categories")
    description: str | None = Field(
        default=None, description="Only while it is yours, not for sensitive categories"
    )
    observed_at: datetime | None = Field(default=None, description="As description")
    latitude: float | None = Field(default=None, description="As description")
    longitude: float | None = Field(default=None, description="As description")
    address: str | None = Field(default=None, description="As description")
    postcode: str | None = Field(default=None, description="As description")


class PingData(BaseModel):
    endpoint_id: uuid.UUID = Field(description="The endpoint the test was sent to")
    message: str = Field(examples=["Test from Buurtpreventie Plus."])


Timestamp = Annotated[datetime, Field(description="When the event happened (ISO 8601)")]


class SignalRoutedEvent(BaseModel):
    """A signal is now yours: first routing, routed by hand, or after another partner said
    "not ours"."""

    type: Literal[EventType.signal_routed]
    timestamp: Timestamp
    data: SignalChange


class SignalEscalatedEvent(BaseModel):
    """A signal is now yours as fallback: the first partner did not acknowledge in time."""

    type: Literal[EventType.signal_escalated]
    timestamp: Timestamp
    data: SignalChange


class SignalReroutedEvent(BaseModel):
    """A signal left you: you declined it, missed its deadline, or it was routed elsewhere by
    hand. You are told only that (`assigned_to_you` is false)."""

    type: Literal[EventType.signal_rerouted]
    timestamp: Timestamp
    data: SignalChange


class SignalWithdrawnEvent(BaseModel):
    """The reporter took a signal of yours back."""

    type: Literal[EventType.signal_withdrawn]
    timestamp: Timestamp
    data: SignalChange


class SignalUpdatedEvent(BaseModel):
    """Anything else that happened to a signal of yours: acknowledged, started, closed,
    feedback added (`data.change` says which)."""

    type: Literal[EventType.signal_updated]
    timestamp: Timestamp
    data: SignalChange


class PingEvent(BaseModel):
    """A test your partner administrator sent to one endpoint."""

    type: Literal[EventType.ping]
    timestamp: Timestamp
    data: PingData


EVENT_MODELS: dict[EventType, type[BaseModel]] = {
    EventType.signal_routed: SignalRoutedEvent,
    EventType.signal_escalated: SignalEscalatedEvent,
    EventType.signal_rerouted: SignalReroutedEvent,
    EventType.signal_withdrawn: SignalWithdrawnEvent,
    EventType.signal_updated: SignalUpdatedEvent,
    EventType.ping: PingEvent,
}

EventId = Annotated[uuid.UUID, Field(description="The webhook-id the same event is pushed with")]


# The feed's items: the pushed body with the event's id.
class SignalRoutedEventRead(SignalRoutedEvent):
    id: EventId


class SignalEscalatedEventRead(SignalEscalatedEvent):
    id: EventId


class SignalReroutedEventRead(SignalReroutedEvent):
    id: EventId


class SignalWithdrawnEventRead(SignalWithdrawnEvent):
    id: EventId


class SignalUpdatedEventRead(SignalUpdatedEvent):
    id: EventId


class PingEventRead(PingEvent):
    id: EventId


EventRead = Annotated[
    SignalRoutedEventRead
    | SignalEscalatedEventRead
    | SignalReroutedEventRead
    | SignalWithdrawnEventRead
    | SignalUpdatedEventRead
    | PingEventRead,
    Field(discriminator="type"),
]


def example_body(type_: EventType) -> dict[str, Any]:
    """An example webhook body of each type, as the contract shows it."""
    data: dict[str, Any]
    if type_ == EventType.ping:
        data = {
            "endpoint_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
            "message": "Test from Buurtpreventie Plus.",
        }
    elif type_ == EventType.signal_rerouted:
        data = {key: EXAMPLE_CHANGE[key] for key in ALWAYS_SENT}
        data |= {"change": "reject", "assigned_to_you": False}
    else:
        change, status = {
            EventType.signal_routed: ("route", "routed"),
            EventType.signal_escalated: ("escalate", "routed"),
            EventType.signal_withdrawn: ("withdraw", "withdrawn"),
            EventType.signal_updated: ("acknowledge", "acknowledged"),
        }[type_]
        data = EXAMPLE_CHANGE | {"change": change, "status": status}
    return {"type": str(type_), "timestamp": "2026-03-02T09:30:01.204512+01:00", "data": data}
