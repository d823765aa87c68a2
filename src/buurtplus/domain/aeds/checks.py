"""Checks of AEDs on rounds. A failed check or an expired date makes the AED not ready and
raises one AED signal through the ordinary intake (advice, audit, routing, outbox), routed to
the partner that maintains the AED when it has one; never a second while one is open."""

import uuid
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from buurtplus.core.actor import Actor, UserRole
from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.service import audit
from buurtplus.core.clock import Clock
from buurtplus.core.errors import PermissionDenied
from buurtplus.core.opening_hours import AMSTERDAM
from buurtplus.core.pagination import Page, paginate
from buurtplus.domain.aeds.areas import reach_of, team_area
from buurtplus.domain.aeds.errors import AedRetired, NotOnThatPatrol
from buurtplus.domain.aeds.models import Aed, AedCheck
from buurtplus.domain.aeds.service import get_aed
from buurtplus.domain.aeds.vocabulary import PROBLEM_EN, PROBLEM_NL, Problem
from buurtplus.domain.patrols.models import Patrol, PatrolParticipant
from buurtplus.domain.routing.router import Decision, Router, RuleCheck, SignalFacts
from buurtplus.domain.signals.intake import SignalDraft, submit_signal
from buurtplus.domain.signals.models import Signal
from buurtplus.domain.signals.workflow import SignalStatus
from buurtplus.domain.teams.models import Team, TeamMembership
from buurtplus.domain.teams.service import load_actor
from buurtplus.domain.users.models import User

FINAL = (SignalStatus.closed, SignalStatus.withdrawn)
MAINTAINER_ACK_MINUTES = 24 * 60


@dataclass(frozen=True)
class CheckDraft:
    display_ok: bool
    cabinet_ok: bool
    kit_present: bool
    pads_expiry: date | None = None
    battery_expiry: date | None = None
    note: str | None = None
    patrol_id: uuid.UUID | None = None


def today(clock: Clock) -> date:
    return clock.now().astimezone(AMSTERDAM).date()


def expired_dates(aed: Aed, on: date) -> list[Problem]:
    problems = []
    if aed.pads_expiry is not None and aed.pads_expiry < on:
        problems.append(Problem.pads_expired)
    if aed.battery_expiry is not None and aed.battery_expiry < on:
        problems.append(Problem.battery_expired)
    return problems


class MaintainerFirst:
    """Routes to the partner that maintains the AED; the configured router decides the
    fallback, and everything when that partner declined."""

    def __init__(self, partner_id: uuid.UUID, router: Router) -> None:
        self.partner_id = partner_id
        self.router = router

    def decide(
        self, session: Session, facts: SignalFacts, *, exclude: frozenset[uuid.UUID]
    ) -> Decision | None:
        if self.partner_id in exclude:
            return self.router.decide(session, facts, exclude=exclude)
        other = self.router.decide(session, facts, exclude=exclude | {self.partner_id})
        return Decision(
            partner_id=self.partner_id,
            ack_minutes=other.ack_minutes if other else MAINTAINER_ACK_MINUTES,
            explanation="The partner that maintains this AED gets its signals.",
            fallback_partner_id=other.partner_id if other else None,
        )

    def explain(self, session: Session, facts: SignalFacts) -> list[RuleCheck]:
        return self.router.explain(session, facts)


def _open_signal(session: Session, aed: Aed) -> Signal | None:
    if aed.signal_id is None:
        return None
    signal = session.get(Signal, aed.signal_id)
    return signal if signal is not None and signal.status not in FINAL else None


def raise_aed_signal(
    session: Session,
    *,
    aed: Aed,
    reporter: Actor,
    team: Team,
    problems: list[Problem],
    clock: Clock,
    router: Router,
    patrol_id: uuid.UUID | None = None,
) -> tuple[uuid.UUID, bool]:
    """The open signal of this AED, or a new one; (signal id, whether it is new)."""
    earlier = _open_signal(session, aed)
    if earlier is not None:
        return earlier.id, False
    category = "aed_missing" if Problem.kit_missing in problems else "aed_defective"
    where = f" ({aed.defibrillator_location})" if aed.defibrillator_location else ""
    description = (
        f"AED niet gebruiksklaar{where}: {', '.join(PROBLEM_NL[p] for p in problems)}.\n"
        f"AED not ready: {', '.join(PROBLEM_EN[p] for p in problems)}."
    )
    address = " ".join(p for p in (aed.addr_street, aed.addr_housenumber) if p) or None
    buurt = (
        aed.buurt_code
        if aed.buurt_code and aed.buurt_code[2:6] == team.municipality_code[2:6]
        else None
    )
    active: Router = (
        MaintainerFirst(aed.maintainer_partner_id, router)
        if aed.maintainer_partner_id is not None
        else router
    )

    submission = submit_signal(
        session,
        actor=reporter,
        draft=SignalDraft(
            category=category,
            description=description,
            latitude=aed.latitude,
            longitude=aed.longitude,
            address=address,
            postcode=aed.addr_postcode,
            buurt_code=buurt,
            team_id=team.id,
            patrol_id=patrol_id,
        ),
        idempotency_key=None,
        clock=clock,
        router=active,
    )
    aed.signal_id = submission.view.signal.id
    audit(
        session,
        reporter,
        AuditAction.aed_signal,
        aed.id,
        clock=clock,
        signal_id=str(aed.signal_id),
        problems=[str(p) for p in problems],
    )
    return aed.signal_id, True


def mark_not_ready(
    session: Session, aed: Aed, problems: list[Problem], *, actor: Actor | None, clock: Clock
) -> None:
    was_ready = aed.ready
    kept = [] if was_ready else aed.not_ready_reasons
    aed.ready = False
    aed.not_ready_reasons = sorted({*kept, *(str(p) for p in problems)})
    aed.updated_at = clock.now()
    session.add(aed)
    if was_ready:
        audit(
            session,
            actor,
            AuditAction.aed_not_ready,
            aed.id,
            clock=clock,
            problems=[str(p) for p in problems],
        )


@dataclass(frozen=True)
class CheckResult:
    check: AedCheck
    aed: Aed
    signal_raised: bool


def _reporting_team(
    session: Session, *, actor: Actor, aed: Aed, patrol_id: uuid.UUID | None
) -> Team:
    if actor.role != UserRole.volunteer:
        raise PermissionDenied("AEDs are checked by the volunteers of a team.")
    if patrol_id is not None:
        patrol = session.get(Patrol, patrol_id)
        if patrol is None or not actor.belongs_to(patrol.team_id):
            raise NotOnThatPatrol()
        on_it = session.get(PatrolParticipant, (patrol.id, actor.user_id)) is not None
        if not (on_it or actor.can_manage_team(patrol.team_id)):
            raise NotOnThatPatrol()
        team = session.get(Team, patrol.team_id)
        assert team is not None
        return team
    teams = session.exec(
        select(Team).where(col(Team.id).in_(list(actor.team_roles))).order_by(col(Team.name))
    )
    for team in teams:
        if team_area(team).holds_aed(aed):
            return team
    raise PermissionDenied(
        "A member of a team whose area holds the AED checks it, or a participant of the "
        "round it was checked on (give patrol_id)."
    )


def check_aed(
    session: Session,
    *,
    actor: Actor,
    aed_id: uuid.UUID,
    draft: CheckDraft,
    clock: Clock,
    router: Router,
) -> CheckResult:
    aed = get_aed(session, actor=actor, aed_id=aed_id, clock=clock).aed
    if aed.retired_at is not None:
        raise AedRetired()
    team = _reporting_team(session, actor=actor, aed=aed, patrol_id=draft.patrol_id)
    now = clock.now()
    if draft.pads_expiry is not None:
        aed.pads_expiry = draft.pads_expiry
    if draft.battery_expiry is not None:
        aed.battery_expiry = draft.battery_expiry
    problems = [
        problem
        for failed, problem in (
            (not draft.display_ok, Problem.display_fault),
            (not draft.cabinet_ok, Problem.cabinet_fault),
            (not draft.kit_present, Problem.kit_missing),
        )
        if failed
    ] + expired_dates(aed, today(clock))
    check = AedCheck(
        aed_id=aed.id,
        patrol_id=draft.patrol_id,
        checked_by=actor.user_id,
        checked_at=now,
        display_ok=draft.display_ok,
        cabinet_ok=draft.cabinet_ok,
        kit_present=draft.kit_present,
        pads_expiry=draft.pads_expiry,
        battery_expiry=draft.battery_expiry,
        note=draft.note,
        passed=not problems,
        problems=[str(p) for p in problems],
        created_at=now,
    )
    aed.last_checked_at = now
    raised = False
    if problems:
        mark_not_ready(session, aed, problems, actor=actor, clock=clock)
        check.signal_id, raised = raise_aed_signal(
            session,
            aed=aed,
            reporter=reach_of(session, actor).actor,
            team=team,
            problems=problems,
            clock=clock,
            router=router,
            patrol_id=draft.patrol_id,
        )
    elif not aed.ready:
        aed.ready = True
        aed.not_ready_reasons = []
        audit(session, actor, AuditAction.aed_ready, aed.id, clock=clock)
    aed.updated_at = now
    session.add(aed)
    session.add(check)
    session.flush()
    audit(
        session,
        actor,
        AuditAction.aed_check,
        aed.id,
        clock=clock,
        check_id=str(check.id),
        passed=check.passed,
        problems=check.problems,
    )
    return CheckResult(check=check, aed=aed, signal_raised=raised)


def list_checks(
    session: Session,
    *,
    actor: Actor,
    aed_id: uuid.UUID,
    limit: int,
    cursor: str | None,
    clock: Clock,
) -> Page[AedCheck]:
    get_aed(session, actor=actor, aed_id=aed_id, clock=clock)
    return paginate(
        session,
        select(AedCheck).where(AedCheck.aed_id == aed_id),
        order=(AedCheck.checked_at, AedCheck.id),
        limit=limit,
        cursor=cursor,
        key=lambda c: (c.checked_at, c.id),
    )


# --- the daily job ------------------------------------------------------------------------


def aeds_with_expired_dates(session: Session, *, on: date, limit: int) -> list[uuid.UUID]:
    """Ready AEDs whose pads or battery expired before `on` without a check saying so."""
    return list(
        session.exec(
            select(Aed.id)
            .where(
                col(Aed.retired_at).is_(None),
                col(Aed.ready).is_(True),
                (col(Aed.pads_expiry) < on) | (col(Aed.battery_expiry) < on),
            )
            .order_by(col(Aed.id))
            .limit(limit)
        )
    )


def _reporter_for(session: Session, aed: Aed) -> tuple[Actor, Team] | None:
    """Whom the job reports in the name of: the last checker if still in a team whose area
    holds the AED, else that team's coordinator."""
    teams = [
        t
        for t in session.exec(select(Team).order_by(col(Team.name)))
        if team_area(t).holds_aed(aed)
    ]
    if not teams:
        return None
    last = session.exec(
        select(AedCheck.checked_by)
        .where(AedCheck.aed_id == aed.id)
        .order_by(col(AedCheck.checked_at).desc())
    ).first()
    candidates: list[tuple[uuid.UUID, Team]] = []
    for team in teams:
        members = session.exec(
            select(TeamMembership).where(TeamMembership.team_id == team.id)
        ).all()
        if last is not None and any(m.user_id == last for m in members):
            candidates.insert(0, (last, team))
        candidates += [(m.user_id, team) for m in members if m.team_role == "coordinator"]
    for user_id, team in candidates:
        user = session.get(User, user_id)
        if user is not None and user.is_active and user.role == UserRole.volunteer:
            return load_actor(session, user=user), team
    return None


def expire_aed(session: Session, aed_id: uuid.UUID, *, clock: Clock, router: Router) -> bool:
    """Mark one AED with an expired date not ready and raise its signal; False if nothing
    was left to do."""
    aed = session.get(Aed, aed_id)
    if aed is None or aed.retired_at is not None or not aed.ready:
        return False
    problems = expired_dates(aed, today(clock))
    if not problems:
        return False
    mark_not_ready(session, aed, problems, actor=None, clock=clock)
    reporter = _reporter_for(session, aed)
    if reporter is not None:
        raise_aed_signal(
            session,
            aed=aed,
            reporter=reporter[0],
            team=reporter[1],
            problems=problems,
            clock=clock,
            router=router,
        )
    session.flush()
    return True
