import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from buurtplus.api.deps import ClockDep, CurrentActor, Cursor, Limit, SessionDep, SettingsDep
from buurtplus.api.errors import problems
from buurtplus.api.schemas.common import Moment
from buurtplus.api.schemas.webhooks import (
    DeliveryPage,
    DeliveryRead,
    EndpointCreate,
    EndpointIssued,
    EndpointPage,
    EndpointRead,
    EndpointUpdate,
    EventFeedRead,
    RecoverRequest,
    RecoverResult,
    SecretRotation,
)
from buurtplus.core.pagination import DEFAULT_LIMIT
from buurtplus.delivery.ssrf import AddressGuard
from buurtplus.domain.webhooks import deliveries, endpoints, feed
from buurtplus.outbox.models import DeliveryStatus, EventType

router = APIRouter(tags=["webhooks"])


def get_address_guard(request: Request) -> AddressGuard:
    guard: AddressGuard = request.app.state.address_guard
    return guard


GuardDep = Annotated[AddressGuard, Depends(get_address_guard)]
ENDPOINTS = "/partners/{partner_id}/endpoints"


@router.post(
    ENDPOINTS,
    summary="Add a webhook endpoint; its signing secret is shown once",
    response_model=EndpointIssued,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 413, 422),
)
def create_endpoint(
    partner_id: uuid.UUID,
    body: EndpointCreate,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    guard: GuardDep,
) -> EndpointIssued:
    issued = endpoints.create_endpoint(
        session,
        actor=actor,
        partner_id=partner_id,
        url=body.url,
        event_types=body.event_types,
        description=body.description,
        enabled=body.enabled,
        guard=guard,
        clock=clock,
    )
    return EndpointIssued.with_secret(issued)


@router.get(
    ENDPOINTS,
    summary="The partner's webhook endpoints",
    response_model=EndpointPage,
    responses=problems(401, 404, 422),
)
def list_endpoints(
    partner_id: uuid.UUID,
    actor: CurrentActor,
    session: SessionDep,
    enabled: bool | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> EndpointPage:
    page = endpoints.list_endpoints(
        session, actor=actor, partner_id=partner_id, enabled=enabled, limit=limit, cursor=cursor
    )
    return EndpointPage.of(page)


@router.get(
    "/webhook-endpoints",
    summary="Every partner's webhook endpoints, e.g. those switched off for failing (admin)",
    response_model=EndpointPage,
    responses=problems(401, 403, 422),
)
def list_all_endpoints(
    actor: CurrentActor,
    session: SessionDep,
    enabled: bool | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> EndpointPage:
    page = endpoints.list_endpoints(
        session, actor=actor, partner_id=None, enabled=enabled, limit=limit, cursor=cursor
    )
    return EndpointPage.of(page)


@router.get(
    ENDPOINTS + "/{endpoint_id}",
    summary="One webhook endpoint",
    response_model=EndpointRead,
    responses=problems(401, 404, 422),
)
def get_endpoint(
    partner_id: uuid.UUID, endpoint_id: uuid.UUID, actor: CurrentActor, session: SessionDep
) -> EndpointRead:
    return EndpointRead.of(
        endpoints.get_endpoint(session, actor=actor, partner_id=partner_id, endpoint_id=endpoint_id)
    )


@router.patch(
    ENDPOINTS + "/{endpoint_id}",
    summary="Change a webhook endpoint; enabling it again resumes its pending deliveries",
    response_model=EndpointRead,
    responses=problems(401, 403, 404, 413, 422),
)
def update_endpoint(
    partner_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    body: EndpointUpdate,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    guard: GuardDep,
) -> EndpointRead:
    endpoint = endpoints.update_endpoint(
        session,
        actor=actor,
        partner_id=partner_id,
        endpoint_id=endpoint_id,
        changes=body.changes(),
        guard=guard,
        clock=clock,
    )
    return EndpointRead.of(endpoint)


@router.delete(
    ENDPOINTS + "/{endpoint_id}",
    summary="Remove a webhook endpoint and its delivery log",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problems(401, 403, 404, 422),
)
def delete_endpoint(
    partner_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
) -> None:
    endpoints.delete_endpoint(
        session, actor=actor, partner_id=partner_id, endpoint_id=endpoint_id, clock=clock
    )


@router.post(
    ENDPOINTS + "/{endpoint_id}/rotate-secret",
    summary="New signing secret, shown once; the old one also signs during the grace period",
    response_model=EndpointIssued,
    responses=problems(401, 403, 404, 413, 422),
)
def rotate_endpoint_secret(
    partner_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    body: SecretRotation | None = None,
) -> EndpointIssued:
    hours = (
        body.grace_hours
        if body is not None and body.grace_hours is not None
        else settings.webhook_secret_grace_hours
    )
    issued = endpoints.rotate_secret(
        session,
        actor=actor,
        partner_id=partner_id,
        endpoint_id=endpoint_id,
        grace=timedelta(hours=hours),
        clock=clock,
    )
    return EndpointIssued.with_secret(issued)


@router.post(
    ENDPOINTS + "/{endpoint_id}/test",
    summary="Send a ping event to the endpoint",
    response_model=DeliveryRead,
    status_code=status.HTTP_202_ACCEPTED,
    responses=problems(401, 403, 404, 409, 422),
)
def test_endpoint(
    partner_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
) -> DeliveryRead:
    return DeliveryRead.of(
        endpoints.send_test_ping(
            session, actor=actor, partner_id=partner_id, endpoint_id=endpoint_id, clock=clock
        )
    )


@router.post(
    ENDPOINTS + "/{endpoint_id}/recover",
    summary="Send the partner's events of a time range (at most 31 days) to this endpoint again",
    response_model=RecoverResult,
    status_code=status.HTTP_202_ACCEPTED,
    responses=problems(401, 403, 404, 409, 413, 422),
)
def recover_endpoint(
    partner_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    body: RecoverRequest,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
) -> RecoverResult:
    count = endpoints.recover_deliveries(
        session,
        actor=actor,
        partner_id=partner_id,
        endpoint_id=endpoint_id,
        since=body.since,
        until=body.until,
        clock=clock,
    )
    return RecoverResult(events=count)


@router.get(
    "/partners/{partner_id}/deliveries",
    summary="The attempt log: deliveries to the partner's endpoints, with every attempt",
    response_model=DeliveryPage,
    responses=problems(401, 404, 422),
)
def list_deliveries(
    partner_id: uuid.UUID,
    actor: CurrentActor,
    session: SessionDep,
    endpoint_id: uuid.UUID | None = None,
    # A patterned string, not the enum: the published contract describes it so.
    delivery_status: Annotated[
        str | None, Query(alias="status", pattern=f"^({'|'.join(DeliveryStatus)})$")
    ] = None,
    event_type: EventType | None = None,
    since: Annotated[Moment | None, Query()] = None,
    until: Annotated[Moment | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> DeliveryPage:
    page = deliveries.list_deliveries(
        session,
        actor=actor,
        partner_id=partner_id,
        where=deliveries.DeliveryFilter(
            endpoint_id=endpoint_id,
            status=None if delivery_status is None else DeliveryStatus(delivery_status),
            event_type=event_type,
            since=since,
            until=until,
        ),
        limit=limit,
        cursor=cursor,
    )
    return DeliveryPage.of(page)


@router.get(
    "/deliveries/{delivery_id}",
    summary="One delivery with its attempts",
    response_model=DeliveryRead,
    responses=problems(401, 404, 422),
)
def get_delivery(delivery_id: uuid.UUID, actor: CurrentActor, session: SessionDep) -> DeliveryRead:
    return DeliveryRead.of(deliveries.get_delivery(session, actor=actor, delivery_id=delivery_id))


@router.post(
    "/deliveries/{delivery_id}/retry",
    summary="Deliver again now (same webhook-id, a fresh retry schedule)",
    response_model=DeliveryRead,
    status_code=status.HTTP_202_ACCEPTED,
    responses=problems(401, 403, 404, 422),
)
def retry_delivery(
    delivery_id: uuid.UUID, actor: CurrentActor, session: SessionDep, clock: ClockDep
) -> DeliveryRead:
    return DeliveryRead.of(
        deliveries.retry_delivery(session, actor=actor, delivery_id=delivery_id, clock=clock)
    )


@router.get(
    "/partner/events",
    summary="Pull instead of push: the partner's events in order, after a position",
    response_model=EventFeedRead,
    responses=problems(401, 403, 404, 422),
)
def list_partner_events(
    actor: CurrentActor,
    session: SessionDep,
    after: Annotated[
        str | None,
        Query(max_length=512, description="next_cursor of the previous read; omit to start"),
    ] = None,
    event_type: Annotated[list[EventType] | None, Query(alias="type")] = None,
    partner_id: Annotated[uuid.UUID | None, Query(description="For an admin: whose events")] = None,
    limit: Limit = DEFAULT_LIMIT,
) -> EventFeedRead:
    found = feed.read_events(
        session,
        actor=actor,
        partner_id=partner_id,
        after=after,
        limit=limit,
        types=event_type or (),
    )
    return EventFeedRead.of(found)
