"""Retention of signals: personal content goes when a signal has been final long enough."""

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, select

from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.service import audit
from buurtplus.core.clock import Clock
from buurtplus.domain.signals.events import (
    forget_personal_content,
)
from buurtplus.domain.signals.models import Feedback, Signal, SignalEvent


@dataclass(frozen=True)
class PurgeReport:
    signals: int
    feedback_messages: int
    history_notes: int


def purge_expired_content(session: Session, *, retention_days: int, clock: Clock) -> PurgeReport:
    """Remove personal content of signals final for longer than the retention period.

    Category, buurt, dates, status and outcome stay, for statistics.
    """
    now = clock.now()
    cutoff = now - timedelta(days=retention_days)
    expired = list(
        session.exec(
            select(Signal).where(
                col(Signal.closed_at).is_not(None),
                col(Signal.closed_at) < cutoff,
                col(Signal.purged_at).is_(None),
            )
        )
    )
    ids = [signal.id for signal in expired]
    feedback = list(
        session.exec(
            select(Feedback).where(
                col(Feedback.signal_id).in_(ids), col(Feedback.message).is_not(None)
            )
        )
    )
    notes = list(
        session.exec(
            select(SignalEvent).where(
                col(SignalEvent.signal_id).in_(ids), col(SignalEvent.note).is_not(None)
            )
        )
    )
    for signal in expired:
        signal.description = None
        signal.latitude = None
        signal.longitude = None
        signal.address = None
        signal.postcode = signal.postcode[:4] if signal.postcode else None
        signal.purged_at = now
        session.add(signal)
    for item in feedback:
        item.message = None
        session.add(item)
    for event in notes:
        event.note = None
        session.add(event)
    forget_personal_content(session, ids)
    session.flush()
    if expired:
        audit(session, None, AuditAction.signal_purge, None, clock=clock, count=len(expired))
    return PurgeReport(
        signals=len(expired), feedback_messages=len(feedback), history_notes=len(notes)
    )
