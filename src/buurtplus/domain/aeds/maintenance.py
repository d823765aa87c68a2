"""What needs looking after: pads or battery expiring soon, not ready, or not checked for
longer than the check interval."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from buurtplus.core.actor import Actor
from buurtplus.core.clock import Clock
from buurtplus.core.errors import PermissionDenied
from buurtplus.core.pagination import Page, paginate
from buurtplus.domain.aeds.areas import Reach, TeamArea, reach_of, team_area
from buurtplus.domain.aeds.checks import today
from buurtplus.domain.aeds.models import Aed
from buurtplus.domain.aeds.service import AedView, view_of
from buurtplus.domain.teams.service import get_team


@dataclass(frozen=True)
class MaintenanceItem:
    view: AedView
    reasons: list[str]


def _reasons(aed: Aed, *, horizon: date, on: date, cutoff_check: datetime) -> list[str]:
    reasons = []
    for name, expiry in (("pads", aed.pads_expiry), ("battery", aed.battery_expiry)):
        if expiry is not None and expiry < on:
            reasons.append(f"{name}_expired")
        elif expiry is not None and expiry <= horizon:
            reasons.append(f"{name}_expiring")
    if not aed.ready:
        reasons.append("not_ready")
    last = aed.last_checked_at or aed.created_at
    if last < cutoff_check:
        reasons.append("check_due" if aed.last_checked_at else "never_checked")
    return reasons


def maintenance_list(
    session: Session,
    *,
    actor: Actor,
    within_days: int,
    team_id: uuid.UUID | None,
    check_interval_days: int,
    limit: int,
    cursor: str | None,
    clock: Clock,
) -> Page[MaintenanceItem]:
    """For a team (its members), every team of the actor, a maintaining partner's AEDs, or
    (admin) the whole registry."""
    reach = reach_of(session, actor)
    scope = _scope(session, reach, team_id)
    now = clock.now()
    on = today(clock)
    horizon = on + timedelta(days=within_days)
    cutoff = now - timedelta(days=check_interval_days)
    statement = select(Aed).where(
        col(Aed.retired_at).is_(None),
        or_(
            col(Aed.pads_expiry) <= horizon,
            col(Aed.battery_expiry) <= horizon,
            col(Aed.ready).is_(False),
            col(Aed.last_checked_at) < cutoff,
            and_(col(Aed.last_checked_at).is_(None), col(Aed.created_at) < cutoff),
        ),
    )
    if scope is None and actor.partner_id is not None:
        statement = statement.where(col(Aed.maintainer_partner_id) == actor.partner_id)
    page = paginate(
        session,
        statement,
        order=(Aed.created_at, Aed.id),
        limit=limit,
        cursor=cursor,
        key=lambda a: (a.created_at, a.id),
    )
    items = [
        MaintenanceItem(
            view_of(reach, aed, now), _reasons(aed, horizon=horizon, on=on, cutoff_check=cutoff)
        )
        for aed in page.items
        if (scope is None or any(area.holds_aed(aed) for area in scope)) and reach.reads(aed)
    ]
    return Page(items=items, next_cursor=page.next_cursor)


def _scope(session: Session, reach: Reach, team_id: uuid.UUID | None) -> list[TeamArea] | None:
    actor = reach.actor
    if team_id is not None:
        return [team_area(get_team(session, actor=actor, team_id=team_id))]
    if actor.is_admin:
        return None
    if actor.partner_id is not None:
        return None  # the partner's own AEDs, by the maintainer filter
    if not reach.member_of:
        raise PermissionDenied(
            "The maintenance list is for team members, maintaining partners and admins."
        )
    return list(reach.member_of)
