"""Steps of a signal's workflow: each one stored by `save_step` with its history event,
audit record and the events for partners."""

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Session

from buurtplus.core.actor import Actor
from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.models import AuditEvent
from buurtplus.core.audit.service import audit_row
from buurtplus.core.clock import Clock
from buurtplus.core.db import flush_or_raise
from buurtplus.core.errors import PermissionDenied
from buurtplus.core.ids import time_ordered_id
from buurtplus.domain.signals.errors import (
    OutcomeRequired,
    StaleSignal,
    TransitionNotAllowed,
)
from buurtplus.domain.signals.events import (
    announce_step,
)
from buurtplus.domain.signals.models import Signal, SignalEvent
from buurtplus.domain.signals.reading import SignalView, get_signal
from buurtplus.domain.signals.visibility import (
    allowed_actions,
)
from buurtplus.domain.signals.workflow import (
    Outcome,
    SignalAction,
    SignalStatus,
    next_status,
)


def check_step(
    view: SignalView, action: SignalAction, expected_version: int | None
) -> SignalStatus:
    """The status `action` leads to, if the viewer may take it on this version (If-Match)."""
    if expected_version is not None and expected_version != view.signal.version:
        raise StaleSignal()
    status = view.signal.status
    target = next_status(status, action)
    if target is None:
        raise TransitionNotAllowed(action, status)
    if action not in view.actions:
        raise PermissionDenied(f"You may not {action} this signal.")
    return target


def history_row(
    signal: Signal,
    *,
    version: int,
    actor: Actor | None,
    action: str,
    from_status: SignalStatus | None,
    note: str | None,
    at: datetime,
) -> dict[str, Any]:
    """The columns of the history event of a step that brings `signal` to `version`."""
    return {
        "id": time_ordered_id(),
        "signal_id": signal.id,
        "version": version,
        "created_at": at,
        "actor_id": actor.user_id if actor else None,
        "actor_partner_id": actor.partner_id if actor else None,
        "action": action,
        "from_status": from_status,
        "to_status": signal.status,
        "note": note,
    }


def step_audit_row(
    signal: Signal, *, actor: Actor | None, action: SignalAction, at: datetime
) -> dict[str, Any]:
    return audit_row(
        actor,
        AuditAction.step("signal", action),
        signal.id,
        at=at,
        to_status=signal.status,
        partner_id=str(signal.partner_id) if signal.partner_id else None,
    )


def save_step(
    session: Session,
    signal: Signal,
    *,
    actor: Actor | None,
    action: SignalAction,
    from_status: SignalStatus,
    from_partner_id: uuid.UUID | None,
    note: str | None,
    clock: Clock,
) -> None:
    """Store a change of `signal` with its history event, audit event and the events for
    partners (outbox). The version guard turns a concurrent change in between into
    StaleSignal, and nothing is stored."""
    session.add(signal)
    session.add(
        SignalEvent(
            **history_row(
                signal,
                version=signal.version + 1,
                actor=actor,
                action=action,
                from_status=from_status,
                note=note,
                at=clock.now(),
            )
        )
    )
    flush_or_raise(session, conflict=StaleSignal(), stale=StaleSignal())
    session.add(AuditEvent(**step_audit_row(signal, actor=actor, action=action, at=clock.now())))
    announce_step(session, signal, action=action, from_partner_id=from_partner_id, clock=clock)


def take_action(
    session: Session,
    *,
    actor: Actor,
    signal_id: uuid.UUID,
    action: SignalAction,
    expected_version: int | None,
    clock: Clock,
    outcome: Outcome | None = None,
    note: str | None = None,
) -> SignalView:
    view = get_signal(session, actor=actor, signal_id=signal_id, clock=clock)
    signal = view.signal
    status = signal.status
    target = check_step(view, action, expected_version)
    if action == SignalAction.close and outcome is None:
        raise OutcomeRequired()
    now = clock.now()
    signal.status = target
    signal.updated_at = now
    if action == SignalAction.close:
        signal.outcome = outcome
    if target in (SignalStatus.closed, SignalStatus.withdrawn):
        signal.closed_at = now
    save_step(
        session,
        signal,
        actor=actor,
        action=action,
        from_status=status,
        from_partner_id=signal.partner_id,
        note=note,
        clock=clock,
    )
    return SignalView(signal, view.category, view.level, allowed_actions(actor, signal))
