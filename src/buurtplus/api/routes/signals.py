"""Reporting signals and reading them: the volunteer's side, and every reader's lists."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from buurtplus.api.deps import (
    ClockDep,
    CurrentActor,
    Cursor,
    Limit,
    ReadSessionDep,
    RouterDep,
    SessionDep,
    WriterDep,
    audited_read,
)
from buurtplus.api.errors import problems
from buurtplus.api.schemas.common import Moment
from buurtplus.api.schemas.signals import (
    CategoryCode,
    SignalCreate,
    SignalEventPage,
    SignalPage,
    SignalRead,
    SignalSubmitted,
    event_read,
    signal_etag,
    signal_read,
    signal_submitted,
)
from buurtplus.core.pagination import DEFAULT_LIMIT
from buurtplus.domain.signals import intake, reading
from buurtplus.domain.signals.intake import SignalDraft
from buurtplus.domain.signals.reading import SignalFilter
from buurtplus.domain.signals.workflow import SignalStatus

router = APIRouter(prefix="/signals", tags=["signals"])

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Any unique string; a retry with the same key returns the first result",
    ),
]


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
    session: ReadSessionDep,
    writer: WriterDep,
    clock: ClockDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> SignalSubmitted:
    # Checked and routed on a read-only session; stored by the group-committing writer, so a
    # report never holds the database's write turn while it is worked out.
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
        writer=writer,
    )
    response.headers["ETag"] = signal_etag(submission.view)
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
    response.headers["ETag"] = signal_etag(view)
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
