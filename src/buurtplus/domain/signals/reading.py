"""Reading signals, each as much as the reader may see (DESIGN.md section 2)."""

import functools
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel import Session, col, select

from buurtplus.core.actor import Actor, TeamRole
from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.service import audit
from buurtplus.core.clock import Clock
from buurtplus.core.pagination import Page, after_bound, bound_after, page_of, paginate
from buurtplus.core.plain_query import PlainQuery
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
    # An admin sees every signal in one way; anyone else as reporter, coordinator, partner.
    teams = (
        []
        if actor.is_admin
        else sorted(t for t, role in actor.team_roles.items() if role == TeamRole.coordinator)
    )
    values: dict[str, Any] = {"limit": limit + 1}
    if not actor.is_admin:
        values["reporter_id"] = actor.user_id
        values.update({f"team_{n}": team_id for n, team_id in enumerate(teams)})
        if actor.partner_id is not None:
            values["partner_id"] = actor.partner_id
    # Each status once: a statement is kept per number of statuses, and a status asked for
    # twice must not make another.
    statuses = sorted(set(filters.statuses))
    values.update({f"status_{n}": status for n, status in enumerate(statuses)})
    if filters.category is not None:
        category = session.exec(select(Category).where(Category.code == filters.category)).first()
        # No such category: `= NULL` matches no signal.
        values["category_id"] = category.id if category else None
    if filters.team_id is not None:
        values["team_id"] = filters.team_id
    if filters.created_from is not None:
        values["created_from"] = filters.created_from
    if filters.created_to is not None:
        values["created_to"] = filters.created_to
    if cursor is not None:
        values.update(bound_after(_ORDER, cursor))
    query = _page_query(
        _PageShape(
            admin=actor.is_admin,
            teams=len(teams),
            partner="partner_id" in values,
            statuses=len(statuses),
            category="category_id" in values,
            team="team_id" in values,
            created_from="created_from" in values,
            created_to="created_to" in values,
            after=cursor is not None,
        )
    )
    # On the session's connection, on the driver: a Core select through the session takes the
    # ORM's path, and through the connection SQLAlchemy's execution (6 % of a page).
    rows: list[SignalRecord] = query.all(session.connection(), **values)
    page = page_of(rows, limit=limit, key=lambda s: (s.created_at, s.id))
    categories = categories_by_id(session, {s.category_id for s in page.items})
    views = [_view(session, actor, s, categories[s.category_id], clock) for s in page.items]
    return Page(items=[v for v in views if v is not None], next_cursor=page.next_cursor)


@dataclass(frozen=True)
class _PageShape:
    """What a page's statement depends on; the values (who, which teams, the filters' values,
    the cursor's row) are bound when it runs."""

    admin: bool
    teams: int
    partner: bool
    statuses: int
    category: bool
    team: bool
    created_from: bool
    created_to: bool
    after: bool


@functools.lru_cache(maxsize=256)
def _page_query(shape: _PageShape) -> PlainQuery:
    """A page's query, built once per shape: building one and its cache key cost as much
    as running it (≈ 0.4 ms). Its rows are `SignalRecord`s."""

    def bound(name: str, column: sa.Column[Any]) -> sa.BindParameter[Any]:
        return sa.bindparam(name, type_=column.type, required=True)

    c = _SIGNALS.c
    conditions: list[sa.ColumnElement[bool]] = []
    if shape.statuses:
        conditions.append(
            c.status.in_([bound(f"status_{n}", c.status) for n in range(shape.statuses)])
        )
    if shape.category:
        conditions.append(c.category_id == bound("category_id", c.category_id))
    if shape.team:
        conditions.append(c.team_id == bound("team_id", c.team_id))
    if shape.created_from:
        conditions.append(c.created_at >= bound("created_from", c.created_at))
    if shape.created_to:
        conditions.append(c.created_at < bound("created_to", c.created_at))
    if shape.after:
        conditions.append(after_bound(_ORDER))
    # One condition per way the actor sees signals; each matches an index in page order.
    if shape.admin:
        ways: list[sa.ColumnElement[bool]] = [sa.true()]
    else:
        ways = [c.reporter_id == bound("reporter_id", c.reporter_id)]
        ways += [c.team_id == bound(f"team_{n}", c.team_id) for n in range(shape.teams)]
        if shape.partner:
            ways.append(c.partner_id == bound("partner_id", c.partner_id))
    limit = sa.bindparam("limit", type_=sa.Integer(), required=True)
    pages = [
        sa.select(c.id, c.created_at)
        .where(way, *conditions)
        .order_by(*_ORDER)
        .limit(limit)
        .subquery()
        for way in ways
    ]
    # A signal seen two ways (a coordinator's own report) is one candidate: `IN` takes it once.
    candidates = (
        sa.union_all(*(sa.select(page.c.id) for page in pages))
        if len(pages) > 1
        else sa.select(pages[0].c.id)
    )
    return PlainQuery(
        sa.select(*_RECORD).where(c.id.in_(candidates)).order_by(*_ORDER).limit(limit)
    )


_SIGNALS = Signal.__table__  # type: ignore[attr-defined]
# What a `SignalRecord` holds, and no more: every column read is converted for every row
# (tests/domain/test_signal_reading.py checks the two agree). A page's query answers plain
# named tuples of these: an answer reads each of their fields, and reading a field of
# SQLAlchemy's row is a Python call.
RECORD_COLUMNS = (
    "id", "team_id", "reporter_id", "partner_id", "category_id", "status", "outcome",
    "description", "latitude", "longitude", "address", "postcode", "buurt_code",
    "observed_at", "urgency", "emergency_called", "ack_deadline", "routing_explanation",
    "patrol_id", "observation_id", "version", "created_at", "updated_at", "closed_at",
    "purged_at",
)  # fmt: skip
_RECORD = [_SIGNALS.c[name] for name in RECORD_COLUMNS]


_ORDER = (col(Signal.created_at), col(Signal.id))


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
