"""Partner endpoints, the attempt log, redelivery and the pull API."""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlmodel import Session, col, select

from buurtplus.core.actor import Actor
from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.service import audit
from buurtplus.core.clock import Clock
from buurtplus.core.errors import InvalidCursor, PermissionDenied
from buurtplus.core.pagination import Page, paginate
from buurtplus.domain.partners.service import get_partner
from buurtplus.domain.webhooks.errors import (
    DeliveryNotFound,
    EndpointDisabled,
    EndpointNotFound,
    InvalidTimeRange,
    InvalidWebhookUrl,
    RecoverRangeTooLong,
)
from buurtplus.outbox.events import EventType, add_deliveries, announce, enqueue_event
from buurtplus.outbox.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    WebhookEndpoint,
    WebhookEvent,
)
from buurtplus.outbox.secrets import generate_secret

# One recovery covers at most this much time; a longer outage is recovered in parts.
MAX_RECOVER_RANGE = timedelta(days=31)

# --- who may -------------------------------------------------------------------------------


def _require_manager(session: Session, actor: Actor, partner_id: uuid.UUID) -> None:
    get_partner(session, actor=actor, partner_id=partner_id)
    if not actor.can_manage_partner(partner_id):
        raise PermissionDenied("Only the partner's own people or an admin manage its webhooks.")


# --- endpoints ----------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedEndpoint:
    endpoint: WebhookEndpoint
    secret: str


class UrlCheck(Protocol):
    """What the delivery side refuses to send to (its SSRF guard), asked when a URL is saved."""

    def url_refusal(self, url: str) -> str | None: ...


def _checked_url(guard: UrlCheck, url: str) -> str:
    reason = guard.url_refusal(url)
    if reason is not None:
        raise InvalidWebhookUrl(reason)
    return url


def create_endpoint(
    session: Session,
    *,
    actor: Actor,
    partner_id: uuid.UUID,
    url: str,
    event_types: Sequence[str],
    description: str | None,
    enabled: bool,
    guard: UrlCheck,
    clock: Clock,
) -> IssuedEndpoint:
    _require_manager(session, actor, partner_id)
    now = clock.now()
    secret = generate_secret()
    endpoint = WebhookEndpoint(
        partner_id=partner_id,
        url=_checked_url(guard, url),
        description=description,
        event_types=sorted(set(event_types)),
        enabled=enabled,
        secret=secret,
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    session.flush()
    _audit(session, actor, AuditAction.webhook_endpoint_create, endpoint, clock, url=endpoint.url)
    return IssuedEndpoint(endpoint=endpoint, secret=secret)


def get_endpoint(
    session: Session, *, actor: Actor, partner_id: uuid.UUID, endpoint_id: uuid.UUID
) -> WebhookEndpoint:
    get_partner(session, actor=actor, partner_id=partner_id)
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.partner_id != partner_id:
        raise EndpointNotFound()
    return endpoint


def _managed_endpoint(
    session: Session, actor: Actor, partner_id: uuid.UUID, endpoint_id: uuid.UUID
) -> WebhookEndpoint:
    endpoint = get_endpoint(session, actor=actor, partner_id=partner_id, endpoint_id=endpoint_id)
    if not actor.can_manage_partner(partner_id):
        raise PermissionDenied("Only the partner's own people or an admin manage its webhooks.")
    return endpoint


def list_endpoints(
    session: Session,
    *,
    actor: Actor,
    partner_id: uuid.UUID | None,
    enabled: bool | None,
    limit: int,
    cursor: str | None,
) -> Page[WebhookEndpoint]:
    """A partner's endpoints; without a partner, every partner's (the admin's overview of
    endpoints that were disabled for failing)."""
    statement = select(WebhookEndpoint)
    if partner_id is not None:
        get_partner(session, actor=actor, partner_id=partner_id)
        statement = statement.where(WebhookEndpoint.partner_id == partner_id)
    elif not actor.is_admin:
        raise PermissionDenied("Only an admin lists every partner's endpoints.")
    if enabled is not None:
        statement = statement.where(WebhookEndpoint.enabled == enabled)
    return paginate(
        session,
        statement,
        order=(WebhookEndpoint.created_at, WebhookEndpoint.id),
        key=lambda e: (e.created_at, e.id),
        limit=limit,
        cursor=cursor,
    )


def update_endpoint(
    session: Session,
    *,
    actor: Actor,
    partner_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    changes: Mapping[str, Any],
    guard: UrlCheck,
    clock: Clock,
) -> WebhookEndpoint:
    endpoint = _managed_endpoint(session, actor, partner_id, endpoint_id)
    if "url" in changes:
        endpoint.url = _checked_url(guard, changes["url"])
    if "description" in changes:
        endpoint.description = changes["description"]
    if "event_types" in changes:
        endpoint.event_types = sorted(set(changes["event_types"]))
    if "enabled" in changes and changes["enabled"] != endpoint.enabled:
        endpoint.enabled = changes["enabled"]
        if endpoint.enabled:
            # Switched on again: a fresh start for the five-day count.
            endpoint.disabled_reason = None
            endpoint.disabled_at = None
            endpoint.failing_since = None
        else:
            endpoint.disabled_reason = "Switched off by hand."
            endpoint.disabled_at = clock.now()
    endpoint.updated_at = clock.now()
    session.add(endpoint)
    session.flush()
    _audit(
        session, actor, AuditAction.webhook_endpoint_update, endpoint, clock, fields=sorted(changes)
    )
    if (
        endpoint.enabled
        and session.exec(
            select(Delivery.id)
            .where(Delivery.endpoint_id == endpoint.id, Delivery.status == DeliveryStatus.pending)
            .limit(1)
        ).first()
    ):
        announce(session)
    return endpoint


def delete_endpoint(
    session: Session, *, actor: Actor, partner_id: uuid.UUID, endpoint_id: uuid.UUID, clock: Clock
) -> None:
    endpoint = _managed_endpoint(session, actor, partner_id, endpoint_id)
    _audit(session, actor, AuditAction.webhook_endpoint_delete, endpoint, clock)
    session.delete(endpoint)
    session.flush()


def rotate_secret(
    session: Session,
    *,
    actor: Actor,
    partner_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    grace: timedelta,
    clock: Clock,
) -> IssuedEndpoint:
    """A new secret signs from now on; the old one signs too until the grace period ends, so
    the partner can switch its receiver without losing a delivery."""
    endpoint = _managed_endpoint(session, actor, partner_id, endpoint_id)
    now = clock.now()
    secret = generate_secret()
    endpoint.previous_secret = endpoint.secret if grace > timedelta(0) else None
    endpoint.previous_secret_expires_at = now + grace if grace > timedelta(0) else None
    endpoint.secret = secret
    endpoint.updated_at = now
    session.add(endpoint)
    session.flush()
    _audit(
        session,
        actor,
        AuditAction.webhook_endpoint_rotate_secret,
        endpoint,
        clock,
        grace_seconds=int(grace.total_seconds()),
    )
    return IssuedEndpoint(endpoint=endpoint, secret=secret)


def send_test_ping(
    session: Session,
    *,
    actor: Actor,
    partner_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    clock: Clock,
) -> "DeliveryRecord":
    endpoint = _managed_endpoint(session, actor, partner_id, endpoint_id)
    if not endpoint.enabled:
        raise EndpointDisabled()
    event = enqueue_event(
        session,
        partner_id=partner_id,
        type_=EventType.ping,
        data={"endpoint_id": str(endpoint.id), "message": "Test from Buurtpreventie Plus."},
        clock=clock,
        only_endpoint=endpoint,
    )
    _audit(session, actor, AuditAction.webhook_endpoint_test, endpoint, clock)
    delivery = session.exec(select(Delivery).where(Delivery.event_seq == event.seq)).one()
    return _records(session, [delivery])[0]


def recover_deliveries(
    session: Session,
    *,
    actor: Actor,
    partner_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    since: datetime,
    until: datetime,
    clock: Clock,
) -> int:
    """Send the partner's events of a time range to the endpoint again (after an outage the
    retries gave up on); each keeps its webhook-id, so a receiver can tell what it has."""
    if until < since:
        raise InvalidTimeRange()
    if until - since > MAX_RECOVER_RANGE:
        raise RecoverRangeTooLong(MAX_RECOVER_RANGE.days)
    endpoint = _managed_endpoint(session, actor, partner_id, endpoint_id)
    if not endpoint.enabled:
        raise EndpointDisabled()
    waiting = select(Delivery.event_seq).where(
        Delivery.endpoint_id == endpoint.id, Delivery.status == DeliveryStatus.pending
    )
    events = session.exec(
        select(WebhookEvent)
        .where(
            WebhookEvent.partner_id == partner_id,
            col(WebhookEvent.created_at) >= since,
            col(WebhookEvent.created_at) <= until,
            col(WebhookEvent.type).in_(endpoint.event_types),
            col(WebhookEvent.seq).not_in(waiting),  # on its way already
        )
        .order_by(col(WebhookEvent.seq))
    ).all()
    now = clock.now()
    for event in events:
        add_deliveries(session, event, [endpoint], now=now)
    session.flush()
    _audit(
        session,
        actor,
        AuditAction.webhook_endpoint_recover,
        endpoint,
        clock,
        since=since.isoformat(),
        until=until.isoformat(),
        events=len(events),
    )
    return len(events)


def _audit(
    session: Session,
    actor: Actor,
    action: AuditAction,
    endpoint: WebhookEndpoint,
    clock: Clock,
    **details: Any,
) -> None:
    audit(
        session,
        actor,
        action,
        endpoint.id,
        clock=clock,
        partner_id=str(endpoint.partner_id),
        **details,
    )


# --- the attempt log ----------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryFilter:
    endpoint_id: uuid.UUID | None = None
    status: str | None = None
    event_type: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class DeliveryRecord:
    delivery: Delivery
    event: WebhookEvent
    attempts: list[DeliveryAttempt]


def _records(session: Session, deliveries: Sequence[Delivery]) -> list[DeliveryRecord]:
    if not deliveries:
        return []
    seqs = {d.event_seq for d in deliveries}
    events = {
        e.seq: e for e in session.exec(select(WebhookEvent).where(col(WebhookEvent.seq).in_(seqs)))
    }
    attempts: dict[uuid.UUID, list[DeliveryAttempt]] = {d.id: [] for d in deliveries}
    for attempt in session.exec(
        select(DeliveryAttempt)
        .where(col(DeliveryAttempt.delivery_id).in_(attempts))
        .order_by(col(DeliveryAttempt.attempted_at), col(DeliveryAttempt.id))
    ):
        attempts[attempt.delivery_id].append(attempt)
    return [DeliveryRecord(d, events[d.event_seq], attempts[d.id]) for d in deliveries]


def list_deliveries(
    session: Session,
    *,
    actor: Actor,
    partner_id: uuid.UUID,
    where: DeliveryFilter,
    limit: int,
    cursor: str | None,
) -> Page[DeliveryRecord]:
    get_partner(session, actor=actor, partner_id=partner_id)
    statement = select(Delivery).where(Delivery.partner_id == partner_id)
    if where.endpoint_id is not None:
        statement = statement.where(Delivery.endpoint_id == where.endpoint_id)
    if where.status is not None:
        statement = statement.where(Delivery.status == where.status)
    if where.event_type is not None:
        statement = statement.where(Delivery.event_type == where.event_type)
    if where.since is not None:
        statement = statement.where(col(Delivery.created_at) >= where.since)
    if where.until is not None:
        statement = statement.where(col(Delivery.created_at) <= where.until)
    # Newest first reads best in a log, but the one pagination helper pages ascending: page
    # by (created_at, id) ascending and let the filters narrow the window.
    page = paginate(
        session,
        statement,
        order=(Delivery.created_at, Delivery.id),
        key=lambda d: (d.created_at, d.id),
        limit=limit,
        cursor=cursor,
    )
    return Page(items=_records(session, page.items), next_cursor=page.next_cursor)


def _visible_delivery(session: Session, actor: Actor, delivery_id: uuid.UUID) -> Delivery:
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or not (actor.is_admin or actor.partner_id == delivery.partner_id):
        raise DeliveryNotFound()
    return delivery


def get_delivery(session: Session, *, actor: Actor, delivery_id: uuid.UUID) -> DeliveryRecord:
    return _records(session, [_visible_delivery(session, actor, delivery_id)])[0]


def retry_delivery(
    session: Session, *, actor: Actor, delivery_id: uuid.UUID, clock: Clock
) -> DeliveryRecord:
    """Send one delivery again now, with a fresh retry schedule and the same webhook-id."""
    delivery = _visible_delivery(session, actor, delivery_id)
    if not actor.can_manage_partner(delivery.partner_id):
        raise PermissionDenied("Only the partner's own people or an admin redeliver.")
    delivery.status = DeliveryStatus.pending
    delivery.attempt_count = 0
    delivery.next_attempt_at = clock.now()
    delivery.leased_by = None
    delivery.lease_until = None
    session.add(delivery)
    session.flush()
    announce(session)
    audit(
        session,
        actor,
        AuditAction.webhook_delivery_retry,
        delivery.id,
        clock=clock,
        partner_id=str(delivery.partner_id),
    )
    return _records(session, [delivery])[0]


# --- pull ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventFeed:
    items: list[WebhookEvent]
    # Where the next read starts: after the last event handed out (or where this one started).
    position: str | None
    has_more: bool


def read_events(
    session: Session,
    *,
    actor: Actor,
    partner_id: uuid.UUID | None,
    after: str | None,
    limit: int,
    types: Sequence[str] = (),
) -> EventFeed:
    """The partner's events in the order they happened, the same ones its endpoints get."""
    if actor.partner_id is not None:
        if partner_id is not None and partner_id != actor.partner_id:
            raise PermissionDenied("A partner reads its own events.")
        partner_id = actor.partner_id
    elif not actor.is_admin:
        raise PermissionDenied("Events are read by partners (and an admin on their behalf).")
    elif partner_id is None:
        raise PermissionDenied("Name the partner whose events to read (partner_id).")
    else:
        get_partner(session, actor=actor, partner_id=partner_id)
    start = 0 if after is None else _event_position(after)
    statement = select(WebhookEvent).where(
        WebhookEvent.partner_id == partner_id, col(WebhookEvent.seq) > start
    )
    if types:
        statement = statement.where(col(WebhookEvent.type).in_(types))
    rows = list(session.exec(statement.order_by(col(WebhookEvent.seq)).limit(limit + 1)))
    has_more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1].seq if rows else start
    assert last is not None
    return EventFeed(items=rows, position=f"{EVENT_CURSOR_PREFIX}{last}", has_more=has_more)


EVENT_CURSOR_PREFIX = "evt_"


def _event_position(cursor: str) -> int:
    """The event number inside a feed cursor (`evt_<number>`)."""
    digits = cursor.removeprefix(EVENT_CURSOR_PREFIX)
    if not cursor.startswith(EVENT_CURSOR_PREFIX) or not digits.isascii() or not digits.isdigit():
        raise InvalidCursor()
    if len(digits) > 18:
        raise InvalidCursor()
    return int(digits)
