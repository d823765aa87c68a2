"""A team's figures over a period: rounds walked, hours, who walked, what was seen, and what
became of the team's signals. Sensitive categories show only as counts."""

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from buurtplus.core.actor import Actor
from buurtplus.core.errors import PermissionDenied
from buurtplus.domain.categories.models import Category, Sensitivity
from buurtplus.domain.patrols.errors import InvalidPeriod
from buurtplus.domain.patrols.models import Patrol, PatrolObservation, PatrolParticipant
from buurtplus.domain.patrols.workflow import PAIR, ObservationKind, PatrolStatus
from buurtplus.domain.signals.models import Signal
from buurtplus.domain.signals.workflow import Outcome, SignalStatus
from buurtplus.domain.teams.service import get_team

# What became of a signal, for the figures: its outcome once closed, else withdrawn or open.
SIGNAL_OUTCOMES = [*Outcome, "withdrawn", "open"]


@dataclass(frozen=True)
class CategoryFigures:
    code: str
    label_nl: str
    label_en: str
    sensitivity: str
    count: int
    # None for a sensitive category: a breakdown says more than need-to-know allows.
    by_outcome: dict[str, int] | None


@dataclass(frozen=True)
class TeamFigures:
    team_id: uuid.UUID
    period_from: datetime
    period_to: datetime
    rounds_walked: int
    rounds_understaffed: int
    rounds_cancelled: int
    hours: float
    volunteer_hours: float
    participants: int
    observations_by_kind: dict[str, int]
    signals: int
    signals_from_patrols: int
    signals_by_category: list[CategoryFigures]


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


def _outcome(status: str, outcome: str | None) -> str:
    if status == SignalStatus.closed and outcome:
        return outcome
    if status == SignalStatus.withdrawn:
        return "withdrawn"
    return "open"


def team_figures(
    session: Session, *, actor: Actor, team_id: uuid.UUID, start: datetime, end: datetime
) -> TeamFigures:
    """Rounds started, observations seen and signals reported in [start, end)."""
    get_team(session, actor=actor, team_id=team_id)  # a team the actor may not see is unknown
    if not actor.can_manage_team(team_id):
        raise PermissionDenied("A team's figures are for its coordinator and admins.")
    if end <= start:
        raise InvalidPeriod()

    walked = session.exec(
        select(Patrol).where(
            Patrol.team_id == team_id,
            Patrol.status == PatrolStatus.completed,
            col(Patrol.started_at) >= start,
            col(Patrol.started_at) < end,
        )
    ).all()
    walkers: dict[uuid.UUID, set[uuid.UUID]] = {p.id: set() for p in walked}
    if walked:
        for patrol_id, user_id in session.exec(
            select(PatrolParticipant.patrol_id, PatrolParticipant.user_id).where(
                col(PatrolParticipant.patrol_id).in_(list(walkers))
            )
        ):
            walkers[patrol_id].add(user_id)
    hours = volunteer_hours = 0.0
    for patrol in walked:
        assert patrol.started_at is not None
        assert patrol.finished_at is not None
        duration = (patrol.finished_at - patrol.started_at).total_seconds() / 3600
        hours += duration
        volunteer_hours += duration * len(walkers[patrol.id])
    cancelled = session.exec(
        select(func.count())
        .select_from(Patrol)
        .where(
            Patrol.team_id == team_id,
            Patrol.status == PatrolStatus.cancelled,
            Patrol.planned_start >= start,
            Patrol.planned_start < end,
        )
    ).one()

    seen = dict.fromkeys(ObservationKind, 0)
    for kind, count in session.exec(
        select(PatrolObservation.kind, func.count())
        .join(Patrol, col(Patrol.id) == PatrolObservation.patrol_id)
        .where(
            Patrol.team_id == team_id,
            PatrolObservation.observed_at >= start,
            PatrolObservation.observed_at < end,
        )
        .group_by(col(PatrolObservation.kind))
    ):
        seen[ObservationKind(kind)] = count  # select() types a column of a StrEnum as str

    rows = session.exec(
        select(Signal.category_id, Signal.status, Signal.outcome, Signal.patrol_id).where(
            Signal.team_id == team_id, Signal.created_at >= start, Signal.created_at < end
        )
    ).all()
    per_category: dict[uuid.UUID, Counter[str]] = {}
    for category_id, status, outcome, _ in rows:
        per_category.setdefault(category_id, Counter())[_outcome(status, outcome)] += 1
    categories = {
        c.id: c
        for c in session.exec(
            select(Category).where(col(Category.id).in_(list(per_category)))
        ).all()
    }
    by_category = [
        CategoryFigures(
            code=category.code,
            label_nl=category.label_nl,
            label_en=category.label_en,
            sensitivity=category.sensitivity,
            count=sum(outcomes.values()),
            by_outcome=None
            if category.sensitivity == Sensitivity.sensitive
            else {o: outcomes[o] for o in SIGNAL_OUTCOMES},
        )
        for category_id, outcomes in per_category.items()
        for category in [categories[category_id]]
    ]
    return TeamFigures(
        team_id=team_id,
        period_from=start,
        period_to=end,
        rounds_walked=len(walked),
        rounds_understaffed=sum(1 for p in walked if len(walkers[p.id]) < PAIR),
        rounds_cancelled=cancelled,
        hours=round(hours, 2),
        volunteer_hours=round(volunteer_hours, 2),
        participants=len(set().union(*walkers.values())),
        observations_by_kind={str(kind): n for kind, n in seen.items()},
        signals=len(rows),
        signals_from_patrols=sum(1 for *_, patrol_id in rows if patrol_id is not None),
        signals_by_category=sorted(by_category, key=lambda c: c.code),
    )
