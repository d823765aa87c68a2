"""Where routing reaches no partner: category x area combinations that the router in force
leaves uncovered, now or in some hour of the week."""

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from buurtplus.core.errors import NotSupported
from buurtplus.core.opening_hours import AMSTERDAM
from buurtplus.domain.categories.models import Category
from buurtplus.domain.routing.router import Router, SignalFacts, WhatIf, WhatIfRouter
from buurtplus.domain.teams.models import Team

URGENCIES = ("normal", "high", "acute")
DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")


@dataclass(frozen=True)
class Gap:
    category: str
    team_id: uuid.UUID
    buurt_code: str | None
    urgencies: list[str]
    uncovered_now: bool
    # Hours of the week (Amsterdam time, "Mo 08:00") in which some moment is uncovered.
    uncovered_hours: list[str]


def week_moments(now: datetime) -> list[tuple[str, list[datetime]]]:
    """Each hour of the week containing `now`, with the moments checked in it (:00 and :30)."""
    local = now.astimezone(AMSTERDAM)
    monday = (local - timedelta(days=local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    hours = []
    for n in range(7 * 24):
        start = monday + timedelta(hours=n)
        label = f"{DAYS[start.weekday()]} {start:%H}:00"
        hours.append((label, [start, start + timedelta(minutes=30)]))
    return hours


class GapReportNotSupported(NotSupported):
    def __init__(self) -> None:
        super().__init__(
            "The router in force cannot answer what-if questions, so it cannot report gaps; "
            "use POST /api/v1/routing/preview to try one signal."
        )


def routing_gaps(
    session: Session, *, router: Router, municipality: str, now: datetime
) -> list[Gap]:
    if not isinstance(router, WhatIfRouter):
        raise GapReportNotSupported()
    decide = router.what_if(session)
    categories = session.exec(
        select(Category).where(col(Category.active).is_(True)).order_by(col(Category.code))
    ).all()
    teams = session.exec(
        select(Team).where(Team.municipality_code == municipality).order_by(col(Team.name))
    ).all()
    hours = week_moments(now)
    order = [label for label, _ in hours]
    gaps = []
    for category in categories:
        for team in teams:
            areas: list[str | None] = list(team.buurt_codes) or [None]
            for buurt in areas:
                base = SignalFacts(
                    category=category.code,
                    category_group=category.group,
                    municipality=municipality,
                    team_id=team.id,
                    urgency="normal",
                    at=now,
                    buurt_code=buurt,
                )
                gap = _gap(decide, base, hours, order)
                if gap is not None:
                    gaps.append(gap)
    return gaps


def _gap(
    decide: WhatIf,
    base: SignalFacts,
    hours: list[tuple[str, list[datetime]]],
    order: list[str],
) -> Gap | None:
    urgencies: list[str] = []
    uncovered_hours: set[str] = set()
    uncovered_now = False
    for urgency in URGENCIES:
        facts = replace(base, urgency=urgency)
        missing = {
            label
            for label, moments in hours
            if any(decide(replace(facts, at=at)) is None for at in moments)
        }
        now_missing = decide(facts) is None
        if missing or now_missing:
            urgencies.append(urgency)
            uncovered_hours |= missing
            uncovered_now = uncovered_now or now_missing
    if not urgencies:
        return None
    return Gap(
        category=base.category,
        team_id=base.team_id,
        buurt_code=base.buurt_code,
        urgencies=urgencies,
        uncovered_now=uncovered_now,
        uncovered_hours=sorted(uncovered_hours, key=order.index),
    )
