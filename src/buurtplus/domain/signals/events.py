"""What partners are told about a signal (DESIGN.md section 5), written to the outbox in the
transaction of the step itself.

- `signal.routed`: the signal is now yours (first routing, by hand, or after another partner
  said "not ours").
- `signal.escalated`: the signal is now yours as fallback, because the first partner did not
  acknowledge in time.
- `signal.rerouted`: the signal left you (you declined it, missed the deadline, or it was routed
  elsewhere by hand).
- `signal.withdrawn`: the reporter took it back.
- `signal.updated`: anything else that happened to a signal of yours (acknowledged, started,
  closed, feedback added).

Sensitive categories carry a thin payload (ids, category, urgency, status, dates, links): the
partner fetches the rest with its own token, so that read is authenticated and audited. A
partner the signal left learns only that (and its earlier events lose their personal content).
"""

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Session

from buurtplus.core.clock import Clock
from buurtplus.domain.categories.models import Category
from buurtplus.domain.signals.models import Signal
from buurtplus.domain.signals.workflow import SignalAction
from buurtplus.outbox.events import NewEvent, drop_personal_fields, enqueue_event
from buurtplus.outbox.models import EventType

API = "/api/v1"
# What retention purges from stored events, as it does from the signal.
PERSONAL_FIELDS = ("description", "latitude", "longitude", "address", "postcode")

_MOVES = frozenset(
    {SignalAction.route, SignalAction.reject, SignalAction.escalate, SignalAction.mark_unroutable}
)


def signal_event_data(
    signal: Signal, category: Category, *, change: str, recipient: uuid.UUID, full: bool
) -> dict[str, Any]:
    """What a partner is told. A partner that no longer has the signal learns only that it
    left; a sensitive category shows no place; `full` adds the personal content."""
    assigned = signal.partner_id == recipient
    sensitive = category.sensitivity == "sensitive"
    data: dict[str, Any] = {
        "signal_id": str(signal.id),
        "change": change,
        "assigned_to_you": assigned,
        "category": category.code,
        "category_group": category.group,
        "sensitive": sensitive,
        "urgency": signal.urgency,
        "links": {
            "signal": f"{API}/signals/{signal.id}",
            "history": f"{API}/signals/{signal.id}/history",
            "feedback": f"{API}/signals/{signal.id}/feedback",
        },
    }
    if not assigned:
        return data
    data |= {
        "status": signal.status,
        "version": signal.version,
        "team_id": str(signal.team_id),
        "created_at": signal.created_at.isoformat(),
        "ack_deadline": signal.ack_deadline.isoformat() if signal.ack_deadline else None,
    }
    if not sensitive:
        data["buurt_code"] = signal.buurt_code
    if full and not sensitive:
        data |= {
            "description": signal.description,
            "observed_at": signal.observed_at.isoformat(),
            "latitude": signal.latitude,
            "longitude": signal.longitude,
            "address": signal.address,
            "postcode": signal.postcode,
        }
    return data


def _notices(
    action: SignalAction, before: uuid.UUID | None, now: uuid.UUID | None
) -> list[tuple[uuid.UUID, EventType]]:
    if action in _MOVES and before != now:
        notices = []
        if before is not None:
            notices.append((before, EventType.signal_rerouted))
        if now is not None:
            kind = (
                EventType.signal_escalated
                if action == SignalAction.escalate
                else EventType.signal_routed
            )
            notices.append((now, kind))
        return notices
    if now is None:
        return []
    if action == SignalAction.withdraw:
        return [(now, EventType.signal_withdrawn)]
    return [(now, EventType.signal_updated)]


def step_events(
    signal: Signal,
    category: Category,
    *,
    action: SignalAction,
    from_partner_id: uuid.UUID | None,
    at: datetime,
) -> list[NewEvent]:
    """What each partner concerned is told of a step: the one it left, the one it reached."""
    return [
        NewEvent(
            partner_id=recipient,
            type=kind,
            data=signal_event_data(
                signal,
                category,
                change=action,
                recipient=recipient,
                full=recipient == signal.partner_id,
            ),
            created_at=at,
            signal_id=signal.id,
        )
        for recipient, kind in _notices(action, from_partner_id, signal.partner_id)
    ]


def announce_step(
    session: Session,
    signal: Signal,
    *,
    action: SignalAction,
    from_partner_id: uuid.UUID | None,
    clock: Clock,
) -> None:
    category = session.get(Category, signal.category_id)
    assert category is not None
    for event in step_events(
        signal, category, action=action, from_partner_id=from_partner_id, at=clock.now()
    ):
        if event.type == EventType.signal_rerouted:
            # It left them: what they were sent about it no longer stays readable in their feed.
            drop_personal_fields(session, [signal.id], PERSONAL_FIELDS, partner_id=event.partner_id)
        enqueue_event(
            session,
            partner_id=event.partner_id,
            type_=event.type,
            data=event.data,
            signal_id=signal.id,
            clock=clock,
        )


def announce_feedback(session: Session, signal: Signal, *, clock: Clock) -> None:
    if signal.partner_id is None:
        return
    category = session.get(Category, signal.category_id)
    assert category is not None
    enqueue_event(
        session,
        partner_id=signal.partner_id,
        type_=EventType.signal_updated,
        data=signal_event_data(
            signal, category, change="feedback", recipient=signal.partner_id, full=False
        ),
        signal_id=signal.id,
        clock=clock,
    )


def forget_personal_content(session: Session, signal_ids: list[uuid.UUID]) -> int:
    return drop_personal_fields(session, signal_ids, PERSONAL_FIELDS)
