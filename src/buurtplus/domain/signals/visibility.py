"""Need-to-know for signals (DESIGN.md section 2): who sees how much of which signal."""

import uuid
from enum import StrEnum
from typing import Protocol

from buurtplus.core.actor import Actor, TeamRole
from buurtplus.domain.categories.models import Category, Sensitivity
from buurtplus.domain.signals.models import Signal, SignalEvent
from buurtplus.domain.signals.workflow import (
    FINAL_STATUSES,
    SignalAction,
    SignalStatus,
    next_status,
)


class SignalFields(Protocol):
    """What need-to-know looks at: a stored `Signal`, or a row of the signals table read
    without the ORM (a page of a list)."""

    @property
    def team_id(self) -> uuid.UUID: ...
    @property
    def reporter_id(self) -> uuid.UUID: ...
    @property
    def partner_id(self) -> uuid.UUID | None: ...
    @property
    def status(self) -> SignalStatus: ...


class DetailLevel(StrEnum):
    full = "full"
    # Category, buurt, status and dates only: a coordinator's view of a sensitive signal.
    limited = "limited"


def detail_level(actor: Actor, signal: SignalFields, category: Category) -> DetailLevel | None:
    """How much of `signal` the actor may see; None: not even that it exists."""
    if actor.is_admin or signal.reporter_id == actor.user_id:
        return DetailLevel.full
    if actor.partner_id is not None and signal.partner_id == actor.partner_id:
        return DetailLevel.full  # the partner handles it: it reads the case
    if actor.team_roles.get(signal.team_id) == TeamRole.coordinator:
        if category.sensitivity == Sensitivity.sensitive:
            return DetailLevel.limited
        return DetailLevel.full
    return None


# The order in which allowed_transitions lists the steps.
ACTION_ORDER = (
    SignalAction.withdraw,
    SignalAction.route,
    SignalAction.acknowledge,
    SignalAction.start,
    SignalAction.reject,
    SignalAction.close,
)


def allowed_actions(actor: Actor, signal: SignalFields) -> list[SignalAction]:
    """The workflow steps this actor may take on the signal now."""
    status = signal.status
    if status in FINAL_STATUSES:
        return []
    allowed: set[SignalAction] = set()
    if signal.reporter_id == actor.user_id:
        allowed.add(SignalAction.withdraw)
    if actor.is_admin or handles(actor, signal):
        allowed |= {SignalAction.acknowledge, SignalAction.start, SignalAction.close}
    if handles(actor, signal):
        allowed.add(SignalAction.reject)
    in_queue = status in (SignalStatus.submitted, SignalStatus.unroutable)
    if in_queue and (
        actor.is_admin or actor.team_roles.get(signal.team_id) == TeamRole.coordinator
    ):
        # The coordinator's queue: route by hand, or close a duplicate.
        allowed |= {SignalAction.route, SignalAction.close}
    return [a for a in ACTION_ORDER if a in allowed and next_status(status, a) is not None]


def handles(actor: Actor, signal: SignalFields) -> bool:
    return actor.partner_id is not None and signal.partner_id == actor.partner_id


def may_write_feedback(actor: Actor, signal: Signal) -> bool:
    return actor.is_admin or handles(actor, signal)


def may_read_feedback(actor: Actor, signal: Signal) -> bool:
    # Feedback carries no case details: the reporter and the team's coordinator read it.
    return (
        actor.is_admin
        or signal.reporter_id == actor.user_id
        or actor.team_roles.get(signal.team_id) == TeamRole.coordinator
        or handles(actor, signal)
    )


def sees_event_detail(actor: Actor, event: SignalEvent) -> bool:
    """Whether a history step's note and actor show to someone who sees the signal in full.
    The team's and the system's steps show; a partner's steps show only within that partner
    (its case notes are not for the next partner, nor for the reporter); an admin sees all."""
    return (
        actor.is_admin
        or event.actor_partner_id is None
        or event.actor_partner_id == actor.partner_id
    )
