"""Handling a signal: the steps of its workflow, feedback, routing by hand and rejection."""

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
from buurtplus.api.schemas.signals import (
    CloseRequest,
    FeedbackCreate,
    FeedbackPage,
    FeedbackRead,
    IfMatch,
    RejectRequest,
    RouteRequest,
    SignalRead,
    StepRequest,
    WithdrawRequest,
    expected_version,
    signal_etag,
    signal_read,
)
from buurtplus.core.pagination import DEFAULT_LIMIT
from buurtplus.domain.signals import feedback as feedback_service
from buurtplus.domain.signals import steps
from buurtplus.domain.signals.dispatch import reject_signal, route_by_hand
from buurtplus.domain.signals.workflow import Outcome, SignalAction

router = ModuleRouter(prefix="/signals", tags=["signals"])


def _step(
    response: Response,
    session: SessionDep,
    actor: CurrentActor,
    clock: ClockDep,
    signal_id: uuid.UUID,
    action: SignalAction,
    if_match: str | None,
    note: str | None,
    outcome: Outcome | None = None,
) -> SignalRead:
    view = steps.take_action(
        session,
        actor=actor,
        signal_id=signal_id,
        action=action,
        expected_version=expected_version(if_match),
        clock=clock,
        note=note,
        outcome=outcome,
    )
    response.headers["ETag"] = signal_etag(view)
    return signal_read(view)


STEP_ERRORS = problems(401, 403, 404, 409, 412, 413, 422)


@router.post(
    "/{signal_id}/withdraw",
    summary="Take back your own signal (before it is acknowledged)",
    response_model=SignalRead,
    responses={**STEP_ERRORS, **sends(200, "ETag")},
)
def withdraw_signal(
    signal_id: uuid.UUID,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    body: WithdrawRequest | None = None,
    if_match: IfMatch = None,
) -> SignalRead:
    """The reporter, before the signal is acknowledged. The partner that had it is told
    (`signal.withdrawn`). `If-Match` optional (see the workflow rule in the description of the
    API); no body needed."""
    return _step(
        response,
        session,
        actor,
        clock,
        signal_id,
        SignalAction.withdraw,
        if_match,
        note=body.reason if body else None,
    )


@router.post(
    "/{signal_id}/acknowledge",
    summary="Acknowledge a routed signal",
    response_model=SignalRead,
    responses={**STEP_ERRORS, **sends(200, "ETag")},
)
def acknowledge_signal(
    signal_id: uuid.UUID,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    body: StepRequest | None = None,
    if_match: IfMatch = None,
) -> SignalRead:
    """The partner the signal is routed to (or an admin), before its deadline passes and it
    escalates. The reporter's and coordinator's view show the new status. `If-Match` optional;
    no body needed."""
    return _step(
        response,
        session,
        actor,
        clock,
        signal_id,
        SignalAction.acknowledge,
        if_match,
        note=body.note if body else None,
    )


@router.post(
    "/{signal_id}/start",
    summary="Mark an acknowledged signal as in progress",
    response_model=SignalRead,
    responses={**STEP_ERRORS, **sends(200, "ETag")},
)
def start_signal(
    signal_id: uuid.UUID,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    body: StepRequest | None = None,
    if_match: IfMatch = None,
) -> SignalRead:
    """The partner handling the signal (or an admin), after acknowledging it. `If-Match` optional;
    no body needed."""
    return _step(
        response,
        session,
        actor,
        clock,
        signal_id,
        SignalAction.start,
        if_match,
        note=body.note if body else None,
    )


@router.post(
    "/{signal_id}/close",
    summary="Close a signal with an outcome",
    response_model=SignalRead,
    responses={**STEP_ERRORS, **sends(200, "ETag")},
)
def close_signal(
    signal_id: uuid.UUID,
    body: CloseRequest,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    if_match: IfMatch = None,
) -> SignalRead:
    """The partner handling the signal (or an admin) closes it with an outcome; the team's
    coordinator may close a signal in the queue (e.g. a duplicate). Retention counts from
    closing. `If-Match` optional."""
    return _step(
        response,
        session,
        actor,
        clock,
        signal_id,
        SignalAction.close,
        if_match,
        outcome=body.outcome,
        note=body.note,
    )


@router.post(
    "/{signal_id}/feedback",
    summary="Write feedback (terugkoppeling) for the reporter and coordinator",
    response_model=FeedbackRead,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 413, 422),
)
def add_feedback(
    signal_id: uuid.UUID,
    body: FeedbackCreate,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
) -> FeedbackRead:
    """The partner handling the signal, or an admin: a short message for the reporter and the
    coordinator, without case details (they read it even for sensitive categories). The
    partner's feed gets a `signal.updated` event. Retention removes the text after the retention
    period."""
    written = feedback_service.add_feedback(
        session, actor=actor, signal_id=signal_id, message=body.message, clock=clock
    )
    return FeedbackRead.model_validate(written, from_attributes=True)


@router.get(
    "/{signal_id}/feedback",
    summary="Feedback on a signal, oldest first",
    response_model=FeedbackPage,
    responses=problems(401, 404, 422),
)
@audited_read
def list_feedback(
    signal_id: uuid.UUID,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> FeedbackPage:
    """The reporter, the team's coordinator, the partner handling it, or an admin. Audited."""
    page = feedback_service.list_feedback(
        session, actor=actor, signal_id=signal_id, limit=limit, cursor=cursor, clock=clock
    )
    return FeedbackPage(
        items=[FeedbackRead.model_validate(f, from_attributes=True) for f in page.items],
        next_cursor=page.next_cursor,
    )


@router.post(
    "/{signal_id}/route",
    summary="Route a signal from the queue by hand (coordinator or admin)",
    response_model=SignalRead,
    responses={**STEP_ERRORS, **sends(200, "ETag")},
)
def route_signal(
    signal_id: uuid.UUID,
    body: RouteRequest,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    if_match: IfMatch = None,
) -> SignalRead:
    """The team's coordinator or an admin, for a signal in the queue (`submitted` or `unroutable`):
    to a partner that serves the team's municipality and has not declined it. The partner is
    told (`signal.routed`). `If-Match` optional."""
    view = route_by_hand(
        session,
        actor=actor,
        signal_id=signal_id,
        partner_id=body.partner_id,
        ack_minutes=body.ack_minutes,
        note=body.note,
        expected_version=expected_version(if_match),
        clock=clock,
    )
    response.headers["ETag"] = signal_etag(view)
    return signal_read(view)


@router.post(
    "/{signal_id}/reject",
    summary='Say "not ours": the signal goes to the next partner that fits (partner)',
    response_model=SignalRead,
    responses={**STEP_ERRORS, **sends(200, "ETag")},
)
def reject_routed_signal(
    signal_id: uuid.UUID,
    body: RejectRequest,
    active: RouterDep,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    if_match: IfMatch = None,
) -> SignalRead:
    """The partner the signal is routed to says "not ours", with a reason: the router picks the
    next partner that fits, never one that declined it before (or the signal becomes
    `unroutable`). The partner is told `signal.rerouted` and its earlier events lose their
    personal content. `If-Match` optional."""
    view = reject_signal(
        session,
        actor=actor,
        signal_id=signal_id,
        reason=body.reason,
        expected_version=expected_version(if_match),
        router=active,
        clock=clock,
    )
    response.headers["ETag"] = signal_etag(view)
    return signal_read(view)
