"""What participants see on a round: logging it (once per client id), reading it back, and
its personal content going with age."""

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from buurtplus.core.actor import Actor
from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.service import audit
from buurtplus.core.clock import Clock
from buurtplus.core.errors import PermissionDenied
from buurtplus.core.idempotency import fingerprint, insert_once
from buurtplus.core.pagination import Page, paginate
from buurtplus.domain.categories.models import Category
from buurtplus.domain.patrols.errors import (
    ObservationIdTaken,
    ObservedOutsidePatrol,
    PatrolNotWalked,
)
from buurtplus.domain.patrols.models import Patrol, PatrolObservation
from buurtplus.domain.patrols.planning import visible_patrol
from buurtplus.domain.patrols.signups import participant_ids
from buurtplus.domain.patrols.workflow import ObservationKind, PatrolStatus
from buurtplus.domain.signals.intake import CLOCK_SKEW
from buurtplus.domain.signals.models import Signal


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
    patrol = visible_patrol(session, actor, patrol_id, lock=True)
    if actor.user_id not in participant_ids(session, patrol.id):
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
    patrol = visible_patrol(session, actor, patrol_id)
    if not (
        actor.can_manage_team(patrol.team_id)
        or actor.user_id in participant_ids(session, patrol.id)
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
