"""Pull instead of push: a partner reads its events in order, from a position it keeps."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from buurtplus.core.actor import Actor
from buurtplus.core.errors import InvalidCursor, PermissionDenied
from buurtplus.domain.partners.service import get_partner
from buurtplus.outbox.models import EventType, WebhookEvent


@dataclass(frozen=True)
class EventFeed:
    items: list[WebhookEvent]
    # Where the next read starts: after the last event handed out (or where this one started).
    position: str | None
    has_more: bool


def read_events(
    session: Session,
    *,
    actor: Actor,
    partner_id: uuid.UUID | None,
    after: str | None,
    limit: int,
    types: Sequence[EventType] = (),
) -> EventFeed:
    """The partner's events in the order they happened, the same ones its endpoints get."""
    if actor.partner_id is not None:
        if partner_id is not None and partner_id != actor.partner_id:
            raise PermissionDenied("A partner reads its own events.")
        partner_id = actor.partner_id
    elif not actor.is_admin:
        raise PermissionDenied("Events are read by partners (and an admin on their behalf).")
    elif partner_id is None:
        raise PermissionDenied("Name the partner whose events to read (partner_id).")
    else:
        get_partner(session, actor=actor, partner_id=partner_id)
    start = 0 if after is None else _event_position(after)
    statement = select(WebhookEvent).where(
        WebhookEvent.partner_id == partner_id, col(WebhookEvent.seq) > start
    )
    if types:
        statement = statement.where(col(WebhookEvent.type).in_(types))
    rows = list(session.exec(statement.order_by(col(WebhookEvent.seq)).limit(limit + 1)))
    has_more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1].seq if rows else start
    assert last is not None
    return EventFeed(items=rows, position=f"{EVENT_CURSOR_PREFIX}{last}", has_more=has_more)


EVENT_CURSOR_PREFIX = "evt_"


def _event_position(cursor: str) -> int:
    """The event number inside a feed cursor (`evt_<number>`)."""
    digits = cursor.removeprefix(EVENT_CURSOR_PREFIX)
    if not cursor.startswith(EVENT_CURSOR_PREFIX) or not digits.isascii() or not digits.isdigit():
        raise InvalidCursor()
    if len(digits) > 18:
        raise InvalidCursor()
    return int(digits)
