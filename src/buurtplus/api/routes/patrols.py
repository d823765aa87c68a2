import uuid
from datetime import UTC, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response, status

from buurtplus.api.deps import (
    ClockDep,
    CurrentActor,
    Cursor,
    Limit,
    RouterDep,
    SessionDep,
    TokenIssuerDep,
    audited_read,
    bearer,
    get_current_actor,
    version_from_if_match,
)
from buurtplus.api.errors import Unauthenticated, problems
from buurtplus.api.schemas.common import Moment
from buurtplus.api.schemas.patrols import (
    CategoryFiguresRead,
    ObservationCreate,
    ObservationPage,
    ObservationPromote,
    ObservationRead,
    ParticipantCreate,
    ParticipantRead,
    PatrolCancelRequest,
    PatrolCreate,
    PatrolPage,
    PatrolRead,
    PatrolStepRequest,
    PatrolUpdate,
    TeamStatsRead,
)
from buurtplus.api.schemas.signals import Advice, Location, SignalSubmitted, signal_read
from buurtplus.core.actor import Actor
from buurtplus.core.pagination import DEFAULT_LIMIT
from buurtplus.domain.patrols import service
from buurtplus.domain.patrols.calendar import patrols_calendar
from buurtplus.domain.patrols.errors import StalePatrol
from buurtplus.domain.patrols.feed import actor_for_feed_token, team_schedule
from buurtplus.domain.patrols.service import (
    ObservationDraft,
    ObservationView,
    PatrolDraft,
    PatrolFilter,
    PatrolView,
    Promotion,
)
from buurtplus.domain.patrols.stats import team_figures
from buurtplus.domain.patrols.workflow import PatrolAction, PatrolStatus

router = APIRouter(tags=["patrols"])

IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description="The patrol's ETag; a stale one gets 412"),
]

# Team figures cover this much when `from` is left out.
DEFAULT_STATS_PERIOD = timedelta(days=30)


def patrol_read(view: PatrolView) -> PatrolRead:
    p = view.patrol
    return PatrolRead(
        id=p.id,
        team_id=p.team_id,
        status=PatrolStatus(p.status),
        planned_start=p.planned_start,
        planned_end=p.planned_end,
        started_at=p.started_at,
        finished_at=p.finished_at,
        cancelled_at=p.cancelled_at,
        cancel_reason=p.cancel_reason,
        route=p.route,
        note=p.note,
        participants=[
            ParticipantRead(user_id=x.user_id, full_name=x.full_name, joined_at=x.joined_at)
            for x in view.participants
        ],
        understaffed=view.understaffed,
        observation_count=view.observation_count,
        allowed_transitions=view.actions,
        version=p.version,
        created_by=p.created_by,
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


def observation_read(view: ObservationView) -> ObservationRead:
    o = view.observation
    shown = not view.withheld
    return ObservationRead(
        id=o.id,
        patrol_id=o.patrol_id,
        author_id=o.author_id,
        client_id=o.client_id,
        observed_at=o.observed_at,
        location=(
            Location(latitude=o.latitude, longitude=o.longitude)
            if shown and o.latitude is not None and o.longitude is not None
            else None
        ),
        kind=o.kind,
        note=o.note if shown else None,
        withheld=view.withheld,
        signal_id=view.signal_id,
        created_at=o.created_at,
    )


def _answer(response: Response, view: PatrolView) -> PatrolRead:
    response.headers["ETag"] = f'"{view.patrol.version}"'
    return patrol_read(view)


def expected_version(if_match: str | None) -> int | None:
    return version_from_if_match(if_match, StalePatrol)


# --- patrols ------------------------------------------------------------------------------


@router.post(
    "/patrols",
    summary="Plan a patrol (the team's coordinator or an admin)",
    response_model=PatrolRead,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 413, 422),
)
def plan_patrol(
    body: PatrolCreate,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
) -> PatrolRead:
    draft = PatrolDraft(
        team_id=body.team_id,
        planned_start=body.planned_start,
        planned_end=body.planned_end,
        route=body.route.model_dump() if body.route else None,
        note=body.note,
    )
    view = service.create_patrol(session, actor=actor, draft=draft, clock=clock)
    response.headers["Location"] = f"/api/v1/patrols/{view.patrol.id}"
    return _answer(response, view)


@router.get(
    "/patrols",
    summary="List the patrols of your teams, by planned start",
    response_model=PatrolPage,
    responses=problems(401, 403, 422),
)
def list_patrols(
    actor: CurrentActor,
    session: SessionDep,
    team_id: Annotated[uuid.UUID | None, Query()] = None,
    status_: Annotated[list[PatrolStatus] | None, Query(alias="status")] = None,
    starts_from: Annotated[
        Moment | None, Query(description="Planned to start at or after this")
    ] = None,
    starts_before: Annotated[
        Moment | None, Query(description="Planned to start before this")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PatrolPage:
    filters = PatrolFilter(
        team_id=team_id,
        statuses=status_ or [],
        starts_from=starts_from,
        starts_before=starts_before,
    )
    page = service.list_patrols(session, actor=actor, filters=filters, limit=limit, cursor=cursor)
    return PatrolPage(items=[patrol_read(v) for v in page.items], next_cursor=page.next_cursor)


@router.get(
    "/patrols/{patrol_id}",
    summary="One patrol, with its participants",
    response_model=PatrolRead,
    responses=problems(401, 404, 422),
)
def get_patrol(
    patrol_id: uuid.UUID, response: Response, actor: CurrentActor, session: SessionDep
) -> PatrolRead:
    return _answer(response, service.get_patrol(session, actor=actor, patrol_id=patrol_id))


@router.patch(
    "/patrols/{patrol_id}",
    summary="Change a planned patrol (the team's coordinator or an admin)",
    response_model=PatrolRead,
    responses=problems(401, 403, 404, 409, 412, 413, 422),
)
def update_patrol(
    patrol_id: uuid.UUID,
    body: PatrolUpdate,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    if_match: IfMatch = None,
) -> PatrolRead:
    view = service.update_patrol(
        session,
        actor=actor,
        patrol_id=patrol_id,
        changes=body.changes(),
        expected_version=expected_version(if_match),
        clock=clock,
    )
    return _answer(response, view)


STEP_ERRORS = problems(401, 403, 404, 409, 412, 413, 422)


def _step(
    response: Response,
    session: SessionDep,
    actor: Actor,
    clock: ClockDep,
    patrol_id: uuid.UUID,
    action: PatrolAction,
    if_match: str | None,
    *,
    body: PatrolStepRequest | None = None,
    reason: str | None = None,
) -> PatrolRead:
    view = service.take_step(
        session,
        actor=actor,
        patrol_id=patrol_id,
        action=action,
        at=body.at if body else None,
        reason=reason,
        expected_version=expected_version(if_match),
        clock=clock,
    )
    return _answer(response, view)


@router.post(
    "/patrols/{patrol_id}/start",
    summary="Start the round (a participant or the coordinator)",
    response_model=PatrolRead,
    responses=STEP_ERRORS,
)
def start_patrol(
    patrol_id: uuid.UUID,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    body: PatrolStepRequest | None = None,
    if_match: IfMatch = None,
) -> PatrolRead:
    return _step(
        response, session, actor, clock, patrol_id, PatrolAction.start, if_match, body=body
    )


@router.post(
    "/patrols/{patrol_id}/finish",
    summary="Finish the round (a participant or the coordinator)",
    response_model=PatrolRead,
    responses=STEP_ERRORS,
)
def finish_patrol(
    patrol_id: uuid.UUID,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    body: PatrolStepRequest | None = None,
    if_match: IfMatch = None,
) -> PatrolRead:
    return _step(
        response, session, actor, clock, patrol_id, PatrolAction.finish, if_match, body=body
    )


@router.post(
    "/patrols/{patrol_id}/cancel",
    summary="Call off a planned or active round (a participant or the coordinator)",
    response_model=PatrolRead,
    responses=STEP_ERRORS,
)
def cancel_patrol(
    patrol_id: uuid.UUID,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    body: PatrolCancelRequest | None = None,
    if_match: IfMatch = None,
) -> PatrolRead:
    return _step(
        response,
        session,
        actor,
        clock,
        patrol_id,
        PatrolAction.cancel,
        if_match,
        reason=body.reason if body else None,
    )


# --- participants -------------------------------------------------------------------------


@router.post(
    "/patrols/{patrol_id}/participants",
    summary="Sign up for a patrol (yourself, or as coordinator a team member)",
    response_model=PatrolRead,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 409, 412, 413, 422),
)
def sign_up_for_patrol(
    patrol_id: uuid.UUID,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    body: ParticipantCreate | None = None,
) -> PatrolRead:
    view = service.sign_up(
        session,
        actor=actor,
        patrol_id=patrol_id,
        user_id=body.user_id if body else None,
        clock=clock,
    )
    return _answer(response, view)


@router.delete(
    "/patrols/{patrol_id}/participants/{user_id}",
    summary="Sign off from a patrol (yourself, or as coordinator a team member)",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problems(401, 403, 404, 409, 412, 422),
)
def sign_off_from_patrol(
    patrol_id: uuid.UUID,
    user_id: uuid.UUID,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
) -> None:
    service.sign_off(session, actor=actor, patrol_id=patrol_id, user_id=user_id, clock=clock)


# --- observations -------------------------------------------------------------------------


@router.post(
    "/patrols/{patrol_id}/observations",
    summary="Log what you saw on the round (a participant)",
    response_model=ObservationRead,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 409, 413, 422),
)
def log_observation(
    patrol_id: uuid.UUID,
    body: ObservationCreate,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
) -> ObservationRead:
    draft = ObservationDraft(
        kind=body.kind,
        latitude=body.location.latitude,
        longitude=body.location.longitude,
        observed_at=body.observed_at,
        note=body.note,
        client_id=body.client_id,
    )
    logged = service.log_observation(
        session, actor=actor, patrol_id=patrol_id, draft=draft, clock=clock
    )
    if logged.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return observation_read(logged.view)


@router.get(
    "/patrols/{patrol_id}/observations",
    summary="The round's observations, in the order they were seen",
    response_model=ObservationPage,
    responses=problems(401, 403, 404, 422),
)
@audited_read
def list_observations(
    patrol_id: uuid.UUID,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> ObservationPage:
    page = service.list_observations(
        session, actor=actor, patrol_id=patrol_id, limit=limit, cursor=cursor, clock=clock
    )
    return ObservationPage(
        items=[observation_read(v) for v in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/patrols/{patrol_id}/observations/{observation_id}/signal",
    summary="Report a signal made of an observation, prefilled from it",
    response_model=SignalSubmitted,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 409, 413, 422),
)
def promote_observation(
    patrol_id: uuid.UUID,
    observation_id: uuid.UUID,
    active: RouterDep,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    body: ObservationPromote | None = None,
) -> SignalSubmitted:
    submission = service.promote_observation(
        session,
        actor=actor,
        patrol_id=patrol_id,
        observation_id=observation_id,
        promotion=Promotion(**body.model_dump()) if body else Promotion(),
        clock=clock,
        router=active,
    )
    view = submission.view
    response.headers["ETag"] = f'"{view.signal.version}"'
    response.headers["Location"] = f"/api/v1/signals/{view.signal.id}"
    if submission.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    advice = submission.advice
    return SignalSubmitted(
        **signal_read(view).model_dump(),
        advice=Advice(call_112=advice.call_112, nl=advice.nl, en=advice.en),
    )


# --- a team's calendar and figures --------------------------------------------------------


FeedToken = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=200,
        description="Your calendar feed token (POST /api/v1/me/feed-token), for calendar apps "
        "that send no Authorization header",
    ),
]


def calendar_reader(
    session: SessionDep,
    clock: ClockDep,
    issuer: TokenIssuerDep,
    bearer_token: Annotated[str | None, Depends(bearer)],
    token: FeedToken = None,
) -> Actor:
    """The feed token's owner, or else whoever the bearer token says."""
    if token is None:
        return get_current_actor(session, clock, issuer, bearer_token)
    actor = actor_for_feed_token(session, token=token)
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
    end = (to or clock.now()).astimezone(UTC)
    start = from_.astimezone(UTC) if from_ else end - DEFAULT_STATS_PERIOD
    figures = team_figures(session, actor=actor, team_id=team_id, start=start, end=end)
    return TeamStatsRead(
        team_id=figures.team_id,
        period_from=figures.period_from,
        period_to=figures.period_to,
        rounds_walked=figures.rounds_walked,
        rounds_understaffed=figures.rounds_understaffed,
        rounds_cancelled=figures.rounds_cancelled,
        hours=figures.hours,
        volunteer_hours=figures.volunteer_hours,
        participants=figures.participants,
        observations_by_kind=figures.observations_by_kind,
        signals=figures.signals,
        signals_from_patrols=figures.signals_from_patrols,
        signals_by_category=[
            CategoryFiguresRead(
                code=c.code,
                label_nl=c.label_nl,
                label_en=c.label_en,
                sensitivity=c.sensitivity,
                count=c.count,
                by_outcome=c.by_outcome,
            )
            for c in figures.signals_by_category
        ],
    )
