import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Query, Request, Response, status

from buurtplus.api.contract import sends
from buurtplus.api.deps import (
    ClockDep,
    CurrentActor,
    Cursor,
    IfMatch,
    Limit,
    SessionDep,
    SettingsDep,
    send_etag,
    version_from_if_match,
)
from buurtplus.api.errors import problems
from buurtplus.api.module_router import ModuleRouter
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
from buurtplus.domain.webhooks.endpoints import IssuedEndpoint
from buurtplus.domain.webhooks.errors import StaleEndpoint
from buurtplus.outbox.models import DeliveryStatus, EventType

router = ModuleRouter(tags=["webhooks"])


def get_address_guard(request: Request) -> AddressGuard:
    guard: AddressGuard = request.app.state.address_guard
    return guard


GuardDep = Annotated[AddressGuard, Depends(get_address_guard)]
ENDPOINTS = "/partners/{partner_id}/endpoints"


def _issued(response: Response, issued: IssuedEndpoint) -> EndpointIssued:
    send_etag(response, issued.endpoint.version)
    return EndpointIssued.with_secret(issued)


@router.post(
    ENDPOINTS,
    summary="Add a webhook endpoint; its signing secret is shown once",
    response_model=EndpointIssued,
    status_code=status.HTTP_201_CREATED,
    responses={**problems(401, 403, 404, 413, 422), **sends(201, "ETag")},
)
def create_endpoint(
    partner_id: uuid.UUID,
    body: EndpointCreate,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    guard: GuardDep,
) -> EndpointIssued:
    """Admin, or the partner's own people (accounts, not its system clients): where to push the
    partner's events, and which types. The URL must be http(s) and resolve to a public address
    (unless allowed by configuration). The signing secret (`whsec_...`) is in this answer only."""
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
    return _issued(response, issued)


@router.get(
    ENDPOINTS,
    summary="The partner's webhook endpoints",
    response_model=EndpointPage,
    responses=problems(401, 403, 404, 422),
)
def list_endpoints(
    partner_id: uuid.UUID,
    actor: CurrentActor,
    session: SessionDep,
    enabled: bool | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> EndpointPage:
    """Admin, or the partner's own accounts and system clients. Secrets are never listed."""
    page = endpoints.list_endpoints(
        session, actor=actor, partner_id=partner_id, enabled=enabled, limit=limit, cursor=cursor
    )
    return EndpointPage.of(page)


@router.get(
    "/webhook-endpoints",
    summary="Every partner's webhook endpoints, e.g. those switched off for failing (admin)",
    response_model=EndpointPage,
    responses=problems(401, 403, 404, 422),
)
def list_all_endpoints(
    actor: CurrentActor,
    session: SessionDep,
    enabled: bool | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> EndpointPage:
    """Admin only: e.g. the endpoints switched off after days of failing."""
    page = endpoints.list_endpoints(
        session, actor=actor, partner_id=None, enabled=enabled, limit=limit, cursor=cursor
    )
    return EndpointPage.of(page)


@router.get(
    ENDPOINTS + "/{endpoint_id}",
    summary="One webhook endpoint",
    response_model=EndpointRead,
    responses={**problems(401, 404, 422), **sends(200, "ETag")},
)
def get_endpoint(
    partner_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
) -> EndpointRead:
    """Admin, or the partner's own accounts and system clients."""
    endpoint = endpoints.get_endpoint(
        session, actor=actor, partner_id=partner_id, endpoint_id=endpoint_id
    )
    send_etag(response, endpoint.version)
    return EndpointRead.of(endpoint)


@router.patch(
    ENDPOINTS + "/{endpoint_id}",
    summary="Change a webhook endpoint; enabling it again resumes its pending deliveries",
    response_model=EndpointRead,
    responses={**problems(401, 403, 404, 412, 413, 422, 428), **sends(200, "ETag")},
)
def update_endpoint(
    partner_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    body: EndpointUpdate,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    guard: GuardDep,
    if_match: IfMatch = None,
) -> EndpointRead:
    """Admin, or the partner's own people (accounts, not its system clients). Requires
    `If-Match` with the endpoint's ETag (428 without, 412 when it changed since: by you, or by
    delivery, which switches a failing endpoint off). Enabling a switched-off endpoint again
    resumes its pending deliveries. Only the fields sent change."""
    endpoint = endpoints.update_endpoint(
        session,
        actor=actor,
        partner_id=partner_id,
        endpoint_id=endpoint_id,
        changes=body.changes(),
        expected_version=version_from_if_match(if_match, StaleEndpoint, required=True),
        guard=guard,
        clock=clock,
    )
    send_etag(response, endpoint.version)
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
    """Admin, or the partner's own people (accounts, not its system clients): the endpoint and its
    delivery log go; the events stay in the partner's feed."""
    endpoints.delete_endpoint(
        session, actor=actor, partner_id=partner_id, endpoint_id=endpoint_id, clock=clock
    )


@router.post(
    ENDPOINTS + "/{endpoint_id}/rotate-secret",
    summary="New signing secret, shown once; the old one also signs during the grace period",
    response_model=EndpointIssued,
    responses={**problems(401, 403, 404, 412, 413, 422), **sends(200, "ETag")},
)
def rotate_endpoint_secret(
    partner_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    body: SecretRotation | None = None,
) -> EndpointIssued:
    """Admin, or the partner's own people (accounts, not its system clients): a new secret, in this
    answer only. During the grace period (`grace_hours`, or the configured default) every event
    carries a second signature with the old secret. No body needed."""
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
    return _issued(response, issued)


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
    """Admin, or the partner's own people (accounts, not its system clients): a `ping` event to
    this endpoint only, signed like any other; the answer is the delivery, whose attempts show
    what the endpoint answered."""
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
    """Admin, or the partner's own people (accounts, not its system clients): the partner's events
    of a time range (at most 31 days) are queued for this endpoint again, each with its own
    `webhook-id`, so a receiver that deduplicates skips what it has."""
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
    delivery_status: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    event_type: EventType | None = None,
    since: Annotated[Moment | None, Query()] = None,
    until: Annotated[Moment | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> DeliveryPage:
    """Admin, or the partner's own accounts and system clients: each delivery with its status and
    every attempt (status code, duration, the first KiB of the answer)."""
    page = deliveries.list_deliveries(
        session,
        actor=actor,
        partner_id=partner_id,
        where=deliveries.DeliveryFilter(
            endpoint_id=endpoint_id,
            status=delivery_status,
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
    """Admin, or the accounts and clients of the delivery's partner."""
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
    """Admin, or the partner's own people (accounts, not its system clients): deliver again now,
    with the same `webhook-id` and a fresh retry schedule (also for a dead delivery)."""
    return DeliveryRead.of(
        deliveries.retry_delivery(session, actor=actor, delivery_id=delivery_id, clock=clock)
    )


@router.get(
    "/partner/events",
    summary="Pull instead of push: the partner's events in order, after a position",
    response_model=EventFeedRead,
    # An event's data leaves out what the partner may not see, as the pushed body does.
    response_model_exclude_unset=True,
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
    """A partner's accounts and clients read their own events (an admin names `partner_id`): the
    same events its endpoints are pushed, in the order they happened, each with its typed
    payload. Start without `after`, then pass the `next_cursor` of the previous read; `has_more`
    says to read again at once. Pass `type` with the event types your client knows: new types
    are added in minor versions."""
    found = feed.read_events(
        session,
        actor=actor,
        partner_id=partner_id,
        after=after,
        limit=limit,
        types=event_type or (),
    )
    return EventFeedRead.of(found)
