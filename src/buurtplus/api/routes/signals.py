"""Reporting signals and reading them: the volunteer's side, and every reader's lists."""

import uuid
from functools import partial
from typing import Annotated

from fastapi import Header, Query, Request, Response, status
from sqlalchemy.exc import IntegrityError

from buurtplus.api.answers import json_answer
from buurtplus.api.contract import sends
from buurtplus.api.deps import (
    ClockDep,
    CurrentActor,
    Cursor,
    Limit,
    SessionDep,
    audited_read,
    audited_read_now,
    clock_of,
    read_session_now,
    router_of,
    writer_of,
)
from buurtplus.api.errors import problems
from buurtplus.api.module_router import ModuleRouter
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
    signal_page_content,
    signal_read,
    submitted_answer,
)
from buurtplus.core.pagination import DEFAULT_LIMIT
from buurtplus.domain.signals import intake, reading
from buurtplus.domain.signals.intake import SignalDraft
from buurtplus.domain.signals.reading import SignalFilter
from buurtplus.domain.signals.workflow import SignalStatus

router = ModuleRouter(prefix="/signals", tags=["signals"])

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
    responses={
        **problems(401, 403, 409, 413, 422),
        **sends(201, "ETag", "Location", "Idempotent-Replayed"),
    },
)
async def report_signal(
    request: Request,
    body: SignalCreate,
    actor: CurrentActor,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """A volunteer or coordinator of the team (a one-team member may leave `team_id` out). Say
    where: at least one of `location`, `address`, `postcode` or `buurt_code`. The answer carries
    advice at once (acute urgency always says "call 112"). Social categories only for teams in
    Plus mode. The signal is routed in the same write (`routed`, or `unroutable` for the
    coordinator's queue) and the partner is told by webhook. A retry with the same
    `Idempotency-Key` or client `id` answers the first result (`Idempotent-Replayed: true`).
    Audited."""
    # Checked and routed on a read-only session; stored by the group-committing writer, so a
    # report never holds the database's write turn while it is worked out, and no thread
    # waits for the commit.
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
    planned = await read_session_now(
        request,
        lambda session: intake.plan_signal(
            session,
            actor=actor,
            draft=draft,
            idempotency_key=idempotency_key,
            clock=clock_of(request),
            router=router_of(request),
            session_ends_here=True,
        ),
    )
    if isinstance(planned, intake.Submission):
        submission = planned
    else:
        try:
            await writer_of(request).submit(planned.rows)
        except IntegrityError as conflict:
            # A concurrent retry of the same report stored it first: answer with that one.
            submission = await read_session_now(
                request, partial(intake.after_conflict, planned=planned, conflict=conflict)
            )
        else:
            submission = planned.stored()
    return submitted_answer(submission)


@router.get(
    "",
    summary="List the signals you may see",
    response_model=SignalPage,
    responses=problems(401, 422),
)
@audited_read
async def list_signals(
    request: Request,
    actor: CurrentActor,
    status_: Annotated[list[SignalStatus] | None, Query(alias="status")] = None,
    category: Annotated[CategoryCode | None, Query()] = None,
    team_id: Annotated[uuid.UUID | None, Query()] = None,
    created_from: Annotated[Moment | None, Query(description="From (inclusive)")] = None,
    created_to: Annotated[Moment | None, Query(description="To (exclusive)")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Scoped by need-to-know: an admin sees all; a coordinator the team's signals (of sensitive
    categories only category, buurt, status and dates: `detail_level: limited`); a member the
    signals they reported; a partner the signals routed to it. Reading sensitive content is
    audited."""
    filters = SignalFilter(
        statuses=status_ or [],
        category=category,
        team_id=team_id,
        created_from=created_from,
        created_to=created_to,
    )
    clock = clock_of(request)
    page = await audited_read_now(
        request,
        lambda session: reading.list_signals(
            session, actor=actor, filters=filters, limit=limit, cursor=cursor, clock=clock
        ),
        # Each way of seeing reads its page in index order; a status or category filter may
        # walk many rows of it to fill the page, so such a list reads in a thread.
        short=not (filters.statuses or filters.category),
    )
    return json_answer(SignalPage, signal_page_content(page.items, page.next_cursor))


@router.get(
    "/{signal_id}",
    summary="One signal, as much as you may see of it",
    response_model=SignalRead,
    responses={**problems(401, 404, 422), **sends(200, "ETag")},
)
@audited_read
def get_signal(
    signal_id: uuid.UUID,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
) -> SignalRead:
    """As the list: the reporter, the team's coordinator (limited for sensitive categories), the
    partner it is routed to, or an admin; to anyone else it does not exist (404). The `ETag` is
    its version. A read of sensitive content is audited."""
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
    """Who may read the signal reads its history; who did a step, and its note, only where the
    reader may see that detail. Append-only; audited like the signal."""
    view, page = reading.signal_history(
        session, actor=actor, signal_id=signal_id, limit=limit, cursor=cursor, clock=clock
    )
    return SignalEventPage(
        items=[event_read(view, e, actor) for e in page.items], next_cursor=page.next_cursor
    )
