import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from buurtplus.core.actor import Actor, TeamRole, UserRole
from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.service import audit
from buurtplus.core.clock import Clock
from buurtplus.core.db import flush_or_raise
from buurtplus.core.errors import PermissionDenied
from buurtplus.core.idempotency import fingerprint, insert_once
from buurtplus.core.pagination import Page, paginate
from buurtplus.domain.categories.models import Category, Sensitivity
from buurtplus.domain.signals.errors import (
    BuurtOutsideTeamMunicipality,
    IdempotencyKeyReused,
    NotAReporter,
    ObservedInFuture,
    OutcomeRequired,
    PlusModeRequired,
    SignalIdTaken,
    SignalNotFound,
    StaleSignal,
    TeamRequired,
    TransitionNotAllowed,
    UnknownCategory,
)
from buurtplus.domain.signals.events import (
    announce_feedback,
    announce_step,
    forget_personal_content,
)
from buurtplus.domain.signals.models import Feedback, IdempotencyKey, Signal, SignalEvent
from buurtplus.domain.signals.visibility import (
    DetailLevel,
    allowed_actions,
    detail_level,
    may_read_feedback,
    may_write_feedback,
)
from buurtplus.domain.signals.workflow import (
    Outcome,
    SignalAction,
    SignalStatus,
    Urgency,
    next_status,
)
from buurtplus.domain.teams.models import Team
from buurtplus.outbox.events import keep_commit_order

# Phones' clocks drift; an observation a little "in the future" is not an error.
CLOCK_SKEW = timedelta(minutes=5)

# --- advice -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Advice:
    call_112: bool
    nl: list[str]
    en: list[str]


def advice_for(category: Category, *, urgency: Urgency, emergency_called: bool) -> Advice:
    nl: list[str] = []
    en: list[str] = []
    acute = urgency == Urgency.acute
    if acute and emergency_called:
        nl.append("Je hebt 112 al gebeld: volg de aanwijzingen van de meldkamer op.")
        en.append("You have called 112 already: follow the emergency operator's directions.")
    elif acute:
        nl.append("Acuut gevaar? Bel nu 112.")
        en.append("Acute danger? Call 112 now.")
    nl.append(category.advice_nl)
    en.append(category.advice_en)
    return Advice(call_112=acute and not emergency_called, nl=nl, en=en)


# --- reporting ----------------------------------------------------------------------------


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
class SignalView:
    """A signal as one actor may see it: personal fields are None below full detail."""

    signal: Signal
    category: Category
    level: DetailLevel
    actions: list[SignalAction]

    @property
    def full(self) -> bool:
        return self.level == DetailLevel.full

    def personal(self, value: Any) -> Any:
        return value if self.full else None


@dataclass(frozen=True)
class Submission:
    view: SignalView
    advice: Advice
    replayed: bool


# Called in the transaction that stores a new signal; routing plugs in here.
RouteHook = Callable[[Session, Signal, Category], None]


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
    route: RouteHook | None = None,
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
    if route is not None:
        route(session, signal, category)
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
    advice = advice_for(
        category, urgency=Urgency(signal.urgency), emergency_called=signal.emergency_called
    )
    return Submission(view=view, advice=advice, replayed=replayed)


# --- reading ------------------------------------------------------------------------------


def _view(
    session: Session, actor: Actor, signal: Signal, category: Category, clock: Clock
) -> SignalView | None:
    level = detail_level(actor, signal, category)
    if level is None:
        return None
    if level == DetailLevel.full and category.sensitivity == Sensitivity.sensitive:
        audit(
            session, actor, AuditAction.signal_read, signal.id, clock=clock, category=category.code
        )
    return SignalView(signal, category, level, allowed_actions(actor, signal))


def get_signal(session: Session, *, actor: Actor, signal_id: uuid.UUID, clock: Clock) -> SignalView:
    signal = session.get(Signal, signal_id)
    category = session.get(Category, signal.category_id) if signal else None
    view = _view(session, actor, signal, category, clock) if signal and category else None
    if view is None:
        raise SignalNotFound()
    return view


@dataclass(frozen=True)
class SignalFilter:
    statuses: list[SignalStatus] = field(default_factory=list)
    category: str | None = None
    team_id: uuid.UUID | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


def list_signals(
    session: Session,
    *,
    actor: Actor,
    filters: SignalFilter,
    limit: int,
    cursor: str | None,
    clock: Clock,
) -> Page[SignalView]:
    statement = select(Signal)
    if not actor.is_admin:
        coordinated = [t for t, role in actor.team_roles.items() if role == TeamRole.coordinator]
        visible = [
            col(Signal.reporter_id) == actor.user_id,
            col(Signal.team_id).in_(coordinated),
        ]
        if actor.partner_id is not None:
            visible.append(col(Signal.partner_id) == actor.partner_id)
        statement = statement.where(or_(*visible))
    if filters.statuses:
        statement = statement.where(col(Signal.status).in_(list(filters.statuses)))
    if filters.category is not None:
        category = session.exec(select(Category).where(Category.code == filters.category)).first()
        statement = statement.where(Signal.category_id == (category.id if category else None))
    if filters.team_id is not None:
        statement = statement.where(Signal.team_id == filters.team_id)
    if filters.created_from is not None:
        statement = statement.where(Signal.created_at >= filters.created_from)
    if filters.created_to is not None:
        statement = statement.where(Signal.created_at < filters.created_to)
    page = paginate(
        session,
        statement,
        order=(Signal.created_at, Signal.id),
        limit=limit,
        cursor=cursor,
        key=lambda s: (s.created_at, s.id),
    )
    categories = _categories(session, {s.category_id for s in page.items})
    views = [_view(session, actor, s, categories[s.category_id], clock) for s in page.items]
    return Page(items=[v for v in views if v is not None], next_cursor=page.next_cursor)


def _categories(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, Category]:
    if not ids:
        return {}
    return {c.id: c for c in session.exec(select(Category).where(col(Category.id).in_(ids)))}


def signal_history(
    session: Session,
    *,
    actor: Actor,
    signal_id: uuid.UUID,
    limit: int,
    cursor: str | None,
    clock: Clock,
) -> tuple[SignalView, Page[SignalEvent]]:
    view = get_signal(session, actor=actor, signal_id=signal_id, clock=clock)
    page = paginate(
        session,
        select(SignalEvent).where(SignalEvent.signal_id == signal_id),
        order=(SignalEvent.version,),
        key=lambda e: (e.version,),
        limit=limit,
        cursor=cursor,
    )
    return view, page


# --- workflow -----------------------------------------------------------------------------


def check_step(
    view: SignalView, action: SignalAction, expected_version: int | None
) -> SignalStatus:
    """The status `action` leads to, if the viewer may take it on this version (If-Match)."""
    if expected_version is not None and expected_version != view.signal.version:
        raise StaleSignal()
    status = SignalStatus(view.signal.status)
    target = next_status(status, action)
    if target is None:
        raise TransitionNotAllowed(action, status)
    if action not in view.actions:
        raise PermissionDenied(f"You may not {action} this signal.")
    return target


def save_step(
    session: Session,
    signal: Signal,
    *,
    actor: Actor | None,
    action: SignalAction,
    from_status: str,
    from_partner_id: uuid.UUID | None,
    note: str | None,
    clock: Clock,
) -> None:
    """Store a change of `signal` with its history event, audit event and the events for
    partners (outbox). The version guard turns a concurrent change in between into
    StaleSignal, and nothing is stored."""
    keep_commit_order(session)  # before the row lock, always in this order (see outbox)
    session.add(signal)
    session.add(
        SignalEvent(
            signal_id=signal.id,
            version=signal.version + 1,
            created_at=clock.now(),
            actor_id=actor.user_id if actor else None,
            actor_partner_id=actor.partner_id if actor else None,
            action=action,
            from_status=from_status,
            to_status=signal.status,
            note=note,
        )
    )
    flush_or_raise(session, conflict=StaleSignal(), stale=StaleSignal())
    audit(
        session,
        actor,
        AuditAction.step("signal", action),
        signal.id,
        clock=clock,
        to_status=signal.status,
        partner_id=str(signal.partner_id) if signal.partner_id else None,
    )
    announce_step(session, signal, action=action, from_partner_id=from_partner_id, clock=clock)


def take_action(
    session: Session,
    *,
    actor: Actor,
    signal_id: uuid.UUID,
    action: SignalAction,
    expected_version: int | None,
    clock: Clock,
    outcome: Outcome | None = None,
    note: str | None = None,
) -> SignalView:
    view = get_signal(session, actor=actor, signal_id=signal_id, clock=clock)
    signal = view.signal
    status = SignalStatus(signal.status)
    target = check_step(view, action, expected_version)
    if action == SignalAction.close and outcome is None:
        raise OutcomeRequired()
    now = clock.now()
    signal.status = target
    signal.updated_at = now
    if action == SignalAction.close:
        signal.outcome = outcome
    if target in (SignalStatus.closed, SignalStatus.withdrawn):
        signal.closed_at = now
    save_step(
        session,
        signal,
        actor=actor,
        action=action,
        from_status=status,
        from_partner_id=signal.partner_id,
        note=note,
        clock=clock,
    )
    return SignalView(signal, view.category, view.level, allowed_actions(actor, signal))


# --- feedback -----------------------------------------------------------------------------


def add_feedback(
    session: Session, *, actor: Actor, signal_id: uuid.UUID, message: str, clock: Clock
) -> Feedback:
    signal = get_signal(session, actor=actor, signal_id=signal_id, clock=clock).signal
    if not may_write_feedback(actor, signal):
        raise PermissionDenied("Feedback comes from the side that handles the signal.")
    if actor.is_client:
        raise PermissionDenied("Feedback is written by a person, not by a system client.")
    feedback = Feedback(
        signal_id=signal.id,
        author_id=actor.user_id,
        author_partner_id=actor.partner_id,
        message=message,
        created_at=clock.now(),
    )
    session.add(feedback)
    session.flush()
    audit(session, actor, AuditAction.feedback_create, signal.id, clock=clock)
    announce_feedback(session, signal, clock=clock)
    return feedback


def list_feedback(
    session: Session,
    *,
    actor: Actor,
    signal_id: uuid.UUID,
    limit: int,
    cursor: str | None,
    clock: Clock,
) -> Page[Feedback]:
    signal = session.get(Signal, signal_id)
    if signal is None or not may_read_feedback(actor, signal):
        raise SignalNotFound()
    statement = select(Feedback).where(Feedback.signal_id == signal_id)
    if not actor.is_admin and actor.partner_id is not None:
        # The rule of the history (sees_event_detail): a partner reads its own organisation's
        # feedback and the admin's, never what a partner before it wrote.
        statement = statement.where(
            or_(
                col(Feedback.author_partner_id).is_(None),
                col(Feedback.author_partner_id) == actor.partner_id,
            )
        )
    page = paginate(
        session,
        statement,
        order=(Feedback.created_at, Feedback.id),
        limit=limit,
        cursor=cursor,
        key=lambda f: (f.created_at, f.id),
    )
    category = session.get(Category, signal.category_id)
    if category is not None and category.sensitivity == Sensitivity.sensitive:
        audit(
            session,
            actor,
            AuditAction.feedback_read,
            signal.id,
            clock=clock,
            category=category.code,
        )
    return page


# --- retention ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PurgeReport:
    signals: int
    feedback_messages: int
    history_notes: int


def purge_expired_content(session: Session, *, retention_days: int, clock: Clock) -> PurgeReport:
    """Remove personal content of signals final for longer than the retention period.

    Category, buurt, dates, status and outcome stay, for statistics.
    """
    now = clock.now()
    cutoff = now - timedelta(days=retention_days)
    expired = list(
        session.exec(
            select(Signal).where(
                col(Signal.closed_at).is_not(None),
                col(Signal.closed_at) < cutoff,
                col(Signal.purged_at).is_(None),
            )
        )
    )
    ids = [signal.id for signal in expired]
    feedback = list(
        session.exec(
            select(Feedback).where(
                col(Feedback.signal_id).in_(ids), col(Feedback.message).is_not(None)
            )
        )
    )
    notes = list(
        session.exec(
            select(SignalEvent).where(
                col(SignalEvent.signal_id).in_(ids), col(SignalEvent.note).is_not(None)
            )
        )
    )
    for signal in expired:
        signal.description = None
        signal.latitude = None
        signal.longitude = None
        signal.address = None
        signal.postcode = signal.postcode[:4] if signal.postcode else None
        signal.purged_at = now
        session.add(signal)
    for item in feedback:
        item.message = None
        session.add(item)
    for event in notes:
        event.note = None
        session.add(event)
    forget_personal_content(session, ids)
    session.flush()
    if expired:
        audit(session, None, AuditAction.signal_purge, None, clock=clock, count=len(expired))
    return PurgeReport(
        signals=len(expired), feedback_messages=len(feedback), history_notes=len(notes)
    )
