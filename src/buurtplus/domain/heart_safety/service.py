"""Heart safety of a team's area: who may see it, which AEDs count, and the report."""

import math
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Literal

from shapely.geometry.base import BaseGeometry
from sqlmodel import Session, col, func, select

from buurtplus.core.actor import Actor
from buurtplus.core.clock import Clock
from buurtplus.core.opening_hours import AMSTERDAM
from buurtplus.domain.aeds.areas import Reach, reach_of
from buurtplus.domain.aeds.models import Aed
from buurtplus.domain.heart_safety.coverage import AedSite
from buurtplus.domain.heart_safety.errors import (
    AreaTooLarge,
    BuurtBoundaryUnknown,
    BuurtNotOfTeam,
    InvalidBox,
    NotAWeek,
    OutsideTeamArea,
    TeamHasNoArea,
)
from buurtplus.domain.heart_safety.geometry import (
    REACH_M,
    area_from_bbox,
    area_from_geojson,
    to_rd,
)
from buurtplus.domain.heart_safety.hours import monday_of, week_monday
from buurtplus.domain.heart_safety.report import CoverageReport, coverage_report
from buurtplus.domain.heart_safety.responders import ResponderReadiness, responder_readiness
from buurtplus.domain.teams.models import Team, TeamMembership
from buurtplus.domain.teams.service import get_team

# A town, not a province: bigger areas are refused rather than computed slowly.
MAX_AREA_KM2 = 1000.0
# Degrees of latitude per metre, for the margin around the area in the first cut in SQL.
_DEGREES_PER_M = 1 / 111_320


@dataclass(frozen=True)
class Scope:
    kind: Literal["team_area", "buurt", "bbox"]
    buurt_code: str | None = None
    bbox: tuple[float, float, float, float] | None = None


@dataclass(frozen=True)
class HeartSafety:
    team_id: uuid.UUID
    scope: Scope
    report: CoverageReport
    responders: ResponderReadiness


def week_of(value: str | None, clock: Clock) -> date:
    """The Monday of the week asked for (`2026-W48` or a date); this week when not given."""
    if value is None:
        return monday_of(clock.now())
    try:
        return week_monday(value)
    except ValueError as exc:
        raise NotAWeek(str(exc)) from exc


def _region(
    team: Team, *, buurt_code: str | None, bbox: tuple[float, float, float, float] | None
) -> tuple[BaseGeometry, Scope]:
    area = area_from_geojson(team.area) if team.area else None
    if buurt_code is not None:
        if buurt_code not in team.buurt_codes:
            raise BuurtNotOfTeam(buurt_code)
        if area is None:
            raise TeamHasNoArea()
        # Buurt boundaries are not stored: the team's area is the buurt's only when it is the
        # team's one buurt.
        if len(team.buurt_codes) != 1:
            raise BuurtBoundaryUnknown(buurt_code)
        return area, Scope(kind="buurt", buurt_code=buurt_code)
    if bbox is not None:
        try:
            box = area_from_bbox(*bbox)
        except ValueError as exc:
            raise InvalidBox(str(exc)) from exc
        if area is None:
            return box, Scope(kind="bbox", bbox=bbox)
        clipped = area.intersection(box)
        if clipped.is_empty or clipped.area == 0:
            raise OutsideTeamArea()
        return clipped, Scope(kind="bbox", bbox=bbox)
    if area is None:
        raise TeamHasNoArea()
    return area, Scope(kind="team_area")


def aed_sites_in(
    session: Session, bounds: tuple[float, float, float, float], reach: Reach
) -> list[AedSite]:
    """The AEDs within `bounds` (min_lon, min_lat, max_lon, max_lat) widened by 500 m that
    are not retired and that `reach` may read. Not ready or not active: in the list, but they
    cover nothing."""
    min_lon, min_lat, max_lon, max_lat = bounds
    margin_lat = REACH_M * _DEGREES_PER_M
    margin_lon = margin_lat / max(0.1, math.cos(math.radians(max(abs(min_lat), abs(max_lat)))))
    rows = session.exec(
        select(Aed).where(
            col(Aed.latitude).between(min_lat - margin_lat, max_lat + margin_lat),
            col(Aed.longitude).between(min_lon - margin_lon, max_lon + margin_lon),
            col(Aed.retired_at).is_(None),
        )
    ).all()
    return [
        AedSite(
            id=str(aed.id),
            lat=aed.latitude,
            lon=aed.longitude,
            opening_hours=aed.opening_hours,
            status=aed.status if aed.ready else "not_ready",
            access=aed.access,
        )
        for aed in rows
        if reach.reads(aed)
    ]


def valid_responders(session: Session, team_id: uuid.UUID, today: date) -> int:
    """Members registered as citizen responder whose CPR certificate is valid today."""
    count = session.exec(
        select(func.count())
        .select_from(TeamMembership)
        .where(
            TeamMembership.team_id == team_id,
            col(TeamMembership.citizen_responder).is_(True),
            col(TeamMembership.cpr_valid_until) >= today,
        )
    ).one()
    return int(count)


def heart_safety(
    session: Session,
    *,
    actor: Actor,
    team_id: uuid.UUID,
    clock: Clock,
    monday: date,
    hour: int | None = None,
    buurt_code: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> HeartSafety:
    """Coverage of a team's area (or one buurt of it, or a box) for one week, for the team's
    members and coordinators and for admins."""
    team = get_team(session, actor=actor, team_id=team_id)
    region, scope = _region(team, buurt_code=buurt_code, bbox=bbox)
    area_km2 = to_rd(region).area / 1e6
    if area_km2 > MAX_AREA_KM2:
        raise AreaTooLarge("query.bbox" if bbox else "area", area_km2, MAX_AREA_KM2)
    sites = aed_sites_in(session, region.bounds, reach_of(session, actor))
    report = coverage_report(region, sites, monday, hour=hour)
    # The team's responders serve the team's whole area; a box without one is all there is.
    team_area_m2 = to_rd(area_from_geojson(team.area)).area if team.area else report.area_m2
    today = clock.now().astimezone(AMSTERDAM).date()
    readiness = responder_readiness(valid_responders(session, team.id, today), team_area_m2)
    return HeartSafety(team_id=team.id, scope=scope, report=report, responders=readiness)
