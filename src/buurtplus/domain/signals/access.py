"""Need-to-know for signals (DESIGN.md section 2): who sees how much of which signal."""

from enum import StrEnum

from buurtplus.domain.access import Actor, TeamRole
from buurtplus.domain.signals.models import Category, Signal
from buurtplus.domain.signals.workflow import (
    FINAL_STATUSES,
    SignalAction,
    SignalStatus,
    next_status,
)


class Sensitivity(StrEnum):
    normal = "normal"
    sensitive = "sensitive"


class CategoryGroup(StrEnum):
    safety = "safety"
    social = "social"
    heart_safety = "heart_safety"


class DetailLevel(StrEnum):
    full = "full"
    # Category, buurt, status and dates only: a coordinator's view of a sensitive signal.
    limited = "limited"


def detail_level(actor: Actor, signal: Signal, category: Category) -> DetailLevel | None:
    """How much of `signal` the actor may see; None: not even that it exists."""
    if actor.is_admin or signal.reporter_id == actor.user_id:
        return DetailLevel.full
    if actor.team_roles.get(signal.team_id) == TeamRole.coordinator:
        if category.sensitivity == Sensitivity.sensitive:
            return DetailLevel.limited
        return DetailLevel.full
    return None


def allowed_actions(actor: Actor, signal: Signal) -> list[SignalAction]:
    """The workflow steps this actor may take on the signal now."""
    status = SignalStatus(signal.status)
    if status in FINAL_STATUSES:
        return []
    candidates: list[SignalAction] = []
    if signal.reporter_id == actor.user_id:
        candidates.append(SignalAction.withdraw)
    if actor.is_admin:
        candidates += [SignalAction.acknowledge, SignalAction.start, SignalAction.close]
    elif actor.team_roles.get(signal.team_id) == TeamRole.coordinator and status in (
        SignalStatus.submitted,
        SignalStatus.unroutable,
    ):
        # The coordinator's queue: close a duplicate or a signal that needs nothing.
        candidates.append(SignalAction.close)
    return [action for action in candidates if next_status(status, action) is not None]


def may_write_feedback(actor: Actor) -> bool:
    return actor.is_admin


def may_read_feedback(actor: Actor, signal: Signal) -> bool:
    # Feedback carries no case details: the reporter and the team's coordinator read it.
    return (
        actor.is_admin
        or signal.reporter_id == actor.user_id
        or actor.team_roles.get(signal.team_id) == TeamRole.coordinator
    )
