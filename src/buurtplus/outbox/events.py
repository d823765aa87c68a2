"""The transactional outbox: an event and its deliveries are written in the transaction of the
change they report, so a committed change always has its event and a rolled-back one never."""

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, text, update
from sqlalchemy import event as sa_event
from sqlmodel import Session, col, select

from buurtplus.core.clock import Clock
from buurtplus.core.ids import time_ordered_id
from buurtplus.outbox import wakeup
from buurtplus.outbox.models import (
    Delivery,
    DeliveryStatus,
    EventType,
    WebhookEndpoint,
    WebhookEvent,
)

NOTIFY_CHANNEL = "buurtplus_deliveries"


def event_body(type_: EventType, created_at: datetime, data: dict[str, Any]) -> str:
    return _compact({"type": type_, "timestamp": created_at.isoformat(), "data": data})


def _compact(body: dict[str, Any]) -> str:
    """The stored (and signed, and sent) form of a body."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def wants(endpoint_types: Iterable[str], type_: EventType) -> bool:
    """Whether an endpoint subscribed to these event types is sent an event of `type_`."""
    return type_ in endpoint_types


@dataclass(frozen=True)
class NewEvent:
    """An event for one partner, to be stored by `store_events` with its deliveries."""

    partner_id: uuid.UUID
    type: EventType
    data: dict[str, Any]
    created_at: datetime
    signal_id: uuid.UUID | None = None


_EVENTS = WebhookEvent.__table__  # type: ignore[attr-defined]
_ENDPOINTS = WebhookEndpoint.__table__  # type: ignore[attr-defined]
# Built once: a statement made per call costs more than the insert it runs. The new rows come
# back in no set order and are matched by id: asked for in the order given, SQLAlchemy inserts
# one row per statement on SQLite (it cannot match SQLite's new sequence numbers to the rows).
_INSERT_EVENTS = insert(_EVENTS).returning(_EVENTS.c.id, _EVENTS.c.seq)
_INSERT_DELIVERIES = insert(Delivery.__table__)  # type: ignore[attr-defined]
_ENABLED_ENDPOINTS = select(
    _ENDPOINTS.c.id, _ENDPOINTS.c.partner_id, _ENDPOINTS.c.event_types
).where(
    _ENDPOINTS.c.partner_id.in_(bindparam("partners", expanding=True)),
    _ENDPOINTS.c.enabled.is_(True),
)


def store_events(connection: Connection, events: list[NewEvent]) -> int:
    """`enqueue_event` for a write made with plain inserts (the group-committing writer): the
    events, then a delivery to each enabled endpoint that wants them. Returns the number of
    deliveries; the caller wakes the workers after its commit."""
    if not events:
        return 0
    rows = [
        {
            "id": time_ordered_id(),
            "partner_id": event.partner_id,
            "type": event.type,
            "signal_id": event.signal_id,
            "created_at": event.created_at,
            "body": event_body(event.type, event.created_at, event.data),
        }
        for event in events
    ]
    seq_of = {row.id: row.seq for row in connection.execute(_INSERT_EVENTS, rows)}
    seqs = [seq_of[row["id"]] for row in rows]
    endpoints = connection.execute(
        _ENABLED_ENDPOINTS, {"partners": list({event.partner_id for event in events})}
    ).all()
    deliveries = [
        {
            "id": time_ordered_id(),
            "event_seq": seq,
            "endpoint_id": endpoint.id,
            "partner_id": event.partner_id,
            "event_type": event.type,
            "status": DeliveryStatus.pending,
            "attempt_count": 0,
            "next_attempt_at": event.created_at,
            "created_at": event.created_at,
        }
        for event, seq in zip(events, seqs, strict=True)
        for endpoint in endpoints
        if endpoint.partner_id == event.partner_id and wants(endpoint.event_types, event.type)
    ]
    if deliveries:
        connection.execute(_INSERT_DELIVERIES, deliveries)
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
    return len(deliveries)


def enqueue_event(
    session: Session,
    *,
    partner_id: uuid.UUID,
    type_: EventType,
    data: dict[str, Any],
    clock: Clock,
    signal_id: uuid.UUID | None = None,
    only_endpoint: WebhookEndpoint | None = None,
) -> WebhookEvent:
    """Store an event for a partner, with a delivery to each enabled endpoint that wants it
    (or to `only_endpoint`, for a test ping).

    Writers take no turns: on PostgreSQL the event carries its transaction's id, and the pull
    feed hands it out only once every transaction that could still sort before it has ended
    (domain/webhooks/feed.py)."""
    now = clock.now()
    event = WebhookEvent(
        partner_id=partner_id,
        type=type_,
        signal_id=signal_id,
        created_at=now,
        body=event_body(type_, now, data),
    )
    session.add(event)
    session.flush()
    endpoints = (
        [only_endpoint]
        if only_endpoint is not None
        else [
            endpoint
            for endpoint in session.exec(
                select(WebhookEndpoint).where(
                    WebhookEndpoint.partner_id == partner_id, col(WebhookEndpoint.enabled)
                )
            )
            if wants(endpoint.event_types, type_)
        ]
    )
    add_deliveries(session, event, endpoints, now=now)
    return event


def add_deliveries(
    session: Session, event: WebhookEvent, endpoints: Iterable[WebhookEndpoint], *, now: datetime
) -> list[Delivery]:
    assert event.seq is not None
    deliveries = [
        Delivery(
            event_seq=event.seq,
            endpoint_id=endpoint.id,
            partner_id=event.partner_id,
            event_type=event.type,
            next_attempt_at=now,
            created_at=now,
        )
        for endpoint in endpoints
    ]
    if deliveries:
        session.add_all(deliveries)
        announce(session)
    return deliveries


def announce(session: Session) -> None:
    """Wake the workers once this transaction commits (not before: they would find nothing).
    PostgreSQL folds repeated notifications of one transaction into one."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
    if not session.info.get("wakes_workers"):
        # A session-level listener: it outlives a savepoint that rolled back.
        session.info["wakes_workers"] = True
        sa_event.listen(session, "after_commit", lambda _: wakeup.wake_workers(), once=True)


def drop_personal_fields(
    session: Session,
    signal_ids: Iterable[uuid.UUID],
    fields: Iterable[str],
    *,
    partner_id: uuid.UUID | None = None,
) -> int:
    """Take `fields` out of the stored events of these signals (of one partner, if given)."""
    ids = list(signal_ids)
    names = set(fields)
    changed = 0
    if not ids:
        return 0
    statement = select(WebhookEvent).where(col(WebhookEvent.signal_id).in_(ids))
    if partner_id is not None:
        statement = statement.where(WebhookEvent.partner_id == partner_id)
    for stored in session.exec(statement):
        body = json.loads(stored.body)
        data = body.get("data", {})
        if names & data.keys():
            for name in names:
                data.pop(name, None)
            stored.body = _compact(body)
            session.add(stored)
            changed += 1
    return changed


def purge_delivery_log(session: Session, *, before: datetime, clock: Clock) -> int:
    """Retention for the outbox: events older than `before` go, with their deliveries and
    attempts (the database cascades); rotated-out secrets past their grace period are wiped."""
    old = session.exec(
        select(func.count()).select_from(WebhookEvent).where(col(WebhookEvent.created_at) < before)
    ).one()
    if old:
        session.execute(delete(WebhookEvent).where(col(WebhookEvent.created_at) < before))
    session.execute(
        update(WebhookEndpoint)
        .where(col(WebhookEndpoint.previous_secret_expires_at) < clock.now())
        .values(
            previous_secret=None,
            previous_secret_expires_at=None,
            version=col(WebhookEndpoint.version) + 1,
        )
    )
    return int(old)
