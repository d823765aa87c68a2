"""Reporting a signal: checked, stored once however often a phone retries, routed at once."""

import uuid
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import Connection, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from buurtplus.core.actor import Actor, UserRole
from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.models import AuditEvent
from buurtplus.core.audit.service import audit_row
from buurtplus.core.clock import Clock
from buurtplus.core.db import unsaved
from buurtplus.core.idempotency import fingerprint
from buurtplus.core.ids import time_ordered_id
from buurtplus.core.metrics import SIGNALS_REPORTED, count_on_commit
from buurtplus.core.plain_query import PlainQuery
from buurtplus.domain.categories.models import Category
from buurtplus.domain.categories.snapshots import active_category, categories_by_id
from buurtplus.domain.routing.router import Router
from buurtplus.domain.signals.advice import Advice, advice_for
from buurtplus.domain.signals.dispatch import decide_new_signal, decided_action, decision_fields
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
from buurtplus.domain.signals.events import step_events
from buurtplus.domain.signals.models import IdempotencyKey, Signal, SignalEvent
from buurtplus.domain.signals.reading import SignalView
from buurtplus.domain.signals.steps import history_row, step_audit_row
from buurtplus.domain.signals.visibility import (
    DetailLevel,
    allowed_actions,
)
from buurtplus.domain.signals.workflow import (
    HistoryAction,
    SignalAction,
    SignalStatus,
    Urgency,
)
from buurtplus.domain.teams.models import Team
from buurtplus.outbox.events import NewEvent, announce, store_events

T = TypeVar("T")


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
        # Its fields as they are (all plain values): `asdict` copied each deeply, 60 µs.
        fields = {name: getattr(self, name) for name in _DRAFT_FIELDS}
        # Left out when unset, so a report's fingerprint is what it was before patrols existed.
        for link in ("patrol_id", "observation_id"):
            if fields[link] is None:
                del fields[link]
        return fingerprint(fields)


_DRAFT_FIELDS = tuple(f.name for f in dataclass_fields(SignalDraft))


@dataclass(frozen=True)
class Submission:
    view: SignalView
    advice: Advice
    replayed: bool


@dataclass(frozen=True)
class ReportingTeam:
    """What a report needs of its team (read as a plain row: every report asks it)."""

    id: uuid.UUID
    plus_mode: bool
    municipality_code: str


# Every report asks these: run on the driver's cursor (core/plain_query.py).
_TEAM = PlainQuery(
    sa.select(col(Team.id), col(Team.plus_mode), col(Team.municipality_code)).where(
        col(Team.id) == sa.bindparam("team_id")
    )
)


def _reporting_team(session: Session, *, actor: Actor, team_id: uuid.UUID | None) -> ReportingTeam:
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
    row = _TEAM.first(session.connection(), team_id=team_id) if actor.belongs_to(team_id) else None
    if row is None:
        raise TeamRequired("You report for a team you are a member of.")
    return ReportingTeam(
        id=row.id, plus_mode=row.plus_mode, municipality_code=row.municipality_code
    )


def submit_signal(
    session: Session,
    *,
    actor: Actor,
    draft: SignalDraft,
    idempotency_key: str | None,
    clock: Clock,
    router: Router | None = None,
) -> Submission:
    """Store a reported signal in `session`'s own transaction (or return the one this retry
    already stored) with advice: a patrol observation or an AED check that becomes a signal.

    The API does the same in three steps: `plan_signal` on a read session (on the event loop
    with SQLite, in a thread with PostgreSQL), the rows to the group-committing writer
    (`Writer.submit`), then `PlannedSignal.stored`, or `after_conflict` when a concurrent retry
    stored the report first."""
    planned = plan_signal(
        session,
        actor=actor,
        draft=draft,
        idempotency_key=idempotency_key,
        clock=clock,
        router=router,
    )
    if isinstance(planned, Submission):
        return planned
    try:
        _store_in_session(session, planned.rows)
    except IntegrityError as conflict:
        session.expunge_all()
        return after_conflict(session, planned, conflict)
    # Counted when the caller's transaction commits.
    count_on_commit(session, SIGNALS_REPORTED.labels(planned.category.group.value))
    return planned.submission()


@dataclass(frozen=True)
class PlannedSignal:
    """A checked and routed report whose rows are yet to be stored."""

    rows: "IntakeRows"
    signal: Signal
    category: Category
    actor: Actor
    draft: SignalDraft
    idempotency_key: str | None
    request_hash: str

    def submission(self) -> Submission:
        view = SignalView(
            self.signal, self.category, DetailLevel.full, allowed_actions(self.actor, self.signal)
        )
        advice = advice_for(
            self.category,
            urgency=self.signal.urgency,
            emergency_called=self.signal.emergency_called,
        )
        return Submission(view=view, advice=advice, replayed=False)

    def stored(self) -> Submission:
        """The answer once the writer has committed the rows."""
        SIGNALS_REPORTED.labels(self.category.group.value).inc()
        return self.submission()


def after_conflict(
    session: Session, planned: PlannedSignal, conflict: IntegrityError
) -> Submission:
    """Storing failed on a key: most often a concurrent retry of the same report got there
    first, so answer with its signal (`session` must see what that retry committed)."""
    earlier = _earlier_submission(
        session,
        actor=planned.actor,
        draft=planned.draft,
        key=planned.idempotency_key,
        fingerprint=planned.request_hash,
    )
    if earlier is None:
        # Not a retry: what the report refers to went away meanwhile (its team was deleted,
        # say). Checking it again answers why, as it would have a moment earlier.
        _team_and_category(session, actor=planned.actor, draft=planned.draft)
        raise conflict
    return _submission(session, planned.actor, earlier, replayed=True)


def _team_and_category(
    session: Session, *, actor: Actor, draft: SignalDraft
) -> tuple[ReportingTeam, Category]:
    """The report's team and category, refused when the reporter may not use them."""
    team = _reporting_team(session, actor=actor, team_id=draft.team_id)
    category = active_category(session, draft.category)
    if category is None:
        raise UnknownCategory(draft.category)
    if category.requires_plus and not team.plus_mode:
        raise PlusModeRequired(category.code)
    if draft.buurt_code and draft.buurt_code[2:6] != team.municipality_code[2:6]:
        # Routing goes by buurt: a code from elsewhere would send the signal astray.
        raise BuurtOutsideTeamMunicipality(draft.buurt_code, team.municipality_code)
    return team, category


def plan_signal(
    session: Session,
    *,
    actor: Actor,
    draft: SignalDraft,
    idempotency_key: str | None,
    clock: Clock,
    router: Router | None = None,
    session_ends_here: bool = False,
) -> "Submission | PlannedSignal":
    """Check and route a report on `session`, which only reads: the rows to store, or the
    earlier answer when this is a retry of a report already stored. `session_ends_here`: the
    caller reads and writes nothing more on `session` (the API's read session), so the router
    needs no savepoint to keep it usable."""
    request_hash = draft.fingerprint()
    earlier = _earlier_submission(
        session, actor=actor, draft=draft, key=idempotency_key, fingerprint=request_hash
    )
    if earlier is not None:
        return _submission(session, actor, earlier, replayed=True)

    team, category = _team_and_category(session, actor=actor, draft=draft)
    now = clock.now()
    observed_at = (draft.observed_at or now).astimezone(UTC)
    if observed_at > now + CLOCK_SKEW:
        raise ObservedInFuture()

    signal = unsaved(
        Signal,
        id=draft.id or time_ordered_id(),
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
    rows = IntakeRows(signal_id=signal.id)
    rows.history.append(
        history_row(
            signal,
            version=1,
            actor=actor,
            action=HistoryAction.submit,
            from_status=None,
            note=None,
            at=now,
        )
    )
    if idempotency_key is not None:
        rows.idempotency_key = {
            "user_id": actor.user_id,
            "key": idempotency_key,
            "request_hash": request_hash,
            "signal_id": signal.id,
            "created_at": now,
        }
    rows.audit.append(
        audit_row(actor, AuditAction.signal_create, signal.id, at=now, category=category.code)
    )
    if router is not None:
        # Routed in the same write as the report: it is never stored unrouted.
        decision = decide_new_signal(
            session,
            signal,
            category,
            router=router,
            at=now,
            municipality=team.municipality_code,
            session_ends_here=session_ends_here,
        )
        action = decided_action(decision, SignalAction.route)
        # Into the state of the new signal directly, as `unsaved` put the rest: it is never
        # added to a session (its row is inserted as it is), and eleven sets through the ORM's
        # attributes (ten fields and the version) cost 4 % of the event loop under intake load.
        signal.__dict__.update(
            decision_fields(decision, action=SignalAction.route, now=now), version=2
        )
        rows.history.append(
            history_row(
                signal,
                version=2,
                actor=None,
                action=action,
                from_status=SignalStatus.submitted,
                note=signal.routing_explanation,
                at=now,
            )
        )
        rows.audit.append(step_audit_row(signal, actor=None, action=action, at=now))
        rows.events = step_events(signal, category, action=action, from_partner_id=None, at=now)
    # Read from the object's state: every field is there (`unsaved`), and going through the
    # ORM's attribute for each of thirty columns cost more than the rest of building the row.
    state = signal.__dict__
    rows.signal = {key: state[key] for key in _SIGNAL_KEYS}

    return PlannedSignal(
        rows=rows,
        signal=signal,
        category=category,
        actor=actor,
        draft=draft,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
    )


_SIGNALS = Signal.__table__  # type: ignore[attr-defined]
_SIGNAL_KEYS = tuple(column.key for column in _SIGNALS.columns)
# Built once: a statement made per call costs more than the insert it runs.
_INSERT_SIGNAL = insert(_SIGNALS)
_INSERT_HISTORY = insert(SignalEvent.__table__)  # type: ignore[attr-defined]
_INSERT_KEY = insert(IdempotencyKey.__table__)  # type: ignore[attr-defined]
_INSERT_AUDIT = insert(AuditEvent.__table__)  # type: ignore[attr-defined]


@dataclass
class IntakeRows:
    """Everything one report stores, as plain rows: written by the group-committing writer
    (or in the caller's transaction) with a few inserts and no ORM flush."""

    signal_id: uuid.UUID
    signal: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    idempotency_key: dict[str, Any] | None = None
    audit: list[dict[str, Any]] = field(default_factory=list)
    events: list[NewEvent] = field(default_factory=list)

    @property
    def announces(self) -> bool:
        """Whether storing it may queue deliveries (the writer then wakes the workers)."""
        return bool(self.events)

    def __call__(self, connection: Connection) -> None:
        self.store_all(connection, [self])

    @classmethod
    def store_all(cls, connection: Connection, reports: list["IntakeRows"]) -> None:
        """Many reports with one insert per table. The signals first: the rows below refer to
        them. A taken id or idempotency key raises IntegrityError for the caller to sort out."""
        connection.execute(_INSERT_SIGNAL, [report.signal for report in reports])
        connection.execute(_INSERT_HISTORY, [row for report in reports for row in report.history])
        keys = [report.idempotency_key for report in reports if report.idempotency_key]
        if keys:
            connection.execute(_INSERT_KEY, keys)
        connection.execute(_INSERT_AUDIT, [row for report in reports for row in report.audit])
        store_events(connection, [event for report in reports for event in report.events])


def _store_in_session(session: Session, rows: IntakeRows) -> None:
    """Store in the caller's transaction (a patrol observation or an AED check that becomes a
    signal), in a savepoint so a conflict leaves that transaction usable."""
    with session.begin_nested():
        rows(session.connection())
    if rows.events:
        announce(session)


_STORED_KEY = PlainQuery(
    sa.select(col(IdempotencyKey.request_hash), col(IdempotencyKey.signal_id)).where(
        col(IdempotencyKey.user_id) == sa.bindparam("user_id"),
        col(IdempotencyKey.key) == sa.bindparam("key"),
    )
)


def _earlier_submission(
    session: Session, *, actor: Actor, draft: SignalDraft, key: str | None, fingerprint: str
) -> Signal | None:
    if key is not None:
        stored = _STORED_KEY.first(session.connection(), user_id=actor.user_id, key=key)
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
    category = categories_by_id(session, [signal.category_id])[signal.category_id]
    view = SignalView(signal, category, DetailLevel.full, allowed_actions(actor, signal))
    advice = advice_for(category, urgency=signal.urgency, emergency_called=signal.emergency_called)
    return Submission(view=view, advice=advice, replayed=replayed)
