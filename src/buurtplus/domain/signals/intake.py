"""Reporting a signal: checked, stored once however often a phone retries, routed at once."""

import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from buurtplus.core.actor import Actor, UserRole
from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.service import audit
from buurtplus.core.clock import Clock
from buurtplus.core.idempotency import fingerprint, insert_once
from buurtplus.domain.categories.models import Category
from buurtplus.domain.routing.router import Router
from buurtplus.domain.signals.advice import Advice, advice_for
from buurtplus.domain.signals.dispatch import route_new_signal
from buurtplus.domain.signals.errors import (
    BuurtOutsideTeamMunicipality,
    IdempotencyKeyReused,
    NotAReporter,
    ObservedInFuture,
    PlusModeRequired,
    SignalIdTaken,
    TeamRequired,
    UnknownCategory,
)
from buurtplus.domain.signals.models import IdempotencyKey, Signal, SignalEvent
from buurtplus.domain.signals.reading import SignalView
from buurtplus.domain.signals.visibility import (
    DetailLevel,
    allowed_actions,
)
from buurtplus.domain.signals.workflow import (
    SignalStatus,
    Urgency,
)
from buurtplus.domain.teams.models import Team

# Phones' clocks drift; an observation a little "in the future" is not an error.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class SignalDraft:
    category: str
    description: str
    urgency: Urgency = Urgency.normal
    emergency_called: bool = False
    observed_at: datetime | None = None
    latitude: float | None = None
    longitude: float | None = None
    address: str | None = None
    postcode: str | None = None
    buurt_code: str | None = None
    team_id: uuid.UUID | None = None
    id: uuid.UUID | None = None
    # Set when the signal is made from an observation on a patrol round.
    patrol_id: uuid.UUID | None = None
    observation_id: uuid.UUID | None = None

    def fingerprint(self) -> str:
        fields = asdict(self)
        # Left out when unset, so a report's fingerprint is what it was before patrols existed.
        for link in ("patrol_id", "observation_id"):
            if fields[link] is None:
                del fields[link]
        return fingerprint(fields)


@dataclass(frozen=True)
class Submission:
    view: SignalView
    advice: Advice
    replayed: bool


def _reporting_team(session: Session, *, actor: Actor, team_id: uuid.UUID | None) -> Team:
    if actor.role != UserRole.volunteer:
        raise NotAReporter()
    if team_id is None:
        if len(actor.team_roles) != 1:
            raise TeamRequired(
                "You are in several teams: say which one with team_id."
                if actor.team_roles
                else "You are in no team yet; a coordinator adds you to one."
            )
        team_id = next(iter(actor.team_roles))
    team = session.get(Team, team_id) if actor.belongs_to(team_id) else None
    if team is None:
        raise TeamRequired("You report for a team you are a member of.")
    return team


def submit_signal(
    session: Session,
    *,
    actor: Actor,
    draft: SignalDraft,
    idempotency_key: str | None,
    clock: Clock,
    router: Router | None = None,
) -> Submission:
    """Store a reported signal (or return the one this retry already stored) with advice."""
    request_hash = draft.fingerprint()
    earlier = _earlier_submission(
        session, actor=actor, draft=draft, key=idempotency_key, fingerprint=request_hash
    )
    if earlier is not None:
        return _submission(session, actor, earlier, replayed=True)

    team = _reporting_team(session, actor=actor, team_id=draft.team_id)
    category = session.exec(
        select(Category).where(Category.code == draft.category, col(Category.active).is_(True))
    ).first()
    if category is None:
        raise UnknownCategory(draft.category)
    if category.requires_plus and not team.plus_mode:
        raise PlusModeRequired(category.code)
    if draft.buurt_code and draft.buurt_code[2:6] != team.municipality_code[2:6]:
        # Routing goes by buurt: a code from elsewhere would send the signal astray.
        raise BuurtOutsideTeamMunicipality(draft.buurt_code, team.municipality_code)
    now = clock.now()
    observed_at = (draft.observed_at or now).astimezone(UTC)
    if observed_at > now + CLOCK_SKEW:
        raise ObservedInFuture()

    signal = Signal(
        id=draft.id or uuid.uuid4(),
        team_id=team.id,
        reporter_id=actor.user_id,
        category_id=category.id,
        description=draft.description,
        latitude=draft.latitude,
        longitude=draft.longitude,
        address=draft.address,
        postcode=draft.postcode,
        buurt_code=draft.buurt_code,
        observed_at=observed_at,
        urgency=draft.urgency,
        emergency_called=draft.emergency_called,
        patrol_id=draft.patrol_id,
        observation_id=draft.observation_id,
        status=SignalStatus.submitted,
        request_hash=request_hash,
        created_at=now,
        updated_at=now,
    )

    def store() -> None:
        # The signal first: the rows below refer to it.
        session.add(signal)
        session.flush()
        session.add(
            SignalEvent(
                signal_id=signal.id,
                version=1,
                created_at=now,
                actor_id=actor.user_id,
                action="submit",
                from_status=None,
                to_status=signal.status,
            )
        )
        if idempotency_key is not None:
            session.add(
                IdempotencyKey(
                    user_id=actor.user_id,
                    key=idempotency_key,
                    request_hash=request_hash,
                    signal_id=signal.id,
                    created_at=now,
                )
            )

    def stored_by_a_retry() -> Signal | None:
        session.expunge_all()
        return _earlier_submission(
            session, actor=actor, draft=draft, key=idempotency_key, fingerprint=request_hash
        )

    # A concurrent retry of the same report may win the race: then answer with its signal.
    earlier = insert_once(session, store, stored_by_a_retry)
    if earlier is not None:
        return _submission(session, actor, earlier, replayed=True)
    audit(session, actor, AuditAction.signal_create, signal.id, clock=clock, category=category.code)
    if router is not None:
        route_new_signal(session, signal, category, router=router, clock=clock)
    return _submission(session, actor, signal, replayed=False)


def _earlier_submission(
    session: Session, *, actor: Actor, draft: SignalDraft, key: str | None, fingerprint: str
) -> Signal | None:
    if key is not None:
        stored = session.get(IdempotencyKey, (actor.user_id, key))
        if stored is not None:
            if stored.request_hash != fingerprint:
                raise IdempotencyKeyReused()
            return session.get(Signal, stored.signal_id)
    if draft.id is not None:
        existing = session.get(Signal, draft.id)
        if existing is not None:
            if existing.reporter_id != actor.user_id or existing.request_hash != fingerprint:
                raise SignalIdTaken()
            return existing
    return None


def _submission(session: Session, actor: Actor, signal: Signal, *, replayed: bool) -> Submission:
    category = session.get(Category, signal.category_id)
    assert category is not None
    view = SignalView(signal, category, DetailLevel.full, allowed_actions(actor, signal))
    advice = advice_for(category, urgency=signal.urgency, emergency_called=signal.emergency_called)
    return Submission(view=view, advice=advice, replayed=replayed)
