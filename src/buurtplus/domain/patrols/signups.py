"""Who walks a round: signing up and off, and what ends a sign-up without anyone asking
(someone who left the team, was switched off or is no longer a volunteer no longer counts
towards a round's pair)."""

import uuid
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from buurtplus.core.actor import Actor
from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.service import audit
from buurtplus.core.clock import Clock
from buurtplus.core.errors import PermissionDenied
from buurtplus.domain.patrols.errors import (
    AlreadySignedUp,
    NotAMemberOfTheTeam,
    ParticipantNotFound,
    PatrolClosed,
)
from buurtplus.domain.patrols.models import Patrol, PatrolParticipant
from buurtplus.domain.patrols.planning import PatrolView, patrol_view, save_patrol, visible_patrol
from buurtplus.domain.patrols.workflow import OPEN_STATUSES
from buurtplus.domain.teams.models import TeamMembership


def participant_ids(session: Session, patrol_id: uuid.UUID) -> set[uuid.UUID]:
    return set(
        session.exec(
            select(PatrolParticipant.user_id).where(PatrolParticipant.patrol_id == patrol_id)
        ).all()
    )


def sign_up(
    session: Session,
    *,
    actor: Actor,
    patrol_id: uuid.UUID,
    user_id: uuid.UUID | None,
    clock: Clock,
) -> PatrolView:
    """Sign the actor up (user_id None or their own), or, as coordinator, a team member."""
    # Locked: two volunteers signing up at once take turns instead of one getting a 412.
    patrol = visible_patrol(session, actor, patrol_id, lock=True)
    target = user_id or actor.user_id
    if target != actor.user_id and not actor.can_manage_team(patrol.team_id):
        raise PermissionDenied("Only the team's coordinator signs up someone else.")
    if session.get(TeamMembership, (patrol.team_id, target)) is None:
        raise NotAMemberOfTheTeam()
    if patrol.status not in OPEN_STATUSES:
        raise PatrolClosed(patrol.status)
    if session.get(PatrolParticipant, (patrol.id, target)) is not None:
        raise AlreadySignedUp()
    now = clock.now()
    session.add(PatrolParticipant(patrol_id=patrol.id, user_id=target, joined_at=now))
    # The participants are part of the patrol: its version (ETag) moves with them.
    patrol.updated_at = now
    try:
        save_patrol(session, patrol)
    except IntegrityError as exc:  # a concurrent sign-up of the same person
        raise AlreadySignedUp() from exc
    audit(session, actor, AuditAction.patrol_sign_up, patrol.id, clock=clock, user_id=str(target))
    return patrol_view(session, actor, patrol)


def sign_off(
    session: Session, *, actor: Actor, patrol_id: uuid.UUID, user_id: uuid.UUID, clock: Clock
) -> None:
    patrol = visible_patrol(session, actor, patrol_id, lock=True)
    if user_id != actor.user_id and not actor.can_manage_team(patrol.team_id):
        raise PermissionDenied("Only the team's coordinator signs off someone else.")
    participation = session.get(PatrolParticipant, (patrol.id, user_id))
    if participation is None:
        raise ParticipantNotFound()
    if patrol.status not in OPEN_STATUSES:
        raise PatrolClosed(patrol.status)
    session.delete(participation)
    patrol.updated_at = clock.now()
    save_patrol(session, patrol)
    audit(session, actor, AuditAction.patrol_sign_off, patrol.id, clock=clock, user_id=str(user_id))


def drop_open_signups(
    session: Session, *, user_id: uuid.UUID, now: datetime, team_id: uuid.UUID | None = None
) -> int:
    """Take the user off every planned or active round (of one team, if given)."""
    statement = (
        select(Patrol, PatrolParticipant)
        .join(PatrolParticipant, col(PatrolParticipant.patrol_id) == Patrol.id)
        .where(PatrolParticipant.user_id == user_id, col(Patrol.status).in_(OPEN_STATUSES))
    )
    if team_id is not None:
        statement = statement.where(Patrol.team_id == team_id)
    dropped = 0
    for patrol, participation in session.exec(statement).all():
        session.delete(participation)
        # The participants are part of the patrol: its version (ETag) moves with them.
        patrol.updated_at = now
        session.add(patrol)
        dropped += 1
    session.flush()
    return dropped
