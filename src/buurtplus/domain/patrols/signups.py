"""What follows from other changes: sign-ups end with membership (someone who left the team,
was switched off or is no longer a volunteer no longer counts towards a round's pair), and
observations lose their personal content with age."""

import uuid
from datetime import datetime

from sqlmodel import Session, col, func, select

from buurtplus.domain.patrols.models import Patrol, PatrolObservation, PatrolParticipant
from buurtplus.domain.patrols.workflow import OPEN_STATUSES


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


def purge_observation_content(session: Session, *, before: datetime) -> int:
    """Retention: the note and exact place of observations made before `before` go; the kind
    and time stay, for the team's figures."""
    expired = session.exec(
        select(PatrolObservation).where(
            col(PatrolObservation.observed_at) < before,
            (col(PatrolObservation.note).is_not(None))
            | (col(PatrolObservation.latitude).is_not(None)),
        )
    ).all()
    for observation in expired:
        observation.note = None
        observation.latitude = None
        observation.longitude = None
        session.add(observation)
    session.flush()
    return len(expired)


def count_team_rounds(session: Session, *, team_id: uuid.UUID) -> dict[str, int]:
    """How many rounds and observations a team holds (they go when the team is deleted)."""
    patrols = session.exec(select(func.count()).where(Patrol.team_id == team_id)).one()
    observations = session.exec(
        select(func.count())
        .select_from(PatrolObservation)
        .join(Patrol, col(Patrol.id) == PatrolObservation.patrol_id)
        .where(Patrol.team_id == team_id)
    ).one()
    return {"patrols": patrols, "observations": observations}
