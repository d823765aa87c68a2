"""A team's patrols as a whole: its schedule as a calendar feed, and its figures."""

import uuid
from datetime import UTC, timedelta
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response

from buurtplus.api.deps import (
    ClockDep,
    CurrentActor,
    SessionDep,
    bearer,
    get_current_actor,
    read_session_now,
)
from buurtplus.api.errors import Unauthenticated, problems
from buurtplus.api.module_router import ModuleRouter
from buurtplus.api.schemas.common import Moment
from buurtplus.api.schemas.patrols import TeamStatsRead, team_stats_read
from buurtplus.core.actor import Actor
from buurtplus.domain.patrols.calendar import patrols_calendar
from buurtplus.domain.patrols.feed import actor_for_feed_token, team_schedule
from buurtplus.domain.patrols.stats import team_figures

router = ModuleRouter(tags=["patrols"])

# Team figures cover this much when `from` is left out.
DEFAULT_STATS_PERIOD = timedelta(days=30)

FeedToken = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=200,
        description="Your calendar feed token (POST /api/v1/me/feed-token), for calendar apps "
        "that send no Authorization header",
    ),
]


async def calendar_reader(
    request: Request,
    bearer_token: Annotated[str | None, Depends(bearer)],
    token: FeedToken = None,
) -> Actor:
    """The feed token's owner, or else whoever the bearer token says."""
    if token is None:
        return await get_current_actor(request, bearer_token)
    actor = await read_session_now(
        request, lambda session: actor_for_feed_token(session, token=token)
    )
    if actor is None:
        raise Unauthenticated("The feed token is unknown or was revoked; make a new one.")
    return actor


CALENDAR_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The team's patrols as iCalendar (RFC 5545)",
        "content": {"text/calendar": {"schema": {"type": "string"}}},
    }
}


@router.get(
    "/teams/{team_id}/patrols.ics",
    summary="A team's patrol schedule as an iCalendar feed to subscribe to",
    response_class=Response,
    responses={**CALENDAR_RESPONSE, **problems(401, 404, 422)},
)
def team_patrols_calendar(
    team_id: uuid.UUID,
    actor: Annotated[Actor, Depends(calendar_reader)],
    session: SessionDep,
    clock: ClockDep,
) -> Response:
    """A member of the team with a bearer token, or a calendar app with a personal feed token in
    the URL (`?token=`): the team's rounds as iCalendar."""
    team, views = team_schedule(session, actor=actor, team_id=team_id, clock=clock)
    return Response(
        content=patrols_calendar(team, views, now=clock.now()),
        media_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": 'inline; filename="patrols.ics"',
        },
    )


@router.get(
    "/teams/{team_id}/stats",
    summary="A team's figures: rounds, hours, observations, signals (coordinator or admin)",
    response_model=TeamStatsRead,
    responses=problems(401, 403, 404, 422),
)
def team_stats(
    team_id: uuid.UUID,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    from_: Annotated[
        Moment | None, Query(alias="from", description="From (inclusive); default 30 days back")
    ] = None,
    to: Annotated[Moment | None, Query(description="To (exclusive); default now")] = None,
) -> TeamStatsRead:
    """The team's coordinator or an admin: rounds walked, hours, participants, observations by
    kind, signals by category and outcome (sensitive categories only as a count)."""
    end = (to or clock.now()).astimezone(UTC)
    start = from_.astimezone(UTC) if from_ else end - DEFAULT_STATS_PERIOD
    figures = team_figures(session, actor=actor, team_id=team_id, start=start, end=end)
    return team_stats_read(figures)
