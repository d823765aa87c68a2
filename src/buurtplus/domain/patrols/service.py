"""Patrols: planning rounds, signing up and off, walking them, logging what was seen, and
turning an observation into a signal."""

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from buurtplus.core.actor import Actor, UserRole
from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.service import audit
from buurtplus.core.clock import Clock
from buurtplus.core.db import flush_or_raise
from buurtplus.core.errors import PermissionDenied
from buurtplus.core.idempotency import fingerprint, insert_once
from buurtplus.core.pagination import Page, paginate
from buurtplus.domain.categories.models import Category
from buurtplus.domain.patrols.errors import (
    ActualTimeInvalid,
    AlreadyPromoted,
    AlreadySignedUp,
    CategoryRequired,
    EndBeforeStart,
    NotAMemberOfTheTeam,
    ObservationIdTaken,
    ObservationNotFound,
    ObservedOutsidePatrol,
    ParticipantNotFound,
    PatrolClosed,
    PatrolNotFound,
    PatrolNotPlanned,
    PatrolNotWalked,
    PatrolsNotForPartners,
    PatrolTooLong,
    PatrolTransitionNotAllowed,
    StalePatrol,
    UnknownTeam,
)
from buurtplus.domain.patrols.models import Patrol, PatrolObservation, PatrolParticipant
from buurtplus.domain.patrols.workflow import (
    DEFAULT_CATEGORY,
    FINAL_STATUSES,
    KIND_LABEL_NL,
    OPEN_STATUSES,
    PAIR,
    ObservationKind,
    PatrolAction,
    PatrolStatus,
    next_status,
)
from buurtplus.domain.routing.router import Router
from buurtplus.domain.signals.advice import advice_for
from buurtplus.domain.signals.intake import CLOCK_SKEW, SignalDraft, Submission, submit_signal
from buurtplus.domain.signals.models import Signal
from buurtplus.domain.signals.reading import get_signal
from buurtplus.domain.signals.workflow import Urgency
from buurtplus.domain.teams.models import Team, TeamMembership
from buurtplus.domain.users.models import User

# Longer than this is a typo in a date, not a round.
MAX_PATROL_HOURS = 24
# How far from the planned time a round may actually start.
START_MARGIN = timedelta(hours=12)

# --- reading ------------------------------------------------------------------------------


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
    status = PatrolStatus(patrol.status)
    if status in FINAL_STATUSES:
        return []
    if not (
        actor.can_manage_team(patrol.team_id)
        or any(p.user_id == actor.user_id for p in participants)
    ):
        return []
    return [a for a in PatrolAction if next_status(status, a) is not None]


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


def _view(session: Session, actor: Actor, patrol: Patrol) -> PatrolView:
    return patrol_views(session, actor, [patrol])[0]


def _visible_patrol(
    session: Session, actor: Actor, patrol_id: uuid.UUID, *, lock: bool = False
) -> Patrol:
    """The patrol if the actor may see it; `lock` holds its row to the end of the transaction
    (changes that depend on its state, such as a finish and an observation, take turns)."""
    patrol = session.get(Patrol, patrol_id, with_for_update=lock, populate_existing=lock)
    if patrol is None or not actor.can_see_team(patrol.team_id):
        raise PatrolNotFound()
    return patrol


def get_patrol(session: Session, *, actor: Actor, patrol_id: uuid.UUID) -> PatrolView:
    return _view(session, actor, _visible_patrol(session, actor, patrol_id))


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


# --- planning -----------------------------------------------------------------------------


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


def _save(session: Session, patrol: Patrol) -> None:
    """Flush a change; a concurrent change in between (the version guard) stores nothing."""
    session.add(patrol)
    flush_or_raise(session, stale=StalePatrol())


def _check_version(patrol: Patrol, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != patrol.version:
        raise StalePatrol()


def create_patrol(
    session: Session, *, actor: Actor, draft: PatrolDraft, clock: Clock
) -> PatrolView:
    team = session.get(Team, draft.team_id)
    if team is None or not actor.can_see_team(team.id):
        raise UnknownTeam()
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
    return _view(session, actor, patrol)


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
    patrol = _visible_patrol(session, actor, patrol_id)
    if not actor.can_manage_team(patrol.team_id):
        raise PermissionDenied("Only the team's coordinator or an admin changes a patrol.")
    _check_version(patrol, expected_version)
    if patrol.status != PatrolStatus.planned:
        raise PatrolNotPlanned(patrol.status)
    _check_times(
        changes.get("planned_start", patrol.planned_start),
        changes.get("planned_end", patrol.planned_end),
    )
    for name, value in changes.items():
        setattr(patrol, name, value.astimezone(UTC) if isinstance(value, datetime) else value)
    patrol.updated_at = clock.now()
    _save(session, patrol)
    audit(session, actor, AuditAction.patrol_update, patrol.id, clock=clock, fields=sorted(changes))
    return _view(session, actor, patrol)


# --- walking ------------------------------------------------------------------------------


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
    view = _view(session, actor, _visible_patrol(session, actor, patrol_id, lock=True))
    patrol = view.patrol
    _check_version(patrol, expected_version)
    status = PatrolStatus(patrol.status)
    target = next_status(status, action)
    if target is None:
        raise PatrolTransitionNotAllowed(action, status)
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
    _save(session, patrol)
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


# --- participants -------------------------------------------------------------------------


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
    patrol = session.get(Patrol, patrol_id, with_for_update=True)
    if patrol is None or not actor.can_see_team(patrol.team_id):
        raise PatrolNotFound()  # another team's patrol is as unknown as a random id
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
        _save(session, patrol)
    except IntegrityError as exc:  # a concurrent sign-up of the same person
        raise AlreadySignedUp() from exc
    audit(session, actor, AuditAction.patrol_sign_up, patrol.id, clock=clock, user_id=str(target))
    return _view(session, actor, patrol)


def sign_off(
    session: Session, *, actor: Actor, patrol_id: uuid.UUID, user_id: uuid.UUID, clock: Clock
) -> None:
    patrol = _visible_patrol(session, actor, patrol_id, lock=True)
    if user_id != actor.user_id and not actor.can_manage_team(patrol.team_id):
        raise PermissionDenied("Only the team's coordinator signs off someone else.")
    participation = session.get(PatrolParticipant, (patrol.id, user_id))
    if participation is None:
        raise ParticipantNotFound()
    if patrol.status not in OPEN_STATUSES:
        raise PatrolClosed(patrol.status)
    session.delete(participation)
    patrol.updated_at = clock.now()
    _save(session, patrol)
    audit(session, actor, AuditAction.patrol_sign_off, patrol.id, clock=clock, user_id=str(user_id))


# --- observations -------------------------------------------------------------------------


@dataclass(frozen=True)
class ObservationDraft:
    kind: ObservationKind
    latitude: float
    longitude: float
    observed_at: datetime | None = None
    note: str | None = None
    client_id: uuid.UUID | None = None

    def fingerprint(self) -> str:
        # The same instant is the same observation, whatever zone the phone wrote it in.
        return fingerprint(
            {
                name: value.astimezone(UTC) if isinstance(value, datetime) else value
                for name, value in asdict(self).items()
            }
        )


@dataclass(frozen=True)
class ObservationView:
    observation: PatrolObservation
    # The signal made of it, if any.
    signal_id: uuid.UUID | None
    # Made into a signal of a sensitive category: its note and position are that signal's
    # content now, for its author (and, audited, an admin) only.
    withheld: bool = False


def _signal_links(
    session: Session, observation_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[uuid.UUID, bool]]:
    """Observation id -> (the signal made of it, whether its category is sensitive)."""
    if not observation_ids:
        return {}
    rows = session.exec(
        select(Signal.observation_id, Signal.id, Category.sensitivity)
        .join(Category, col(Category.id) == Signal.category_id)
        .where(col(Signal.observation_id).in_(observation_ids))
    ).all()
    return {
        observation_id: (signal_id, sensitivity == "sensitive")
        for observation_id, signal_id, sensitivity in rows
        if observation_id is not None
    }


def _observation_views(
    session: Session, actor: Actor, observations: Sequence[PatrolObservation], clock: Clock
) -> list[ObservationView]:
    links = _signal_links(session, [o.id for o in observations])
    views = []
    for observation in observations:
        signal_id, sensitive = links.get(observation.id, (None, False))
        withheld = sensitive and not (actor.is_admin or actor.user_id == observation.author_id)
        if sensitive and not withheld:  # like a signal: every sight of sensitive content
            audit(
                session,
                actor,
                AuditAction.observation_read,
                observation.id,
                clock=clock,
                signal_id=str(signal_id),
            )
        views.append(ObservationView(observation, signal_id, withheld))
    return views


@dataclass(frozen=True)
class Logged:
    view: ObservationView
    replayed: bool


def _participant_ids(session: Session, patrol_id: uuid.UUID) -> set[uuid.UUID]:
    return set(
        session.exec(
            select(PatrolParticipant.user_id).where(PatrolParticipant.patrol_id == patrol_id)
        ).all()
    )


def _earlier_observation(
    session: Session, *, actor: Actor, patrol: Patrol, draft: ObservationDraft, fingerprint: str
) -> PatrolObservation | None:
    if draft.client_id is None:
        return None
    earlier = session.exec(
        select(PatrolObservation).where(
            PatrolObservation.patrol_id == patrol.id,
            PatrolObservation.client_id == draft.client_id,
        )
    ).first()
    if earlier is not None and (
        earlier.author_id != actor.user_id or earlier.request_hash != fingerprint
    ):
        raise ObservationIdTaken()
    return earlier


def _check_observed_at(patrol: Patrol, observed_at: datetime, now: datetime) -> None:
    if observed_at > now + CLOCK_SKEW:
        raise ObservedOutsidePatrol("observed_at lies in the future.")
    assert patrol.started_at is not None
    end = patrol.finished_at or now
    # Phones' clocks drift: a few minutes either side of the round still belong to it.
    if not patrol.started_at - CLOCK_SKEW <= observed_at <= end + CLOCK_SKEW:
        raise ObservedOutsidePatrol(
            f"observed_at lies outside the round, which ran from {patrol.started_at.isoformat()}"
            f" to {end.isoformat() if patrol.finished_at else 'now'}."
        )


def log_observation(
    session: Session,
    *,
    actor: Actor,
    patrol_id: uuid.UUID,
    draft: ObservationDraft,
    clock: Clock,
) -> Logged:
    """Store what a participant saw on the round, or return what this retry stored already."""
    patrol = _visible_patrol(session, actor, patrol_id, lock=True)
    if actor.user_id not in _participant_ids(session, patrol.id):
        raise PermissionDenied("Only the patrol's participants log observations.")
    request_hash = draft.fingerprint()
    earlier = _earlier_observation(
        session, actor=actor, patrol=patrol, draft=draft, fingerprint=request_hash
    )
    if earlier is not None:
        (view,) = _observation_views(session, actor, [earlier], clock)
        return Logged(view, replayed=True)
    # A completed round still takes observations: a phone that was offline sends them late.
    if patrol.status not in (PatrolStatus.active, PatrolStatus.completed):
        raise PatrolNotWalked(patrol.status)
    now = clock.now()
    observed_at = (draft.observed_at or now).astimezone(UTC)
    _check_observed_at(patrol, observed_at, now)
    observation = PatrolObservation(
        patrol_id=patrol.id,
        author_id=actor.user_id,
        client_id=draft.client_id,
        observed_at=observed_at,
        latitude=draft.latitude,
        longitude=draft.longitude,
        kind=draft.kind,
        note=draft.note,
        request_hash=request_hash,
        created_at=now,
    )
    # A concurrent retry of the same observation may win the race: then answer with it.
    earlier = insert_once(
        session,
        lambda: session.add(observation),
        lambda: _earlier_observation(
            session, actor=actor, patrol=patrol, draft=draft, fingerprint=request_hash
        ),
    )
    if earlier is not None:
        (view,) = _observation_views(session, actor, [earlier], clock)
        return Logged(view, replayed=True)
    audit(
        session,
        actor,
        AuditAction.observation_create,
        observation.id,
        clock=clock,
        patrol_id=str(patrol.id),
        kind=draft.kind,
    )
    return Logged(ObservationView(observation, signal_id=None), replayed=False)


def list_observations(
    session: Session,
    *,
    actor: Actor,
    patrol_id: uuid.UUID,
    limit: int,
    cursor: str | None,
    clock: Clock,
) -> Page[ObservationView]:
    patrol = _visible_patrol(session, actor, patrol_id)
    if not (
        actor.can_manage_team(patrol.team_id)
        or actor.user_id in _participant_ids(session, patrol.id)
    ):
        raise PermissionDenied(
            "A round's observations are for its participants and the team's coordinator."
        )
    page = paginate(
        session,
        select(PatrolObservation).where(PatrolObservation.patrol_id == patrol.id),
        order=(PatrolObservation.observed_at, PatrolObservation.id),
        limit=limit,
        cursor=cursor,
        key=lambda o: (o.observed_at, o.id),
    )
    return Page(
        items=_observation_views(session, actor, page.items, clock),
        next_cursor=page.next_cursor,
    )


# --- from observation to signal -----------------------------------------------------------


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
    patrol = _visible_patrol(session, actor, patrol_id)
    # Locked, so two taps on "make a signal" cannot make two.
    observation = session.get(PatrolObservation, observation_id, with_for_update=True)
    if observation is None or observation.patrol_id != patrol.id:
        raise ObservationNotFound()
    if not (
        observation.author_id == actor.user_id
        or actor.user_id in _participant_ids(session, patrol.id)
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
    kind = ObservationKind(observation.kind)
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
