"""Reading signals, each as much as the reader may see (DESIGN.md section 2)."""

import uuid
from collections import namedtuple
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, cast

import sqlalchemy as sa
from sqlmodel import Session, col, select

from buurtplus.core.actor import Actor, TeamRole
from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.service import audit
from buurtplus.core.clock import Clock
from buurtplus.core.pagination import Page, after_cursor, page_of, paginate
from buurtplus.domain.categories.models import Category, Sensitivity
from buurtplus.domain.categories.snapshots import categories_by_id
from buurtplus.domain.signals.errors import (
    SignalNotFound,
)
from buurtplus.domain.signals.models import Signal, SignalEvent
from buurtplus.domain.signals.visibility import (
    DetailLevel,
    SignalFields,
    allowed_actions,
    detail_level,
)
from buurtplus.domain.signals.workflow import (
    Outcome,
    SignalAction,
    SignalStatus,
    Urgency,
)


class SignalRecord(SignalFields, Protocol):
    """What an answer shows of a signal: a stored `Signal`, or a row of the signals table."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def category_id(self) -> uuid.UUID: ...
    @property
    def description(self) -> str | None: ...
    @property
    def latitude(self) -> float | None: ...
    @property
    def longitude(self) -> float | None: ...
    @property
    def address(self) -> str | None: ...
    @property
    def postcode(self) -> str | None: ...
    @property
    def buurt_code(self) -> str | None: ...
    @property
    def observed_at(self) -> datetime: ...
    @property
    def urgency(self) -> Urgency: ...
    @property
    def emergency_called(self) -> bool: ...
    @property
    def outcome(self) -> Outcome | None: ...
    @property
    def ack_deadline(self) -> datetime | None: ...
    @property
    def routing_explanation(self) -> str | None: ...
    @property
    def patrol_id(self) -> uuid.UUID | None: ...
    @property
    def observation_id(self) -> uuid.UUID | None: ...
    @property
    def version(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def closed_at(self) -> datetime | None: ...
    @property
    def purged_at(self) -> datetime | None: ...


@dataclass(frozen=True)
class SignalReading:
    """A signal as one actor may see it: personal fields are None below full detail. A list's
    signals are plain rows (`SignalRecord`); `SignalView` holds the stored `Signal` itself."""

    signal: SignalRecord
    category: Category
    level: DetailLevel
    actions: list[SignalAction]

    @property
    def full(self) -> bool:
        return self.level == DetailLevel.full


@dataclass(frozen=True)
class SignalView(SignalReading):
    """One signal as one actor may see it, loaded to be read or taken a step further."""

    signal: Signal


def _view(
    session: Session, actor: Actor, signal: SignalRecord, category: Category, clock: Clock
) -> SignalReading | None:
    level = detail_level(actor, signal, category)
    if level is None:
        return None
    if level == DetailLevel.full and category.sensitivity == Sensitivity.sensitive:
        audit(
            session, actor, AuditAction.signal_read, signal.id, clock=clock, category=category.code
        )
    return SignalReading(signal, category, level, allowed_actions(actor, signal))


def get_signal(session: Session, *, actor: Actor, signal_id: uuid.UUID, clock: Clock) -> SignalView:
    signal = session.get(Signal, signal_id)
    category = session.get(Category, signal.category_id) if signal else None
    reading = _view(session, actor, signal, category, clock) if signal and category else None
    if reading is None or signal is None:
        raise SignalNotFound()
    return SignalView(signal, reading.category, reading.level, reading.actions)


@dataclass(frozen=True)
class SignalFilter:
    statuses: list[SignalStatus] = field(default_factory=list)
    category: str | None = None
    team_id: uuid.UUID | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


def list_signals(
    session: Session,
    *,
    actor: Actor,
    filters: SignalFilter,
    limit: int,
    cursor: str | None,
    clock: Clock,
) -> Page[SignalReading]:
    """A page of the signals the actor may see, oldest first, as plain rows.

    Each way of seeing signals (as their reporter, as a team's coordinator, as the partner,
    as an admin: all) reads its next page from an index in page order; the page is the first
    `limit` of those few rows. Never a sort of every signal the actor may see."""
    conditions: list[sa.ColumnElement[bool]] = []
    if filters.statuses:
        conditions.append(col(Signal.status).in_(list(filters.statuses)))
    if filters.category is not None:
        category = session.exec(select(Category).where(Category.code == filters.category)).first()
        conditions.append(col(Signal.category_id) == (category.id if category else None))
    if filters.team_id is not None:
        conditions.append(col(Signal.team_id) == filters.team_id)
    if filters.created_from is not None:
        conditions.append(col(Signal.created_at) >= filters.created_from)
    if filters.created_to is not None:
        conditions.append(col(Signal.created_at) < filters.created_to)
    if cursor is not None:
        conditions.append(after_cursor(_ORDER, cursor))
    pages = [
        sa.select(col(Signal.id), col(Signal.created_at))
        .where(way, *conditions)
        .order_by(*_ORDER)
        .limit(limit + 1)
        .subquery()
        for way in _ways_of_seeing(actor)
    ]
    # A signal seen two ways (a coordinator's own report) is one candidate: `IN` takes it once.
    candidates = sa.union_all(*(sa.select(page.c.id) for page in pages)) if len(pages) > 1 else None
    statement = (
        sa.select(*_RECORD)
        .where(
            col(Signal.id).in_(candidates if candidates is not None else sa.select(pages[0].c.id))
        )
        .order_by(*_ORDER)
        .limit(limit + 1)
    )
    # On the session's connection: a Core select through the session takes the ORM's path.
    rows = [_record(row) for row in session.connection().execute(statement).all()]
    page = page_of(rows, limit=limit, key=lambda s: (s.created_at, s.id))
    categories = categories_by_id(session, {s.category_id for s in page.items})
    views = [_view(session, actor, s, categories[s.category_id], clock) for s in page.items]
    return Page(items=[v for v in views if v is not None], next_cursor=page.next_cursor)


_SIGNALS = Signal.__table__  # type: ignore[attr-defined]
# What a `SignalRecord` holds, and no more: every column read is converted for every row
# (tests/domain/test_signal_reading.py checks the two agree).
RECORD_COLUMNS = (
    "id", "team_id", "reporter_id", "partner_id", "category_id", "status", "outcome",
    "description", "latitude", "longitude", "address", "postcode", "buurt_code",
    "observed_at", "urgency", "emergency_called", "ack_deadline", "routing_explanation",
    "patrol_id", "observation_id", "version", "created_at", "updated_at", "closed_at",
    "purged_at",
)  # fmt: skip
_RECORD = [_SIGNALS.c[name] for name in RECORD_COLUMNS]
# A page's rows as plain named tuples: an answer reads each of their fields, and reading a
# field of SQLAlchemy's row is a Python call (≈ 10 µs a signal, more than building its answer).
_Record = namedtuple("_Record", RECORD_COLUMNS)  # type: ignore[misc]


def _record(row: sa.Row[Any]) -> SignalRecord:
    return cast(SignalRecord, _Record._make(row))


_ORDER = (col(Signal.created_at), col(Signal.id))


def _ways_of_seeing(actor: Actor) -> list[sa.ColumnElement[bool]]:
    """One condition per way the actor sees signals; each matches an index in page order."""
    if actor.is_admin:
        return [sa.true()]
    ways = [col(Signal.reporter_id) == actor.user_id]
    ways += [
        col(Signal.team_id) == team_id
        for team_id, role in sorted(actor.team_roles.items())
        if role == TeamRole.coordinator
    ]
    if actor.partner_id is not None:
        ways.append(col(Signal.partner_id) == actor.partner_id)
    return ways


def signal_history(
    session: Session,
    *,
    actor: Actor,
    signal_id: uuid.UUID,
    limit: int,
    cursor: str | None,
    clock: Clock,
) -> tuple[SignalView, Page[SignalEvent]]:
    view = get_signal(session, actor=actor, signal_id=signal_id, clock=clock)
    page = paginate(
        session,
        select(SignalEvent).where(SignalEvent.signal_id == signal_id),
        order=(SignalEvent.version,),
        key=lambda e: (e.version,),
        limit=limit,
        cursor=cursor,
    )
    return view, page
