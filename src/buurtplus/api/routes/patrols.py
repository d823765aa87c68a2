"""Patrols: planning rounds, walking them, and signing up and off."""

import uuid
from typing import Annotated

from fastapi import Query, Response, status

from buurtplus.api.contract import sends
from buurtplus.api.deps import (
    ClockDep,
    CurrentActor,
    Cursor,
    IfMatch,
    Limit,
    SessionDep,
    send_etag,
    version_from_if_match,
)
from buurtplus.api.errors import problems
from buurtplus.api.module_router import ModuleRouter
from buurtplus.api.schemas.common import Moment
from buurtplus.api.schemas.patrols import (
    ParticipantCreate,
    PatrolCancelRequest,
    PatrolCreate,
    PatrolPage,
    PatrolRead,
    PatrolStepRequest,
    PatrolUpdate,
    patrol_read,
)
from buurtplus.core.actor import Actor
from buurtplus.core.pagination import DEFAULT_LIMIT
from buurtplus.domain.patrols import planning, signups, walking
from buurtplus.domain.patrols.errors import StalePatrol
from buurtplus.domain.patrols.planning import PatrolDraft, PatrolFilter, PatrolView
from buurtplus.domain.patrols.workflow import PatrolAction, PatrolStatus

router = ModuleRouter(tags=["patrols"])


def _answer(response: Response, view: PatrolView) -> PatrolRead:
    send_etag(response, view.patrol.version)
    return patrol_read(view)


def expected_version(if_match: str | None) -> int | None:
    return version_from_if_match(if_match, StalePatrol)


# --- patrols ------------------------------------------------------------------------------


@router.post(
    "/patrols",
    summary="Plan a patrol (the team's coordinator or an admin)",
    response_model=PatrolRead,
    status_code=status.HTTP_201_CREATED,
    responses={**problems(401, 403, 404, 413, 422), **sends(201, "ETag", "Location")},
)
def plan_patrol(
    body: PatrolCreate,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
) -> PatrolRead:
    """The team's coordinator or an admin: planned start and end (at most 24 hours), an optional
    route (GeoJSON LineString) and a note."""
    draft = PatrolDraft(
        team_id=body.team_id,
        planned_start=body.planned_start,
        planned_end=body.planned_end,
        route=body.route.model_dump() if body.route else None,
        note=body.note,
    )
    view = planning.create_patrol(session, actor=actor, draft=draft, clock=clock)
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
    """Members see the patrols of their teams, an admin all; not for partners."""
    filters = PatrolFilter(
        team_id=team_id,
        statuses=status_ or [],
        starts_from=starts_from,
        starts_before=starts_before,
    )
    page = planning.list_patrols(session, actor=actor, filters=filters, limit=limit, cursor=cursor)
    return PatrolPage(items=[patrol_read(v) for v in page.items], next_cursor=page.next_cursor)


@router.get(
    "/patrols/{patrol_id}",
    summary="One patrol, with its participants",
    response_model=PatrolRead,
    responses={**problems(401, 404, 422), **sends(200, "ETag")},
)
def get_patrol(
    patrol_id: uuid.UUID, response: Response, actor: CurrentActor, session: SessionDep
) -> PatrolRead:
    """A member of the patrol's team, or an admin."""
    return _answer(response, planning.get_patrol(session, actor=actor, patrol_id=patrol_id))


@router.patch(
    "/patrols/{patrol_id}",
    summary="Change a planned patrol (the team's coordinator or an admin)",
    response_model=PatrolRead,
    responses={**problems(401, 403, 404, 409, 412, 413, 422, 428), **sends(200, "ETag")},
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
    """The team's coordinator or an admin, while the patrol is planned. Requires `If-Match` with
    the patrol's ETag (428 without, 412 when someone changed it since). Only the fields sent
    change."""
    view = planning.update_patrol(
        session,
        actor=actor,
        patrol_id=patrol_id,
        changes=body.changes(),
        expected_version=version_from_if_match(if_match, StalePatrol, required=True),
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
    view = walking.take_step(
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
    responses={**STEP_ERRORS, **sends(200, "ETag")},
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
    """A participant or the team's coordinator: `planned -> active`, at now or the given time.
    `If-Match` optional; no body needed."""
    return _step(
        response, session, actor, clock, patrol_id, PatrolAction.start, if_match, body=body
    )


@router.post(
    "/patrols/{patrol_id}/finish",
    summary="Finish the round (a participant or the coordinator)",
    response_model=PatrolRead,
    responses={**STEP_ERRORS, **sends(200, "ETag")},
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
    """A participant or the team's coordinator: `active -> completed`, with the actual end time.
    `If-Match` optional; no body needed."""
    return _step(
        response, session, actor, clock, patrol_id, PatrolAction.finish, if_match, body=body
    )


@router.post(
    "/patrols/{patrol_id}/cancel",
    summary="Call off a planned or active round (a participant or the coordinator)",
    response_model=PatrolRead,
    responses={**STEP_ERRORS, **sends(200, "ETag")},
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
    """A participant or the team's coordinator calls off a planned or active round, with an
    optional reason. `If-Match` optional; no body needed."""
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
    responses={**problems(401, 403, 404, 409, 412, 413, 422), **sends(201, "ETag")},
)
def sign_up_for_patrol(
    patrol_id: uuid.UUID,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    body: ParticipantCreate | None = None,
) -> PatrolRead:
    """A member signs themselves up (no body needed), or the coordinator signs up a member of the
    team (`user_id`). A round with fewer than two participants reads `understaffed: true`."""
    view = signups.sign_up(
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
    """A participant signs themselves off, or the coordinator signs off a member, while the round
    is not closed."""
    signups.sign_off(session, actor=actor, patrol_id=patrol_id, user_id=user_id, clock=clock)
