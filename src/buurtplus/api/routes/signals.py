import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from buurtplus.api.deps import (
    ClockDep,
    CurrentActor,
    Cursor,
    Limit,
    RouterDep,
    SessionDep,
    audited_read,
    version_from_if_match,
)
from buurtplus.api.errors import problems
from buurtplus.api.schemas.common import Moment
from buurtplus.api.schemas.signals import (
    CategoryCode,
    CloseRequest,
    FeedbackCreate,
    FeedbackPage,
    FeedbackRead,
    RejectRequest,
    RouteRequest,
    SignalCreate,
    SignalEventPage,
    SignalPage,
    SignalRead,
    SignalSubmitted,
    StepRequest,
    WithdrawRequest,
    event_read,
    signal_read,
    signal_submitted,
)
from buurtplus.core.pagination import DEFAULT_LIMIT
from buurtplus.domain.signals import feedback as feedback_service
from buurtplus.domain.signals import intake, reading, steps
from buurtplus.domain.signals.dispatch import reject_signal, route_by_hand
from buurtplus.domain.signals.errors import StaleSignal
from buurtplus.domain.signals.intake import SignalDraft
from buurtplus.domain.signals.reading import SignalFilter, SignalView
from buurtplus.domain.signals.workflow import Outcome, SignalAction, SignalStatus

router = APIRouter(prefix="/signals", tags=["signals"])

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Any unique string; a retry with the same key returns the first result",
    ),
]
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description="The signal's ETag; a stale one gets 412"),
]


def etag(view: SignalView) -> str:
    return f'"{view.signal.version}"'


def expected_version(if_match: str | None) -> int | None:
    return version_from_if_match(if_match, StaleSignal)


@router.post(
    "",
    summary="Report a signal and get advice at once",
    response_model=SignalSubmitted,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 409, 413, 422),
)
def report_signal(
    body: SignalCreate,
    active: RouterDep,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> SignalSubmitted:
    draft = SignalDraft(
        id=body.id,
        category=body.category,
        description=body.description,
        urgency=body.urgency,
        emergency_called=body.emergency_called,
        observed_at=body.observed_at,
        latitude=body.location.latitude if body.location else None,
        longitude=body.location.longitude if body.location else None,
        address=body.address,
        postcode=body.postcode,
        buurt_code=body.buurt_code,
        team_id=body.team_id,
    )
    submission = intake.submit_signal(
        session,
        actor=actor,
        draft=draft,
        idempotency_key=idempotency_key,
        clock=clock,
        router=active,
    )
    response.headers["ETag"] = etag(submission.view)
    response.headers["Location"] = f"/api/v1/signals/{submission.view.signal.id}"
    if submission.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return signal_submitted(submission)


@router.get(
    "",
    summary="List the signals you may see",
    response_model=SignalPage,
    responses=problems(401, 422),
)
@audited_read
def list_signals(
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    status_: Annotated[list[SignalStatus] | None, Query(alias="status")] = None,
    category: Annotated[CategoryCode | None, Query()] = None,
    team_id: Annotated[uuid.UUID | None, Query()] = None,
    created_from: Annotated[Moment | None, Query(description="From (inclusive)")] = None,
    created_to: Annotated[Moment | None, Query(description="To (exclusive)")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> SignalPage:
    filters = SignalFilter(
        statuses=status_ or [],
        category=category,
        team_id=team_id,
        created_from=created_from,
        created_to=created_to,
    )
    page = reading.list_signals(
        session, actor=actor, filters=filters, limit=limit, cursor=cursor, clock=clock
    )
    return SignalPage(items=[signal_read(v) for v in page.items], next_cursor=page.next_cursor)


@router.get(
    "/{signal_id}",
    summary="One signal, as much as you may see of it",
    response_model=SignalRead,
    responses=problems(401, 404, 422),
)
@audited_read
def get_signal(
    signal_id: uuid.UUID,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
) -> SignalRead:
    view = reading.get_signal(session, actor=actor, signal_id=signal_id, clock=clock)
    response.headers["ETag"] = etag(view)
    return signal_read(view)


@router.get(
    "/{signal_id}/history",
    summary="The signal's history, oldest first (append-only)",
    response_model=SignalEventPage,
    responses=problems(401, 404, 422),
)
@audited_read
def get_signal_history(
    signal_id: uuid.UUID,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> SignalEventPage:
    view, page = reading.signal_history(
        session, actor=actor, signal_id=signal_id, limit=limit, cursor=cursor, clock=clock
    )
    return SignalEventPage(
        items=[event_read(view, e, actor) for e in page.items], next_cursor=page.next_cursor
    )


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
    response.headers["ETag"] = etag(view)
    return signal_read(view)


STEP_ERRORS = problems(401, 403, 404, 409, 412, 413, 422)


@router.post(
    "/{signal_id}/withdraw",
    summary="Take back your own signal (before it is acknowledged)",
    response_model=SignalRead,
    responses=STEP_ERRORS,
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
    responses=STEP_ERRORS,
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
    responses=STEP_ERRORS,
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
    responses=STEP_ERRORS,
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
    responses=STEP_ERRORS,
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
    response.headers["ETag"] = etag(view)
    return signal_read(view)


@router.post(
    "/{signal_id}/reject",
    summary='Say "not ours": the signal goes to the next partner that fits (partner)',
    response_model=SignalRead,
    responses=STEP_ERRORS,
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
    view = reject_signal(
        session,
        actor=actor,
        signal_id=signal_id,
        reason=body.reason,
        expected_version=expected_version(if_match),
        router=active,
        clock=clock,
    )
    response.headers["ETag"] = etag(view)
    return signal_read(view)
