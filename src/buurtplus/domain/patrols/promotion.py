"""From observation to signal: a participant reports what they saw through the ordinary
intake, prefilled from the observation."""

import uuid
from dataclasses import dataclass

from sqlmodel import Session, select

from buurtplus.core.actor import Actor
from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.service import audit
from buurtplus.core.clock import Clock
from buurtplus.core.errors import PermissionDenied
from buurtplus.domain.patrols.errors import AlreadyPromoted, CategoryRequired, ObservationNotFound
from buurtplus.domain.patrols.models import PatrolObservation
from buurtplus.domain.patrols.planning import visible_patrol
from buurtplus.domain.patrols.signups import participant_ids
from buurtplus.domain.patrols.workflow import DEFAULT_CATEGORY, KIND_LABEL_NL
from buurtplus.domain.routing.router import Router
from buurtplus.domain.signals.advice import advice_for
from buurtplus.domain.signals.intake import SignalDraft, Submission, submit_signal
from buurtplus.domain.signals.models import Signal
from buurtplus.domain.signals.reading import get_signal
from buurtplus.domain.signals.workflow import Urgency


@dataclass(frozen=True)
class Promotion:
    """What the volunteer changes of the prefilled signal; None keeps the prefilled value."""

    category: str | None = None
    description: str | None = None
    urgency: Urgency | None = None
    emergency_called: bool = False
    address: str | None = None
    postcode: str | None = None
    buurt_code: str | None = None


def promote_observation(
    session: Session,
    *,
    actor: Actor,
    patrol_id: uuid.UUID,
    observation_id: uuid.UUID,
    promotion: Promotion,
    clock: Clock,
    router: Router | None = None,
) -> Submission:
    """Report a signal made of an observation, through the ordinary intake (routing, Plus mode,
    advice, audit); the signal and the observation point at each other. An observation becomes
    one signal: asking again returns it."""
    patrol = visible_patrol(session, actor, patrol_id)
    # Locked, so two taps on "make a signal" cannot make two.
    observation = session.get(PatrolObservation, observation_id, with_for_update=True)
    if observation is None or observation.patrol_id != patrol.id:
        raise ObservationNotFound()
    if not (
        observation.author_id == actor.user_id
        or actor.user_id in participant_ids(session, patrol.id)
        or actor.can_manage_team(patrol.team_id)
    ):
        raise PermissionDenied(
            "Only the round's participants or the team's coordinator make a signal of it."
        )
    earlier = session.exec(select(Signal).where(Signal.observation_id == observation.id)).first()
    if earlier is not None:
        if earlier.reporter_id != actor.user_id:
            raise AlreadyPromoted()
        view = get_signal(session, actor=actor, signal_id=earlier.id, clock=clock)
        advice = advice_for(
            view.category,
            urgency=Urgency(earlier.urgency),
            emergency_called=earlier.emergency_called,
        )
        return Submission(view=view, advice=advice, replayed=True)
    kind = observation.kind
    category = promotion.category or DEFAULT_CATEGORY[kind]
    if category is None:
        raise CategoryRequired(kind)
    label = KIND_LABEL_NL[kind]
    draft = SignalDraft(
        category=category,
        description=promotion.description
        or (f"{label}: {observation.note}" if observation.note else label),
        urgency=promotion.urgency or Urgency.normal,
        emergency_called=promotion.emergency_called,
        observed_at=observation.observed_at,
        latitude=observation.latitude,
        longitude=observation.longitude,
        address=promotion.address,
        postcode=promotion.postcode,
        buurt_code=promotion.buurt_code,
        team_id=patrol.team_id,
        patrol_id=patrol.id,
        observation_id=observation.id,
    )
    submission = submit_signal(
        session, actor=actor, draft=draft, idempotency_key=None, clock=clock, router=router
    )
    audit(
        session,
        actor,
        AuditAction.observation_promote,
        observation.id,
        clock=clock,
        signal_id=str(submission.view.signal.id),
    )
    return submission
