"""A partner's webhook endpoints: adding, changing, removing, a new secret, a test ping, and
sending a time range again after an outage."""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from buurtplus.core.actor import Actor
from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.service import audit
from buurtplus.core.clock import Clock
from buurtplus.core.db import check_version, delete_current, flush_or_raise
from buurtplus.core.errors import PermissionDenied
from buurtplus.core.pagination import Page, paginate
from buurtplus.domain.partners.service import get_partner
from buurtplus.domain.webhooks.deliveries import DeliveryRecord, delivery_records
from buurtplus.domain.webhooks.errors import (
    EndpointDisabled,
    EndpointNotFound,
    InvalidTimeRange,
    InvalidWebhookUrl,
    RecoverRangeTooLong,
    StaleEndpoint,
)
from buurtplus.outbox.events import add_deliveries, announce, enqueue_event
from buurtplus.outbox.models import (
    Delivery,
    DeliveryStatus,
    EventType,
    WebhookEndpoint,
    WebhookEvent,
)
from buurtplus.outbox.secrets import generate_secret

# One recovery covers at most this much time; a longer outage is recovered in parts.
MAX_RECOVER_RANGE = timedelta(days=31)


def _require_manager(actor: Actor, partner_id: uuid.UUID) -> None:
    if not actor.can_manage_partner(partner_id):
        raise PermissionDenied("Only the partner's own people or an admin manage its webhooks.")


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
    event_types: Sequence[EventType],
    description: str | None,
    enabled: bool,
    guard: UrlCheck,
    clock: Clock,
) -> IssuedEndpoint:
    get_partner(session, actor=actor, partner_id=partner_id)
    _require_manager(actor, partner_id)
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
    _require_manager(actor, partner_id)
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
    expected_version: int | None,
    guard: UrlCheck,
    clock: Clock,
) -> WebhookEndpoint:
    endpoint = _managed_endpoint(session, actor, partner_id, endpoint_id)
    check_version(endpoint.version, expected_version, StaleEndpoint)
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
    flush_or_raise(session, stale=StaleEndpoint())
    _audit(
        session, actor, AuditAction.webhook_endpoint_update, endpoint, clock, fields=sorted(changes)
    )
    if endpoint.enabled and session.exec(_waiting_events(endpoint).limit(1)).first() is not None:
        announce(session)
    return endpoint


def delete_endpoint(
    session: Session, *, actor: Actor, partner_id: uuid.UUID, endpoint_id: uuid.UUID, clock: Clock
) -> None:
    endpoint = _managed_endpoint(session, actor, partner_id, endpoint_id)
    _audit(session, actor, AuditAction.webhook_endpoint_delete, endpoint, clock)
    delete_current(session, endpoint, gone=EndpointNotFound)
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
    flush_or_raise(session, stale=StaleEndpoint())
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
) -> DeliveryRecord:
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
    return delivery_records(session, [delivery])[0]


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
    events = session.exec(
        select(WebhookEvent)
        .where(
            WebhookEvent.partner_id == partner_id,
            col(WebhookEvent.created_at) >= since,
            col(WebhookEvent.created_at) <= until,
            col(WebhookEvent.type).in_(endpoint.event_types),
            col(WebhookEvent.seq).not_in(_waiting_events(endpoint)),  # on its way already
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


def _waiting_events(endpoint: WebhookEndpoint) -> SelectOfScalar[int]:
    """The events on their way to the endpoint: delivery pending."""
    return select(Delivery.event_seq).where(
        Delivery.endpoint_id == endpoint.id, Delivery.status == DeliveryStatus.pending
    )


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
