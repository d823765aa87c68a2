"""Walking a round: starting, finishing or calling it off, at the times it actually happened."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from buurtplus.core.actor import Actor
from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.service import audit
from buurtplus.core.clock import Clock
from buurtplus.core.errors import PermissionDenied
from buurtplus.domain.patrols.errors import ActualTimeInvalid, PatrolTransitionNotAllowed
from buurtplus.domain.patrols.models import Patrol, PatrolObservation
from buurtplus.domain.patrols.planning import (
    MAX_PATROL_HOURS,
    PatrolView,
    allowed_actions,
    check_version,
    patrol_view,
    save_patrol,
    visible_patrol,
)
from buurtplus.domain.patrols.workflow import PatrolAction, next_status
from buurtplus.domain.signals.intake import CLOCK_SKEW

# How far from the planned time a round may actually start.
START_MARGIN = timedelta(hours=12)


def take_step(
    session: Session,
    *,
    actor: Actor,
    patrol_id: uuid.UUID,
    action: PatrolAction,
    at: datetime | None,
    reason: str | None,
    expected_version: int | None,
    clock: Clock,
) -> PatrolView:
    """Start, finish or cancel a patrol; `at` is the actual time (default now)."""
    view = patrol_view(session, actor, visible_patrol(session, actor, patrol_id, lock=True))
    patrol = view.patrol
    check_version(patrol, expected_version)
    target = next_status(patrol.status, action)
    if target is None:
        raise PatrolTransitionNotAllowed(action, patrol.status)
    if action not in view.actions:
        raise PermissionDenied(
            f"Only the patrol's participants or the team's coordinator may {action} it."
        )
    now = clock.now()
    moment = (at or now).astimezone(UTC)
    if moment > now + CLOCK_SKEW:
        raise ActualTimeInvalid("at lies in the future.")
    if action == PatrolAction.start:
        _check_start(patrol, moment)
        patrol.started_at = moment
    elif action == PatrolAction.finish:
        _check_finish(session, patrol, moment)
        patrol.finished_at = moment
    else:
        patrol.cancelled_at = now
        patrol.cancel_reason = reason
    patrol.status = target
    patrol.updated_at = now
    save_patrol(session, patrol)
    audit(
        session, actor, AuditAction.step("patrol", action), patrol.id, clock=clock, to_status=target
    )
    return PatrolView(
        patrol,
        view.participants,
        view.observation_count,
        allowed_actions(actor, patrol, view.participants),
    )


def _check_start(patrol: Patrol, moment: datetime) -> None:
    # A round is started around when it was planned (late logging included), not years off.
    earliest = patrol.planned_start - START_MARGIN
    latest = patrol.planned_end + START_MARGIN
    if not earliest <= moment <= latest:
        raise ActualTimeInvalid(
            f"at must lie within {START_MARGIN.total_seconds() / 3600:.0f} hours of the planned "
            f"round ({patrol.planned_start.isoformat()} to {patrol.planned_end.isoformat()})."
        )


def _check_finish(session: Session, patrol: Patrol, moment: datetime) -> None:
    assert patrol.started_at is not None
    if moment <= patrol.started_at:
        raise ActualTimeInvalid(f"at must lie after the start ({patrol.started_at.isoformat()}).")
    if moment - patrol.started_at > timedelta(hours=MAX_PATROL_HOURS):
        raise ActualTimeInvalid(f"A round lasts at most {MAX_PATROL_HOURS} hours.")
    last = session.exec(
        select(func.max(PatrolObservation.observed_at)).where(
            PatrolObservation.patrol_id == patrol.id
        )
    ).one()
    # SQLite hands back the aggregate as naive UTC.
    if last is not None and last.replace(tzinfo=UTC) > moment + CLOCK_SKEW:
        raise ActualTimeInvalid("at lies before the last observation logged on this round.")
