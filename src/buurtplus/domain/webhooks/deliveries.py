"""The attempt log: deliveries to a partner's endpoints with every attempt, and redelivery."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from buurtplus.core.actor import Actor
from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.service import audit
from buurtplus.core.clock import Clock
from buurtplus.core.errors import PermissionDenied
from buurtplus.core.pagination import Page, paginate
from buurtplus.domain.partners.service import get_partner
from buurtplus.domain.webhooks.errors import DeliveryNotFound
from buurtplus.outbox.events import announce
from buurtplus.outbox.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    EventType,
    WebhookEvent,
)


@dataclass(frozen=True)
class DeliveryFilter:
    endpoint_id: uuid.UUID | None = None
    status: DeliveryStatus | None = None
    event_type: EventType | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class DeliveryRecord:
    delivery: Delivery
    event: WebhookEvent
    attempts: list[DeliveryAttempt]


def delivery_records(session: Session, deliveries: Sequence[Delivery]) -> list[DeliveryRecord]:
    """Each delivery with its event and its attempts, oldest attempt first."""
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
    return Page(items=delivery_records(session, page.items), next_cursor=page.next_cursor)


def _visible_delivery(session: Session, actor: Actor, delivery_id: uuid.UUID) -> Delivery:
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or not (actor.is_admin or actor.partner_id == delivery.partner_id):
        raise DeliveryNotFound()
    return delivery


def get_delivery(session: Session, *, actor: Actor, delivery_id: uuid.UUID) -> DeliveryRecord:
    return delivery_records(session, [_visible_delivery(session, actor, delivery_id)])[0]


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
    return delivery_records(session, [delivery])[0]
