"""Pull instead of push: a partner reads its events in order, from a position it keeps."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import BigInteger, Text, cast, func, literal, tuple_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

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


EVENT_CURSOR_PREFIX = "evt_"
_MAX_DIGITS = 18  # below 2^63: the numbers are bigint columns


@dataclass(frozen=True)
class FeedPosition:
    """Where a partner is in its feed: after the event of transaction `xact_id` numbered `seq`.
    SQLite has no transaction ids (0); on PostgreSQL, events written before they were kept are
    transaction 0 too, in commit order by number."""

    xact_id: int
    seq: int

    def cursor(self) -> str:
        if self.xact_id == 0:
            return f"{EVENT_CURSOR_PREFIX}{self.seq}"
        return f"{EVENT_CURSOR_PREFIX}{self.xact_id}_{self.seq}"


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
    start = FeedPosition(0, 0) if after is None else parse_position(after)
    statement = select(WebhookEvent).where(WebhookEvent.partner_id == partner_id)
    if types:
        statement = statement.where(col(WebhookEvent.type).in_(types))
    if session.get_bind().dialect.name == "postgresql":
        statement = _in_transaction_order(statement, start)
    else:
        # One writer at a time: numbers are handed out in commit order.
        statement = statement.where(col(WebhookEvent.seq) > start.seq).order_by(
            col(WebhookEvent.seq)
        )
    rows = list(session.exec(statement.limit(limit + 1)))
    has_more = len(rows) > limit
    rows = rows[:limit]
    last = _position_of(rows[-1]) if rows else start
    return EventFeed(items=rows, position=last.cursor(), has_more=has_more)


# Of the oldest transaction still running when this statement's snapshot was taken: every
# transaction with a lower id has ended (committed, and visible to the statement, or rolled back)
# and every transaction that may still write gets this id or a higher one.
_OLDEST_RUNNING = cast(cast(func.pg_snapshot_xmin(func.pg_current_snapshot()), Text), BigInteger)


def _in_transaction_order(
    statement: SelectOfScalar[WebhookEvent], start: FeedPosition
) -> SelectOfScalar[WebhookEvent]:
    """PostgreSQL: writers run side by side, so an event numbered lower may commit later than
    one numbered higher, and paging by number alone would pass it by. Events are read in the
    order of (writing transaction, number), and only those of transactions older than every one
    still running: nothing can appear before the position handed out any more."""
    xact_id, seq = col(WebhookEvent.xact_id), col(WebhookEvent.seq)
    return statement.where(
        tuple_(xact_id, seq) > tuple_(literal(start.xact_id), literal(start.seq)),
        xact_id < _OLDEST_RUNNING,
    ).order_by(xact_id, seq)


def _position_of(event: WebhookEvent) -> FeedPosition:
    assert event.seq is not None
    return FeedPosition(event.xact_id or 0, event.seq)


def parse_position(cursor: str) -> FeedPosition:
    """The position inside a feed cursor: `evt_<seq>` (SQLite, and PostgreSQL before events
    kept their transaction) or `evt_<xact_id>_<seq>`."""
    if not cursor.startswith(EVENT_CURSOR_PREFIX):
        raise InvalidCursor()
    parts = cursor.removeprefix(EVENT_CURSOR_PREFIX).split("_")
    if len(parts) > 2 or not all(
        part.isascii() and part.isdigit() and len(part) <= _MAX_DIGITS for part in parts
    ):
        raise InvalidCursor()
    numbers = [int(part) for part in parts]
    return FeedPosition(0, numbers[0]) if len(numbers) == 1 else FeedPosition(*numbers)
