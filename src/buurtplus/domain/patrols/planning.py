"""Planning rounds: what a reader sees of a patrol, who may see it, and planning, listing and
changing patrols."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from buurtplus.core.actor import Actor, UserRole
from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.service import audit
from buurtplus.core.clock import Clock
from buurtplus.core.db import flush_or_raise
from buurtplus.core.errors import PermissionDenied
from buurtplus.core.pagination import Page, paginate
from buurtplus.domain.patrols.errors import (
    EndBeforeStart,
    PatrolNotFound,
    PatrolNotPlanned,
    PatrolsNotForPartners,
    PatrolTooLong,
    StalePatrol,
    UnknownTeam,
)
from buurtplus.domain.patrols.models import Patrol, PatrolObservation, PatrolParticipant
from buurtplus.domain.patrols.workflow import (
    FINAL_STATUSES,
    PAIR,
    PatrolAction,
    PatrolStatus,
    next_status,
)
from buurtplus.domain.teams.errors import TeamNotFound
from buurtplus.domain.teams.service import get_team
from buurtplus.domain.users.models import User

# Longer than this is a typo in a date, not a round.
MAX_PATROL_HOURS = 24

# --- what a reader sees -------------------------------------------------------------------


@dataclass(frozen=True)
class Participant:
    user_id: uuid.UUID
    full_name: str
    joined_at: datetime


@dataclass(frozen=True)
class PatrolView:
    patrol: Patrol
    participants: list[Participant]
    observation_count: int
    actions: list[PatrolAction]

    @property
    def understaffed(self) -> bool:
        return len(self.participants) < PAIR

    def has_participant(self, user_id: uuid.UUID) -> bool:
        return any(p.user_id == user_id for p in self.participants)


def allowed_actions(
    actor: Actor, patrol: Patrol, participants: Sequence[Participant]
) -> list[PatrolAction]:
    """The steps this actor may take now: the team's coordinator, an admin or a participant."""
    if patrol.status in FINAL_STATUSES:
        return []
    if not (
        actor.can_manage_team(patrol.team_id)
        or any(p.user_id == actor.user_id for p in participants)
    ):
        return []
    return [a for a in PatrolAction if next_status(patrol.status, a) is not None]


def patrol_views(session: Session, actor: Actor, patrols: Sequence[Patrol]) -> list[PatrolView]:
    ids = [p.id for p in patrols]
    participants: dict[uuid.UUID, list[Participant]] = {i: [] for i in ids}
    counts: dict[uuid.UUID, int] = {}
    if ids:
        rows = session.exec(
            select(PatrolParticipant, User)
            .join(User, col(User.id) == PatrolParticipant.user_id)
            .where(col(PatrolParticipant.patrol_id).in_(ids))
            .order_by(col(PatrolParticipant.joined_at), col(PatrolParticipant.user_id))
        ).all()
        for participation, user in rows:
            participants[participation.patrol_id].append(
                Participant(user.id, user.full_name, participation.joined_at)
            )
        counted = session.exec(
            select(PatrolObservation.patrol_id, func.count())
            .where(col(PatrolObservation.patrol_id).in_(ids))
            .group_by(col(PatrolObservation.patrol_id))
        ).all()
        counts = dict(counted)
    return [
        PatrolView(
            patrol=p,
            participants=participants[p.id],
            observation_count=counts.get(p.id, 0),
            actions=allowed_actions(actor, p, participants[p.id]),
        )
        for p in patrols
    ]


def patrol_view(session: Session, actor: Actor, patrol: Patrol) -> PatrolView:
    return patrol_views(session, actor, [patrol])[0]


def visible_patrol(
    session: Session, actor: Actor, patrol_id: uuid.UUID, *, lock: bool = False
) -> Patrol:
    """The patrol if the actor may see it; `lock` holds its row to the end of the transaction
    (changes that depend on its state, such as a finish and an observation, take turns).
    Another team's patrol is as unknown as a random id."""
    patrol = session.get(Patrol, patrol_id, with_for_update=lock, populate_existing=lock)
    if patrol is None or not actor.can_see_team(patrol.team_id):
        raise PatrolNotFound()
    return patrol


# --- the version guard --------------------------------------------------------------------


def check_version(patrol: Patrol, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != patrol.version:
        raise StalePatrol()


def save_patrol(session: Session, patrol: Patrol) -> None:
    """Flush a change; a concurrent change in between (the version guard) stores nothing."""
    session.add(patrol)
    flush_or_raise(session, stale=StalePatrol())


# --- reading ------------------------------------------------------------------------------


def get_patrol(session: Session, *, actor: Actor, patrol_id: uuid.UUID) -> PatrolView:
    return patrol_view(session, actor, visible_patrol(session, actor, patrol_id))


@dataclass(frozen=True)
class PatrolFilter:
    team_id: uuid.UUID | None = None
    statuses: list[PatrolStatus] = field(default_factory=list)
    starts_from: datetime | None = None
    starts_before: datetime | None = None


def list_patrols(
    session: Session, *, actor: Actor, filters: PatrolFilter, limit: int, cursor: str | None
) -> Page[PatrolView]:
    if actor.role == UserRole.partner:
        raise PatrolsNotForPartners()
    statement = select(Patrol)
    if not actor.is_admin:
        statement = statement.where(col(Patrol.team_id).in_(list(actor.team_roles)))
    if filters.team_id is not None:
        statement = statement.where(Patrol.team_id == filters.team_id)
    if filters.statuses:
        statement = statement.where(col(Patrol.status).in_(list(filters.statuses)))
    if filters.starts_from is not None:
        statement = statement.where(Patrol.planned_start >= filters.starts_from)
    if filters.starts_before is not None:
        statement = statement.where(Patrol.planned_start < filters.starts_before)
    page = paginate(
        session,
        statement,
        order=(Patrol.planned_start, Patrol.id),
        limit=limit,
        cursor=cursor,
        key=lambda p: (p.planned_start, p.id),
    )
    return Page(items=patrol_views(session, actor, page.items), next_cursor=page.next_cursor)


# --- planning and changing ----------------------------------------------------------------


@dataclass(frozen=True)
class PatrolDraft:
    team_id: uuid.UUID
    planned_start: datetime
    planned_end: datetime
    route: dict[str, Any] | None = None
    note: str | None = None


def _check_times(start: datetime, end: datetime) -> None:
    if end <= start:
        raise EndBeforeStart()
    if end - start > timedelta(hours=MAX_PATROL_HOURS):
        raise PatrolTooLong(MAX_PATROL_HOURS)


def create_patrol(
    session: Session, *, actor: Actor, draft: PatrolDraft, clock: Clock
) -> PatrolView:
    try:
        team = get_team(session, actor=actor, team_id=draft.team_id)
    except TeamNotFound as exc:  # the team is a field of the plan here, not the resource
        raise UnknownTeam() from exc
    if not actor.can_manage_team(team.id):
        raise PermissionDenied("Only the team's coordinator or an admin plans patrols.")
    _check_times(draft.planned_start, draft.planned_end)
    now = clock.now()
    patrol = Patrol(
        team_id=team.id,
        created_by=actor.user_id,
        planned_start=draft.planned_start.astimezone(UTC),
        planned_end=draft.planned_end.astimezone(UTC),
        route=draft.route,
        note=draft.note,
        status=PatrolStatus.planned,
        created_at=now,
        updated_at=now,
    )
    session.add(patrol)
    session.flush()
    audit(session, actor, AuditAction.patrol_create, patrol.id, clock=clock, team_id=str(team.id))
    return patrol_view(session, actor, patrol)


def update_patrol(
    session: Session,
    *,
    actor: Actor,
    patrol_id: uuid.UUID,
    changes: dict[str, Any],
    expected_version: int | None,
    clock: Clock,
) -> PatrolView:
    """Apply `changes` (field name to new value, only the fields to change) to a planned patrol."""
    patrol = visible_patrol(session, actor, patrol_id)
    if not actor.can_manage_team(patrol.team_id):
        raise PermissionDenied("Only the team's coordinator or an admin changes a patrol.")
    check_version(patrol, expected_version)
    if patrol.status != PatrolStatus.planned:
        raise PatrolNotPlanned(patrol.status)
    _check_times(
        changes.get("planned_start", patrol.planned_start),
        changes.get("planned_end", patrol.planned_end),
    )
    for name, value in changes.items():
        setattr(patrol, name, value.astimezone(UTC) if isinstance(value, datetime) else value)
    patrol.updated_at = clock.now()
    save_patrol(session, patrol)
    audit(session, actor, AuditAction.patrol_update, patrol.id, clock=clock, fields=sorted(changes))
    return patrol_view(session, actor, patrol)
