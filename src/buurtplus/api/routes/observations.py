"""What participants see on a round, and the signals made of it."""

import uuid

from fastapi import Response, status

from buurtplus.api.contract import sends
from buurtplus.api.deps import (
    ClockDep,
    CurrentActor,
    Cursor,
    Limit,
    RouterDep,
    SessionDep,
    audited_read,
)
from buurtplus.api.errors import problems
from buurtplus.api.module_router import ModuleRouter
from buurtplus.api.schemas.patrols import (
    ObservationCreate,
    ObservationPage,
    ObservationPromote,
    ObservationRead,
    observation_read,
)
from buurtplus.api.schemas.signals import SignalSubmitted, submitted_answer
from buurtplus.core.pagination import DEFAULT_LIMIT
from buurtplus.domain.patrols import observations, promotion
from buurtplus.domain.patrols.observations import ObservationDraft
from buurtplus.domain.patrols.promotion import Promotion

router = ModuleRouter(tags=["patrols"])


@router.post(
    "/patrols/{patrol_id}/observations",
    summary="Log what you saw on the round (a participant)",
    response_model=ObservationRead,
    status_code=status.HTTP_201_CREATED,
    responses={**problems(401, 403, 404, 409, 413, 422), **sends(201, "Idempotent-Replayed")},
)
def log_observation(
    patrol_id: uuid.UUID,
    body: ObservationCreate,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
) -> ObservationRead:
    """A participant of the round, while or after it is walked: time (within the round), position,
    kind and note. The same `client_id` is stored once (`Idempotent-Replayed: true` on a retry)."""
    draft = ObservationDraft(
        kind=body.kind,
        latitude=body.location.latitude,
        longitude=body.location.longitude,
        observed_at=body.observed_at,
        note=body.note,
        client_id=body.client_id,
    )
    logged = observations.log_observation(
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
    """The round's participants, the team's coordinator and an admin. The note and place of an
    observation made into a signal of a sensitive category are shown only to its author (and,
    audited, an admin): `withheld: true` for the rest."""
    page = observations.list_observations(
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
    responses={
        **problems(401, 403, 404, 409, 413, 422),
        **sends(201, "ETag", "Location", "Idempotent-Replayed"),
    },
)
def promote_observation(
    patrol_id: uuid.UUID,
    observation_id: uuid.UUID,
    active: RouterDep,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    body: ObservationPromote | None = None,
) -> Response:
    """The observation's author: a signal made of it through the ordinary intake (advice, routing,
    webhooks, audit), prefilled from the observation, linked both ways. No body needed when the
    observation's kind names a category. Answers as `POST /api/v1/signals`."""
    submission = promotion.promote_observation(
        session,
        actor=actor,
        patrol_id=patrol_id,
        observation_id=observation_id,
        promotion=Promotion(**body.model_dump()) if body else Promotion(),
        clock=clock,
        router=active,
    )
    return submitted_answer(submission)
