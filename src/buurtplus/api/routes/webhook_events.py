"""The webhooks a partner receives (the contract's top-level `webhooks`): documentation only.

Each operation is a request this service sends to a partner's endpoint; nothing here is served.
"""

from typing import Annotated

from fastapi import APIRouter, Body, Header

from buurtplus.api.schemas.events import (
    PingEvent,
    SignalEscalatedEvent,
    SignalReroutedEvent,
    SignalRoutedEvent,
    SignalUpdatedEvent,
    SignalWithdrawnEvent,
    example_body,
)
from buurtplus.outbox.models import EventType

router = APIRouter(tags=["webhooks"])

WebhookId = Annotated[
    str,
    Header(
        alias="webhook-id",
        description="The event's id: the same on every retry, so deduplicate on it "
        "(also the `id` of the event in the pull feed)",
        examples=["5f0e2d1c-3b4a-4c5d-8e6f-7a8b9c0d1e2f"],
    ),
]
WebhookTimestamp = Annotated[
    str,
    Header(
        alias="webhook-timestamp",
        pattern=r"^[0-9]+$",
        description="Unix time in seconds of this attempt; refuse one far from your clock "
        "(Standard Webhooks suggests 5 minutes) to stop replays",
        examples=["1772440201"],
    ),
]
WebhookSignature = Annotated[
    str,
    Header(
        alias="webhook-signature",
        description="`v1,` and the base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}."
        "{body}` with the endpoint's secret (the base64 after `whsec_`), over the exact bytes "
        "received; during a secret rotation a second signature, space-separated",
        examples=["v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="],
    ),
]


def _example(type_: EventType) -> dict[str, dict[str, object]]:
    return {str(type_): {"summary": f"A {type_} event", "value": example_body(type_)}}


@router.post(str(EventType.signal_routed), summary="A signal is now yours to handle")
def signal_routed(
    body: Annotated[SignalRoutedEvent, Body(openapi_examples=_example(EventType.signal_routed))],
    webhook_id: WebhookId,
    webhook_timestamp: WebhookTimestamp,
    webhook_signature: WebhookSignature,
) -> None:
    """Sent to the partner a signal is routed to: by the routing rules when it is reported, by
    a coordinator by hand, or after another partner said "not ours". Acknowledge it before
    `data.ack_deadline` (`POST /api/v1/signals/{signal_id}/acknowledge`), or it escalates to the
    fallback partner. A sensitive category carries no description or place: read the signal
    with your own token (that read is audited)."""


@router.post(str(EventType.signal_escalated), summary="A signal is now yours as fallback")
def signal_escalated(
    body: Annotated[
        SignalEscalatedEvent, Body(openapi_examples=_example(EventType.signal_escalated))
    ],
    webhook_id: WebhookId,
    webhook_timestamp: WebhookTimestamp,
    webhook_signature: WebhookSignature,
) -> None:
    """Sent to the fallback partner when the partner a signal was routed to did not acknowledge
    it before its deadline. The same payload as `signal.routed`."""


@router.post(str(EventType.signal_rerouted), summary="A signal is no longer yours")
def signal_rerouted(
    body: Annotated[
        SignalReroutedEvent, Body(openapi_examples=_example(EventType.signal_rerouted))
    ],
    webhook_id: WebhookId,
    webhook_timestamp: WebhookTimestamp,
    webhook_signature: WebhookSignature,
) -> None:
    """Sent to the partner a signal left: it declined it, missed the acknowledgement deadline,
    or a coordinator routed it elsewhere. It holds only what is always sent
    (`assigned_to_you` is false), and the personal content of your earlier events about this
    signal is taken out of your feed."""


@router.post(str(EventType.signal_withdrawn), summary="The reporter took a signal back")
def signal_withdrawn(
    body: Annotated[
        SignalWithdrawnEvent, Body(openapi_examples=_example(EventType.signal_withdrawn))
    ],
    webhook_id: WebhookId,
    webhook_timestamp: WebhookTimestamp,
    webhook_signature: WebhookSignature,
) -> None:
    """Sent to the partner that has the signal when its reporter withdraws it (possible only
    before it is acknowledged). Nothing more is asked of you."""


@router.post(str(EventType.signal_updated), summary="Something else happened to your signal")
def signal_updated(
    body: Annotated[SignalUpdatedEvent, Body(openapi_examples=_example(EventType.signal_updated))],
    webhook_id: WebhookId,
    webhook_timestamp: WebhookTimestamp,
    webhook_signature: WebhookSignature,
) -> None:
    """Sent to the partner that has the signal for every other step: acknowledged, started,
    closed (`data.change` names the step), or new feedback (`data.change` is `feedback`; that
    event carries no description or place)."""


@router.post(str(EventType.ping), summary="A test sent to one endpoint")
def ping(
    body: Annotated[PingEvent, Body(openapi_examples=_example(EventType.ping))],
    webhook_id: WebhookId,
    webhook_timestamp: WebhookTimestamp,
    webhook_signature: WebhookSignature,
) -> None:
    """Sent when your partner administrator asks for a test
    (`POST /api/v1/partners/{partner_id}/endpoints/{endpoint_id}/test`), to that endpoint only,
    signed like every other event."""
