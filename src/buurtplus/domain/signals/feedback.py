"""Feedback from the side that handles a signal, read by whom the rules allow."""

import uuid

from sqlalchemy import or_
from sqlmodel import Session, col, select

from buurtplus.core.actor import Actor
from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.service import audit
from buurtplus.core.clock import Clock
from buurtplus.core.errors import PermissionDenied
from buurtplus.core.pagination import Page, paginate
from buurtplus.domain.categories.models import Category, Sensitivity
from buurtplus.domain.signals.errors import (
    SignalNotFound,
)
from buurtplus.domain.signals.events import (
    announce_feedback,
)
from buurtplus.domain.signals.models import Feedback, Signal
from buurtplus.domain.signals.reading import get_signal
from buurtplus.domain.signals.visibility import (
    may_read_feedback,
    may_write_feedback,
)


def add_feedback(
    session: Session, *, actor: Actor, signal_id: uuid.UUID, message: str, clock: Clock
) -> Feedback:
    signal = get_signal(session, actor=actor, signal_id=signal_id, clock=clock).signal
    if not may_write_feedback(actor, signal):
        raise PermissionDenied("Feedback comes from the side that handles the signal.")
    if actor.is_client:
        raise PermissionDenied("Feedback is written by a person, not by a system client.")
    feedback = Feedback(
        signal_id=signal.id,
        author_id=actor.user_id,
        author_partner_id=actor.partner_id,
        message=message,
        created_at=clock.now(),
    )
    session.add(feedback)
    session.flush()
    audit(session, actor, AuditAction.feedback_create, signal.id, clock=clock)
    announce_feedback(session, signal, clock=clock)
    return feedback


def list_feedback(
    session: Session,
    *,
    actor: Actor,
    signal_id: uuid.UUID,
    limit: int,
    cursor: str | None,
    clock: Clock,
) -> Page[Feedback]:
    signal = session.get(Signal, signal_id)
    if signal is None or not may_read_feedback(actor, signal):
        raise SignalNotFound()
    statement = select(Feedback).where(Feedback.signal_id == signal_id)
    if not actor.is_admin and actor.partner_id is not None:
        # The rule of the history (sees_event_detail): a partner reads its own organisation's
        # feedback and the admin's, never what a partner before it wrote.
        statement = statement.where(
            or_(
                col(Feedback.author_partner_id).is_(None),
                col(Feedback.author_partner_id) == actor.partner_id,
            )
        )
    page = paginate(
        session,
        statement,
        order=(Feedback.created_at, Feedback.id),
        limit=limit,
        cursor=cursor,
        key=lambda f: (f.created_at, f.id),
    )
    category = session.get(Category, signal.category_id)
    if category is not None and category.sensitivity == Sensitivity.sensitive:
        audit(
            session,
            actor,
            AuditAction.feedback_read,
            signal.id,
            clock=clock,
            category=category.code,
        )
    return page
