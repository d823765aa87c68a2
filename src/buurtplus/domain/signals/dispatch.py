"""Putting signals in partners' hands: routing on submit, by hand, on "not ours", on a missed
acknowledgement deadline. Every step is a history event and an audit event."""

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from buurtplus.core.actor import Actor
from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.service import audit
from buurtplus.core.clock import Clock
from buurtplus.core.errors import PermissionDenied
from buurtplus.core.metrics import ESCALATIONS, count_on_commit
from buurtplus.domain.categories.models import Category
from buurtplus.domain.partners.errors import UnknownPartner
from buurtplus.domain.partners.models import Partner
from buurtplus.domain.routing.router import Decision, Router, SignalFacts
from buurtplus.domain.signals.errors import (
    OutsideServiceArea,
    PartnerDeclined,
    UnknownCategory,
)
from buurtplus.domain.signals.models import Signal
from buurtplus.domain.signals.reading import SignalView, get_signal
from buurtplus.domain.signals.steps import check_step, save_step
from buurtplus.domain.signals.visibility import DetailLevel, allowed_actions, detail_level
from buurtplus.domain.signals.workflow import SignalAction, SignalStatus
from buurtplus.domain.teams.models import Team
from buurtplus.domain.teams.service import get_team

log = logging.getLogger("buurtplus.dispatch")

NO_ROUTE = "No routing rule matched; the signal waits in the coordinator's queue."


def facts_of(
    session: Session,
    signal: Signal,
    category: Category,
    at: datetime,
    *,
    municipality: str | None = None,
) -> SignalFacts:
    """What the router decides on; `municipality` of the signal's team when the caller has it."""
    if municipality is None:
        team = session.get(Team, signal.team_id)
        assert team is not None
        municipality = team.municipality_code
    return SignalFacts(
        category=category.code,
        category_group=category.group,
        municipality=municipality,
        team_id=signal.team_id,
        urgency=signal.urgency,
        at=at,
        buurt_code=signal.buurt_code,
        latitude=signal.latitude,
        longitude=signal.longitude,
    )


def decision_fields(
    decision: Decision | None, *, action: SignalAction, now: datetime
) -> dict[str, Any]:
    """What a routing decision (None: no partner) puts on a signal, by field."""
    fields: dict[str, Any] = (
        {
            "status": SignalStatus.unroutable,
            "partner_id": None,
            "routing_rule_id": None,
            "routing_rule_name": None,
            "ack_deadline": None,
            "ack_minutes": None,
            "fallback_partner_id": None,
            "routing_explanation": NO_ROUTE,
        }
        if decision is None
        else {
            "status": SignalStatus.routed,
            "partner_id": decision.partner_id,
            "routing_rule_id": decision.rule_id,
            "routing_rule_name": decision.rule_name,
            "ack_minutes": decision.ack_minutes,
            "ack_deadline": now + timedelta(minutes=decision.ack_minutes),
            "fallback_partner_id": decision.fallback_partner_id,
            "routing_explanation": decision.explanation,
        }
    )
    if action != SignalAction.escalate:
        fields["escalated_at"] = None  # a new deadline may be escalated in its turn
    fields["updated_at"] = now
    return fields


def decided_action(decision: Decision | None, action: SignalAction) -> SignalAction:
    """The action a routing decision is recorded as."""
    return action if decision else SignalAction.mark_unroutable


def apply_decision(
    signal: Signal, decision: Decision | None, *, action: SignalAction, now: datetime
) -> SignalAction:
    """Put a routing decision (None: no partner) on the signal; the action it is recorded as."""
    for name, value in decision_fields(decision, action=action, now=now).items():
        setattr(signal, name, value)
    return decided_action(decision, action)


def _apply(
    session: Session,
    signal: Signal,
    decision: Decision | None,
    *,
    action: SignalAction,
    actor: Actor | None,
    clock: Clock,
    note: str | None = None,
) -> None:
    before = signal.status
    before_partner = signal.partner_id
    recorded = apply_decision(signal, decision, action=action, now=clock.now())
    save_step(
        session,
        signal,
        actor=actor,
        action=recorded,
        from_status=before,
        from_partner_id=before_partner,
        note=note if note is not None else signal.routing_explanation,
        clock=clock,
    )


def decide_new_signal(
    session: Session,
    signal: Signal,
    category: Category,
    *,
    router: Router,
    at: datetime,
    municipality: str | None = None,
    session_ends_here: bool = False,
) -> Decision | None:
    """Where a new signal goes; None when no rule matches or the router fails. A failing
    router plugin must not lose the report: it waits in the coordinator's queue instead.

    The router runs in a savepoint, so a query of a failing plugin leaves `session` usable;
    a caller that reads and writes nothing more on it says `session_ends_here` and saves the
    savepoint's round trips (the API's intake plan: every report asks)."""
    facts = facts_of(session, signal, category, at, municipality=municipality)
    try:
        if session_ends_here:
            return router.decide(session, facts, exclude=frozenset())
        with session.begin_nested():
            return router.decide(session, facts, exclude=frozenset())
    except Exception:
        log.exception("router failed", extra={"signal_id": str(signal.id)})
        return None


def reject_signal(
    session: Session,
    *,
    actor: Actor,
    signal_id: uuid.UUID,
    reason: str,
    expected_version: int | None,
    router: Router,
    clock: Clock,
) -> SignalView:
    """The partner says "not ours": route to the next candidate, skipping every decliner."""
    view = get_signal(session, actor=actor, signal_id=signal_id, clock=clock)
    check_step(view, SignalAction.reject, expected_version)
    signal = view.signal
    declined = {*signal.declined_partner_ids, str(signal.partner_id)}
    facts = facts_of(session, signal, view.category, clock.now())
    # Decide before touching the row: the router's queries must not flush it early.
    decision = router.decide(session, facts, exclude=frozenset(uuid.UUID(p) for p in declined))
    signal.declined_partner_ids = sorted(declined)
    _apply(
        session,
        signal,
        decision,
        action=SignalAction.reject,
        actor=actor,
        clock=clock,
        note=f"Not ours: {reason}",
    )
    # The decliner keeps sight of no more than that the signal left them.
    level = detail_level(actor, signal, view.category) or DetailLevel.limited
    return SignalView(signal, view.category, level, allowed_actions(actor, signal))


def route_by_hand(
    session: Session,
    *,
    actor: Actor,
    signal_id: uuid.UUID,
    partner_id: uuid.UUID,
    ack_minutes: int,
    note: str | None,
    expected_version: int | None,
    clock: Clock,
) -> SignalView:
    view = get_signal(session, actor=actor, signal_id=signal_id, clock=clock)
    check_step(view, SignalAction.route, expected_version)
    signal = view.signal
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise UnknownPartner()
    # A coordinator's choice keeps to what the routers keep to: a decliner never again,
    # and only a partner that serves the team's municipality (an empty list serves all).
    if str(partner.id) in signal.declined_partner_ids:
        raise PartnerDeclined()
    team = session.get(Team, signal.team_id)
    assert team is not None
    if partner.municipalities and team.municipality_code not in partner.municipalities:
        raise OutsideServiceArea(team.municipality_code)
    decision = Decision(
        partner_id=partner.id,
        ack_minutes=ack_minutes,
        explanation=f"Routed by hand to {partner.name}.",
    )
    _apply(
        session,
        signal,
        decision,
        action=SignalAction.route,
        actor=actor,
        clock=clock,
        note=note or decision.explanation,
    )
    return SignalView(signal, view.category, view.level, allowed_actions(actor, signal))


def overdue_signal_ids(session: Session, *, now: datetime, limit: int) -> list[uuid.UUID]:
    """Routed signals whose acknowledgement deadline passed and was not yet dealt with."""
    return list(
        session.exec(
            select(Signal.id)
            .where(
                Signal.status == SignalStatus.routed,
                col(Signal.ack_deadline) < now,
                col(Signal.escalated_at).is_(None),
            )
            .order_by(col(Signal.ack_deadline))
            .limit(limit)
        )
    )


def escalate_signal(session: Session, signal_id: uuid.UUID, *, clock: Clock) -> int:
    """Move one overdue signal to its fallback partner, once; 0 if there was nothing to do
    (no fallback, or it was acknowledged or escalated meanwhile)."""
    now = clock.now()
    # Locked: a second process looking at the same deadline waits, then finds it dealt with.
    signal = session.get(Signal, signal_id, with_for_update=True)
    if (
        signal is None
        or signal.status != SignalStatus.routed
        or signal.escalated_at is not None
        or signal.ack_deadline is None
        or signal.ack_deadline >= now
    ):
        return 0
    return _escalate(session, signal, now=now, clock=clock)


def _escalate(session: Session, signal: Signal, *, now: datetime, clock: Clock) -> int:
    signal.escalated_at = now  # this deadline is dealt with, whatever happens next
    fallback = signal.fallback_partner_id
    if fallback is None or fallback == signal.partner_id:
        session.add(signal)
        audit(session, None, AuditAction.signal_escalation_without_fallback, signal.id, clock=clock)
        count_on_commit(session, ESCALATIONS.labels("no_fallback"))
        return 0
    missed = session.get(Partner, signal.partner_id) if signal.partner_id else None
    decision = Decision(
        partner_id=fallback,
        ack_minutes=signal.ack_minutes or 24 * 60,
        rule_id=signal.routing_rule_id,
        rule_name=signal.routing_rule_name,
        explanation=(
            f"{missed.name if missed else 'The partner'} did not acknowledge before "
            f"{signal.ack_deadline:%Y-%m-%d %H:%M} UTC; escalated to the fallback partner."
        ),
    )
    _apply(session, signal, decision, action=SignalAction.escalate, actor=None, clock=clock)
    count_on_commit(session, ESCALATIONS.labels("escalated"))
    return 1


def preview_facts(
    session: Session,
    *,
    actor: Actor,
    category: str,
    team_id: uuid.UUID,
    buurt_code: str | None,
    urgency: str,
    at: datetime,
) -> SignalFacts:
    """Facts for a dry run; the admin, or a coordinator for their own team."""
    team = get_team(session, actor=actor, team_id=team_id)
    if not actor.can_manage_team(team_id):
        raise PermissionDenied("A dry run is for the team's coordinator or an admin.")
    found = session.exec(select(Category).where(Category.code == category)).first()
    if found is None:
        raise UnknownCategory(category)
    return SignalFacts(
        category=found.code,
        category_group=found.group,
        municipality=team.municipality_code,
        team_id=team.id,
        urgency=urgency,
        at=at,
        buurt_code=buurt_code,
    )
