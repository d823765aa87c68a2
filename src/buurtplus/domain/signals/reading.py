"""Reading signals, each as much as the reader may see (DESIGN.md section 2)."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from buurtplus.core.actor import Actor, TeamRole
from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.service import audit
from buurtplus.core.clock import Clock
from buurtplus.core.pagination import Page, paginate
from buurtplus.domain.categories.models import Category, Sensitivity
from buurtplus.domain.signals.errors import (
    SignalNotFound,
)
from buurtplus.domain.signals.models import Signal, SignalEvent
from buurtplus.domain.signals.visibility import (
    DetailLevel,
    allowed_actions,
    detail_level,
)
from buurtplus.domain.signals.workflow import (
    SignalAction,
    SignalStatus,
)


@dataclass(frozen=True)
class SignalView:
    """A signal as one actor may see it: personal fields are None below full detail."""

    signal: Signal
    category: Category
    level: DetailLevel
    actions: list[SignalAction]

    @property
    def full(self) -> bool:
        return self.level == DetailLevel.full

    def personal(self, value: Any) -> Any:
        return value if self.full else None


def _view(
    session: Session, actor: Actor, signal: Signal, category: Category, clock: Clock
) -> SignalView | None:
    level = detail_level(actor, signal, category)
    if level is None:
        return None
    if level == DetailLevel.full and category.sensitivity == Sensitivity.sensitive:
        audit(
            session, actor, AuditAction.signal_read, signal.id, clock=clock, category=category.code
        )
    return SignalView(signal, category, level, allowed_actions(actor, signal))


def get_signal(session: Session, *, actor: Actor, signal_id: uuid.UUID, clock: Clock) -> SignalView:
    signal = session.get(Signal, signal_id)
    category = session.get(Category, signal.category_id) if signal else None
    view = _view(session, actor, signal, category, clock) if signal and category else None
    if view is None:
        raise SignalNotFound()
    return view


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
) -> Page[SignalView]:
    statement = select(Signal)
    if not actor.is_admin:
        coordinated = [t for t, role in actor.team_roles.items() if role == TeamRole.coordinator]
        visible = [
            col(Signal.reporter_id) == actor.user_id,
            col(Signal.team_id).in_(coordinated),
        ]
        if actor.partner_id is not None:
            visible.append(col(Signal.partner_id) == actor.partner_id)
        statement = statement.where(or_(*visible))
    if filters.statuses:
        statement = statement.where(col(Signal.status).in_(list(filters.statuses)))
    if filters.category is not None:
        category = session.exec(select(Category).where(Category.code == filters.category)).first()
        statement = statement.where(Signal.category_id == (category.id if category else None))
    if filters.team_id is not None:
        statement = statement.where(Signal.team_id == filters.team_id)
    if filters.created_from is not None:
        statement = statement.where(Signal.created_at >= filters.created_from)
    if filters.created_to is not None:
        statement = statement.where(Signal.created_at < filters.created_to)
    page = paginate(
        session,
        statement,
        order=(Signal.created_at, Signal.id),
        limit=limit,
        cursor=cursor,
        key=lambda s: (s.created_at, s.id),
    )
    categories = _categories(session, {s.category_id for s in page.items})
    views = [_view(session, actor, s, categories[s.category_id], clock) for s in page.items]
    return Page(items=[v for v in views if v is not None], next_cursor=page.next_cursor)


def _categories(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, Category]:
    if not ids:
        return {}
    return {c.id: c for c in session.exec(select(Category).where(col(Category.id).in_(ids)))}


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
