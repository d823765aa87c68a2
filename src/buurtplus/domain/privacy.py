"""What the system holds about one person, for their own download (GDPR access)."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from buurtplus.core.actor import Actor
from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.service import audit
from buurtplus.core.clock import Clock
from buurtplus.domain.categories.models import Category
from buurtplus.domain.patrols.models import (
    CalendarFeedToken,
    Patrol,
    PatrolObservation,
    PatrolParticipant,
)
from buurtplus.domain.signals.models import Feedback, Signal, SignalEvent
from buurtplus.domain.signals.reading import SignalView
from buurtplus.domain.signals.visibility import DetailLevel, allowed_actions
from buurtplus.domain.teams.models import Team, TeamMembership
from buurtplus.domain.users.models import User
from buurtplus.domain.users.service import get_user


@dataclass(frozen=True)
class ReportedSignal:
    view: SignalView
    history: list[SignalEvent]
    feedback: list[Feedback]


@dataclass(frozen=True)
class PersonalData:
    user: User
    memberships: list[tuple[TeamMembership, Team]]
    signals: list[ReportedSignal]
    # Rounds signed up for (with when), and what they logged on rounds.
    patrols: list[tuple[PatrolParticipant, Patrol]]
    observations: list[PatrolObservation]
    feed_token_created_at: datetime | None


def export_personal_data(session: Session, *, actor: Actor, clock: Clock) -> PersonalData:
    user = get_user(session, user_id=actor.user_id)
    memberships = list(
        session.exec(
            select(TeamMembership, Team)
            .join(Team, col(Team.id) == TeamMembership.team_id)
            .where(TeamMembership.user_id == user.id)
        ).all()
    )
    signals = list(
        session.exec(
            select(Signal).where(Signal.reporter_id == user.id).order_by(col(Signal.created_at))
        )
    )
    ids = [s.id for s in signals]
    categories = {c.id: c for c in session.exec(select(Category))}
    events = list(
        session.exec(
            select(SignalEvent)
            .where(col(SignalEvent.signal_id).in_(ids))
            .order_by(col(SignalEvent.signal_id), col(SignalEvent.version))
        )
    )
    feedback = list(
        session.exec(
            select(Feedback)
            .where(col(Feedback.signal_id).in_(ids))
            .order_by(col(Feedback.created_at), col(Feedback.id))
        )
    )
    patrols = list(
        session.exec(
            select(PatrolParticipant, Patrol)
            .join(Patrol, col(Patrol.id) == PatrolParticipant.patrol_id)
            .where(PatrolParticipant.user_id == user.id)
            .order_by(col(Patrol.planned_start))
        ).all()
    )
    observations = list(
        session.exec(
            select(PatrolObservation)
            .where(PatrolObservation.author_id == user.id)
            .order_by(col(PatrolObservation.observed_at))
        )
    )
    feed_token = session.get(CalendarFeedToken, user.id)
    audit(session, actor, AuditAction.user_export, user.id, clock=clock, signals=len(signals))
    return PersonalData(
        user=user,
        memberships=[(m, t) for m, t in memberships],
        signals=[
            ReportedSignal(
                view=SignalView(
                    s, categories[s.category_id], DetailLevel.full, allowed_actions(actor, s)
                ),
                history=[e for e in events if e.signal_id == s.id],
                feedback=[f for f in feedback if f.signal_id == s.id],
            )
            for s in signals
        ],
        patrols=[(p, patrol) for p, patrol in patrols],
        observations=observations,
        feed_token_created_at=feed_token.created_at if feed_token else None,
    )
