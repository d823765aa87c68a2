"""Coverage of a team's area by available AEDs, hour by hour, as figures and as a picture."""

import uuid
from typing import Annotated

from fastapi import Query, Response

from buurtplus.api.deps import ClockDep, CurrentActor, SessionDep
from buurtplus.api.errors import problems
from buurtplus.api.module_router import ModuleRouter
from buurtplus.api.schemas.common import Moment
from buurtplus.api.schemas.heart_safety import (
    HeartSafetyRead,
    heart_safety_read,
)
from buurtplus.api.schemas.teams import BuurtCode
from buurtplus.domain.heart_safety import service
from buurtplus.domain.heart_safety.hours import HOURS_PER_WEEK, hour_of_week
from buurtplus.domain.heart_safety.picture import render_svg
from buurtplus.domain.teams.service import get_team

router = ModuleRouter(prefix="/teams", tags=["heart-safety"])

SVG_MEDIA_TYPE = "image/svg+xml"
BBox = Annotated[
    str | None,
    Query(
        pattern=r"^-?\d{1,3}(\.\d+)?(,-?\d{1,3}(\.\d+)?){3}$",
        description="min_lon,min_lat,max_lon,max_lat (WGS84): the part of the team's area in "
        "this box (or the box itself for a team without an area)",
        examples=["5.37,52.15,5.40,52.17"],
    ),
]
Week = Annotated[
    str | None,
    Query(
        max_length=10,
        description="ISO week (2026-W48) or a date in it (2026-11-26); default this week. Public "
        "holidays are those of that week",
        examples=["2026-W48"],
    ),
]
HourOfWeek = Annotated[
    int | None,
    Query(
        ge=0,
        lt=HOURS_PER_WEEK,
        description="Hour of the week (0 is Monday 00:00, 167 Sunday 23:00) whose uncovered "
        "places to give; default the least-covered hour",
    ),
]
BuurtQuery = Annotated[
    BuurtCode | None,
    Query(description="One of the team's buurten (its area, when it is the team's only buurt)"),
]


def _bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    min_lon, min_lat, max_lon, max_lat = (float(v) for v in value.split(","))
    return min_lon, min_lat, max_lon, max_lat


@router.get(
    "/{team_id}/heart-safety",
    summary="Coverage of the team's area by available AEDs, per hour of the week",
    description=(
        "For each of the 168 hours of the week (Europe/Amsterdam wall-clock hours, Dutch public "
        "holidays of that week), the share of the area within 500 m of an AED that is open for "
        "the whole hour; the least-covered stretches; the uncovered places of one hour as "
        "GeoJSON; where one new 24/7 AED would add the most coverage over the week; and the "
        "team's citizen responders against the rule of thumb. Counted are active, ready AEDs "
        "with public access that you may see; hours that are unknown or open only with a "
        "comment do not count as open."
    ),
    response_model=HeartSafetyRead,
    responses=problems(401, 404, 409, 422),
)
def get_heart_safety(
    team_id: uuid.UUID,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    buurt_code: BuurtQuery = None,
    bbox: BBox = None,
    week: Week = None,
    hour: HourOfWeek = None,
) -> HeartSafetyRead:
    """A member of the team or an admin: the share of the team's area (or a buurt or box in it)
    within 500 m of an available AED per hour of the week, the uncovered places as GeoJSON,
    where one new AED would cover most, and CPR-trained responders against the rule of thumb."""
    get_team(session, actor=actor, team_id=team_id)  # not yours: 404 before anything else
    result = service.heart_safety(
        session,
        actor=actor,
        team_id=team_id,
        clock=clock,
        monday=service.week_of(week, clock),
        hour=hour,
        buurt_code=buurt_code,
        bbox=_bbox(bbox),
    )
    return heart_safety_read(result)


@router.get(
    "/{team_id}/heart-safety.svg",
    summary="A picture of the team's AED coverage at one hour of the week (SVG)",
    description=(
        "The area's outline, the uncovered places shaded, AEDs coloured by availability, the "
        "best place for a new 24/7 AED, a legend and a scale bar: for a residents' evening or "
        "a newsletter. Give a moment (`at`), or an hour of the week (`hour`, with `week`); by "
        "default the least-covered hour of this week."
    ),
    response_class=Response,
    responses={
        200: {"content": {SVG_MEDIA_TYPE: {"schema": {"type": "string"}}}, "description": "SVG"},
        **problems(401, 404, 409, 422),
    },
)
def get_heart_safety_picture(
    team_id: uuid.UUID,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    at: Annotated[Moment | None, Query(description="The moment to draw")] = None,
    hour: HourOfWeek = None,
    week: Week = None,
    buurt_code: BuurtQuery = None,
    bbox: BBox = None,
) -> Response:
    """As the figures: the same coverage drawn as an SVG picture."""
    team = get_team(session, actor=actor, team_id=team_id)
    if at is not None:
        monday, hour = hour_of_week(at)
    else:
        monday = service.week_of(week, clock)
    result = service.heart_safety(
        session,
        actor=actor,
        team_id=team_id,
        clock=clock,
        monday=monday,
        hour=hour,
        buurt_code=buurt_code,
        bbox=_bbox(bbox),
    )
    svg = render_svg(result.report, title=f"AED coverage of {team.name}")
    return Response(content=svg, media_type=SVG_MEDIA_TYPE)
